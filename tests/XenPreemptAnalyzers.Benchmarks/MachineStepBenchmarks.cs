using BenchmarkDotNet.Attributes;
using XenPreempt.Machine;

namespace XenPreemptAnalyzers.Benchmarks;

/// <summary>
/// The simulated machine's hot path: one run of a guest whose stacks each take <see cref="Steps"/> steps, on one
/// vCPU (no OS-thread switch: the baton never moves) and on two whose oracle alternates them at every step (a
/// switch per step, the worst case). With the memory diagnoser: the allocations of a run must not grow with
/// its steps (compare Steps = 1,000 and 10,000), i.e. no allocation per step in the steady state.
/// </summary>
[MemoryDiagnoser]
public class MachineStepBenchmarks
{
    [Params(1_000, 10_000)]
    public int Steps { get; set; }

    [Benchmark(Baseline = true)]
    public long OneCpu() => RunMachine(cpus: 1, DefaultOracle.Instance);

    [Benchmark]
    public long TwoCpusSwitchingEveryStep() => RunMachine(cpus: 2, new AlternatingOracle());

    private long RunMachine(int cpus, IChoiceOracle oracle)
    {
        var machine = new Machine(new MachineConfig { Cpus = cpus, RecordCpuViews = false, MaxSteps = long.MaxValue }, oracle);
        machine.Run(new SteppingGuest(Steps));
        return machine.Steps;
    }

    /// <summary>Each vCPU's stack steps a fixed number of times, then halts until the others are done.</summary>
    private sealed class SteppingGuest(int steps) : IGuest
    {
        private int _finished;
        private int _cpus;

        public bool WorkloadDone => _finished == _cpus;

        public SimThread[] Boot(Machine machine)
        {
            _cpus = machine.Cpus.Length;
            var threads = new SimThread[_cpus];
            for (var i = 0; i < _cpus; i++)
            {
                threads[i] = machine.CreateThread("t" + i, () =>
                {
                    for (var s = 0; s < steps; s++)
                        machine.Step("step");
                    _finished++;
                    while (true)
                        machine.Halt();
                });
            }
            return threads;
        }

        public void EventCallback(UpcallFrame frame) => Machine.CurrentThread.Cpu!.TakePendingPorts();

        public void Exception(ExceptionFrame frame) { }

        public CpuView Describe(int cpu) => new("t", "-", 0, false);
    }

    /// <summary>Picks the vCPU that did not just step, whenever there is a choice.</summary>
    private sealed class AlternatingOracle : IChoiceOracle
    {
        public int Choose(in Choice choice) =>
            choice.Kind == ChoiceKind.NextCpu && choice.Options == 2 ? (choice.Cpu == 0 ? 1 : 0) : choice.Default;
    }
}
