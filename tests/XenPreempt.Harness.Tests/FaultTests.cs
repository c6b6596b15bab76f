// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using XenPreempt.Harness.Exploration;
using XenPreempt.Machine;
using Xunit;

namespace XenPreempt.Harness.Tests;

/// <summary>
/// The harness under faults: injected misbehaviour never crashes the simulator, an internal error is
/// exit 3 with the trace so far, the limits end every run, and faults replay exactly.
/// </summary>
public class FaultTests
{
    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        return (Program.Run(args, o, e), o.ToString(), e.ToString());
    }

    /// <summary>One run of the port: <paramref name="tasks"/> on a small machine, under <paramref name="oracle"/>.</summary>
    private static ExecutionResult RunPort(string config, string tasks, MachineConfig machine, IChoiceOracle oracle, string variant = "ours")
    {
        var cfg = KernelConfigs.Find(config)!;
        var workload = Workloads.Standard with { Tasks = tasks };
        return Execution.Run(PortBuilder.Get(cfg), ScenarioRunner.Cmdline(workload, variant, cfg), machine, oracle);
    }

    private static readonly MachineConfig OneCpu = new() { Cpus = 1, MaxTimeNs = 200_000_000, MaxSteps = 50_000 };

    private static bool Traced(ExecutionResult r, string text) => r.Machine.Trace.Entries.Any(e => e.Detail.Contains(text, StringComparison.Ordinal));

    // Frozen from the commit before faults existed: with no fault enabled nothing may change.
    [Theory]
    [InlineData("c1", "june2023", "dynamic-full", null, "5884d5a06a88f7dc")] // re-frozen: c1 became the PVH route (issue 13)
    [InlineData("c3", "2020-irq-enable", "none", null, "439e950e35d7db6a")] // its BUG line names a source line of variants/2020-irq-enable.cs
    [InlineData("c2", "4624a14f4daa", "dynamic-none", null, "a37755c218eb2216")]
    [InlineData("c1", "ours", "dynamic-full", 11UL, "e9dff26a09383ee8")] // re-frozen: c1 became the PVH route (issue 13)
    public void WithoutFaults_RunsAreTheSameAsBeforeFaultsExisted(string scenario, string variant, string config, ulong? seed, string hash)
    {
        var r = ScenarioRunner.Run(Scenarios.Find(scenario)!, variant, KernelConfigs.Find(config)!, seed);
        Assert.Equal(hash, r.TraceHash.ToString("x16"));
        Assert.DoesNotContain(r.Choices, c => c.Kind == ChoiceKind.InjectFault);
    }

    public static TheoryData<string> FaultSets()
    {
        var d = new TheoryData<string>();
        foreach (var name in FaultOptions.ListedNames)
            d.Add(name);
        d.Add(string.Join(',', FaultOptions.ListedNames));
        return d;
    }

    /// <summary>
    /// The property: every variant under six models, two seeds, with the faults striking often
    /// (up to 3 per run, 5% where offered): every run ends by completing, at a limit, or in a panic
    /// the checker reports — never an internal error. And the faults really struck.
    /// </summary>
    [Theory]
    [MemberData(nameof(FaultSets))]
    public void RandomFaults_NeverCrashTheSimulator(string faultList)
    {
        Assert.True(FaultOptions.TryParse(new[] { faultList }, out var faults, out _));
        var struck = 0;
        var runs = 0;
        foreach (var configName in new[] { "none", "voluntary", "full", "lazy", "dynamic-none", "dynamic-full" })
        {
            var config = KernelConfigs.Find(configName)!;
            var build = PortBuilder.Get(config);
            foreach (var (variant, _) in build.Variants)
            {
                if (!KernelConfigs.Supports(variant, config))
                    continue;
                var workload = FaultOptions.ApplyToWorkload(Workloads.Standard, faults);
                var machine = Explorer.MachineFor(Workloads.Standard, 2, 3, 20_000, faults);
                for (ulong seed = 1; seed <= 2; seed++)
                {
                    var r = Execution.Run(build, ScenarioRunner.Cmdline(workload, variant, config), machine, new RandomOracle(seed * 7919 + (ulong)runs, 0.05));
                    runs++;
                    Assert.True(r.Run.Outcome != RunOutcome.InternalError, $"{variant}/{configName}/{faultList} seed {seed}: {r.Run.Message}\n{r.Run.Error}");
                    Assert.Contains(r.Run.Outcome, new[] { RunOutcome.Completed, RunOutcome.StepLimit, RunOutcome.TimeLimit, RunOutcome.Panic });
                    if (Traced(r, "fault") || Traced(r, "injected failure") || r.Machine.Trace.Entries.Any(e => e.Kind == "fault") || Traced(r, "spinner"))
                        struck++;
                }
            }
        }
        Assert.True(struck >= runs / 4, $"faults struck in only {struck} of {runs} runs: the property says nothing");
    }

    [Fact]
    public void Explore_WithEveryFault_AndEveryStrategy_EndsInAVerdict()
    {
        var (code, output, error) = Cli("explore", "--variant", "ours", "4624a14f4daa", "--config", "dynamic-none", "dynamic-full", "--strategy", "dfs", "pct", "random",
            "--iterations", "10", "--time-limit", "60", "--max-injections", "2", "--faults", string.Join(',', FaultOptions.ListedNames));
        Assert.True(code is Program.ExitOk or Program.ExitViolation, $"exit {code}: {error}\n{output}");
        Assert.Contains("harness: ", output);
    }

    [Fact]
    public void NeverYield_IsASoftLockupUnderNone_AndPreemptedUnderFull()
    {
        // One CPU, a spinner alone on it, 21 s of simulated time: the 20 s watchdog has its chance.
        var machine = OneCpu with { MaxTimeNs = 21_000_000_000, MaxSteps = 100_000 };
        var none = RunPort("none", FaultOptions.NeverYieldTask, machine, DefaultOracle.Instance);
        Assert.Equal(RunOutcome.TimeLimit, none.Run.Outcome);
        Assert.Contains(none.Violations, v => v.Invariant == "soft-lockup" && v.Message.Contains("[spinner:"));
        var full = RunPort("full", FaultOptions.NeverYieldTask, machine, DefaultOracle.Instance);
        Assert.Equal(RunOutcome.TimeLimit, full.Run.Outcome);
        Assert.Empty(full.Violations);
        Assert.Contains(full.Machine.Trace.Entries, e => e.Kind == "preempt" && e.Task == "spinner");
    }

    [Fact]
    public void ARunThatNeverEnds_IsEndedByTheStepLimit_AndByTheTimeLimit()
    {
        var bySteps = RunPort("none", FaultOptions.NeverYieldTask, OneCpu with { MaxSteps = 500, MaxTimeNs = 10_000_000_000 }, DefaultOracle.Instance);
        Assert.Equal(RunOutcome.StepLimit, bySteps.Run.Outcome);
        Assert.Equal(500, bySteps.Run.Steps);
        var byTime = RunPort("none", FaultOptions.NeverYieldTask, OneCpu with { MaxTimeNs = 50_000_000 }, DefaultOracle.Instance);
        Assert.Equal(RunOutcome.TimeLimit, byTime.Run.Outcome);
        Assert.InRange(byTime.Run.TimeNs, 50_000_000, 52_000_000);
    }

    [Fact]
    public void AScheduleThatNeverEnds_GetsAVerdictAtTheStepLimit()
    {
        // c5's workload plus a task that never ends, at most 3000 steps (the token carries the limit).
        var token = new ReplayToken("ours", "none", "c5~2~0~3000~~never-yield", Array.Empty<int>()).Encode();
        var (code, output, error) = Cli("replay", "--token", token);
        Assert.True(code == Program.ExitOk, error + output);
        Assert.Contains("outcome  StepLimit after 3000 steps", output);
        Assert.Contains("step limit 3000 reached", output);
        Assert.Contains("verdict  OK", output);
    }

    [Fact]
    public void HypercallFailure_EAGAIN_IsRetriedByTheToolstack_EFAULT_GoesBackToIt()
    {
        var machine = OneCpu with { Faults = Faults.HypercallFailure, FaultBudget = 1 };
        var eagain = RunPort("none", "xl:hcall:0:10", machine, new RuleOracle().When(c => c.Kind == ChoiceKind.InjectFault && c.Site == "xen:domctl", _ => 1));
        Assert.Equal(RunOutcome.Completed, eagain.Run.Outcome);
        Assert.True(Traced(eagain, "domctl done: -11 (EAGAIN"), "no EAGAIN in the trace");
        Assert.Equal(2, eagain.Machine.Trace.Entries.Count(e => e.Detail.Contains("IOCTL_PRIVCMD_HYPERCALL", StringComparison.Ordinal)));
        Assert.Equal("ioctl done ret=0", eagain.Machine.Trace.Entries.Last(e => e.Kind == "privcmd").Detail.Split(' ', 2)[1]);
        Assert.Empty(eagain.Violations);

        var efault = RunPort("none", "xl:hcall:0:10", machine, new RuleOracle().When(c => c.Kind == ChoiceKind.InjectFault && c.Site == "xen:domctl", _ => 2));
        Assert.Equal(RunOutcome.Completed, efault.Run.Outcome);
        Assert.Single(efault.Machine.Trace.Entries, e => e.Detail.Contains("IOCTL_PRIVCMD_HYPERCALL", StringComparison.Ordinal));
        Assert.True(Traced(efault, "ioctl done ret=-14"), "the error did not reach the ioctl's caller");
        Assert.Empty(efault.Violations);
    }

    [Fact]
    public void HypercallFailure_InTheDriver_DropsThePacket()
    {
        var machine = OneCpu with { Faults = Faults.HypercallFailure, FaultBudget = 1, EventBudget = 1 };
        var oracle = new RuleOracle()
            .When(c => c.Kind == ChoiceKind.InjectEvent, _ => 1)
            .When(c => c.Kind == ChoiceKind.InjectFault && c.Site == "xen:HYPERVISOR_memory_op", _ => 1);
        var r = RunPort("none", "xl:hcall:0:10,kworker/0:2:netwq:0:1", machine, oracle);
        Assert.Equal(RunOutcome.Completed, r.Run.Outcome);
        Assert.True(Traced(r, "NET_RX: driver hypercall failed (-11): packet dropped"), "the driver did not see the failure");
        Assert.Empty(r.Violations);
    }

    [Fact]
    public void SpuriousUpcall_FindsNoPort_AndChangesNothing()
    {
        var machine = OneCpu with { Faults = Faults.SpuriousEvents, FaultBudget = 1 };
        var r = RunPort("none", "xl:hcall:0:10", machine, new RuleOracle().When(c => c.Kind == ChoiceKind.InjectFault, _ => 1));
        Assert.Equal(RunOutcome.Completed, r.Run.Outcome);
        Assert.True(Traced(r, "spurious upcall on vCPU0"), "no spurious upcall");
        Assert.Empty(r.Violations);
    }

    [Fact]
    public void EventStorm_RaisesItsEvents_OneAfterAnother_AndEnds()
    {
        var machine = OneCpu with { Faults = Faults.EventStorm, FaultBudget = 1, StormEvents = 12 };
        var r = RunPort("none", "xl:hcall:0:40,kworker/0:2:netwq:0:1", machine, new RuleOracle().When(c => c.Kind == ChoiceKind.InjectFault, _ => 1));
        Assert.Equal(RunOutcome.Completed, r.Run.Outcome);
        Assert.True(Traced(r, "event storm starts on vCPU0 (12 device events)"));
        Assert.True(Traced(r, "event storm on vCPU0 ends"));
        // The storm's events are taken by upcalls (nested ones inside the softirq's own hypercall
        // coalesce into its pending bit), so the network softirq runs more than once.
        Assert.True(r.Machine.Trace.Entries.Count(e => e.Detail.StartsWith("NET_RX: queue work", StringComparison.Ordinal)) >= 2);
        Assert.Empty(r.Violations);
    }

    [Fact]
    public void NestedIrq_ArrivesInsideAnEventCallback_AndIsTakenThere()
    {
        // A device event during xl's hypercall runs the network softirq, whose driver hypercall is
        // inside the event callback: the nested interrupt arrives there, and Xen preempts the
        // driver's hypercall to deliver it (a nested upcall in softirq context).
        var machine = OneCpu with { Faults = Faults.NestedIrq, FaultBudget = 1, EventBudget = 1 };
        var oracle = new RuleOracle().When(c => c.Kind == ChoiceKind.InjectEvent, _ => 1).When(c => c.Kind == ChoiceKind.InjectFault, _ => 1);
        var r = RunPort("none", "xl:hcall:0:20,kworker/0:2:netwq:0:1", machine, oracle);
        Assert.Equal(RunOutcome.Completed, r.Run.Outcome);
        var entries = r.Machine.Trace.Entries;
        int nested = entries.FindIndex(e => e.Detail.StartsWith("nested irq: device event on vCPU0", StringComparison.Ordinal));
        Assert.True(nested >= 0, "no nested irq");
        Assert.Contains(entries.Skip(nested), e => e.Detail.StartsWith("HYPERVISOR_memory_op continuation", StringComparison.Ordinal));
        Assert.Empty(r.Violations);
    }

    [Fact]
    public void FaultsTravelInTheToken_AndReplayTheSameRun()
    {
        var cell = Explorer.Run(new ExploreOptions
        {
            Variants = new[] { "4624a14f4daa" },
            Configs = new[] { KernelConfigs.Find("dynamic-none")! },
            Strategies = new[] { "random" },
            Iterations = 5,
            TimeLimitSeconds = 3600, // a hang guard only: the iteration count ends the run
            MaxInjections = 3,
            Faults = new[] { "spurious-events", "hcall-fail", "never-yield" },
        }).Single();
        var found = cell.Violations.First();
        Assert.EndsWith("~~spurious-events+hcall-fail+never-yield", found.Token.Workload);
        Assert.True(ReplayToken.TryDecode(found.Token.Encode(), out var decoded, out _));
        var (workload, _, replay) = Explorer.Replay(decoded!);
        Assert.Contains(FaultOptions.NeverYieldTask, workload.Tasks);
        Assert.Contains(replay.Violations, v => v.Invariant == found.Violation.Invariant && v.Step == found.Violation.Step);
    }

    [Fact]
    public void OldTokens_WithoutFaults_StillReplay()
    {
        // Recorded before faults existed (docs and bug reports hold tokens like it).
        var token = new ReplayToken("4624a14f4daa", "dynamic-none", "std~2~1~20000", Array.Empty<int>()).Encode();
        var (code, output, _) = Cli("replay", "--token", token, "--verbose");
        Assert.Equal(Program.ExitViolation, code);
        Assert.Contains("[hcall-latency]", output);
    }

    [Fact]
    public void InternalError_InAScenario_IsExitThree_WithTheTraceSoFar()
    {
        var (code, output, _) = Cli("scenario", "c1", "--variant", "ours", "--config", "none", "--faults", "internal-error");
        Assert.Equal(Program.ExitInternal, code);
        Assert.Contains("cpu0 [cur hcall pc irq]", output);
        Assert.Contains("outcome  InternalError", output);
        Assert.Contains("verdict  INTERNAL ERROR: MachineAssertionException", output);
        Assert.Contains("IOCTL_PRIVCMD_HYPERCALL", output); // rows from before the failure
    }

    [Fact]
    public void InternalError_InExplore_IsExitThree_WithItsTokenAndTheTraceSoFar_AndTheTokenReplaysIt()
    {
        var (code, output, error) = Cli("explore", "--variant", "ours", "--config", "none", "--strategy", "dfs", "--iterations", "5", "--faults", "internal-error");
        Assert.Equal(Program.ExitInternal, code);
        Assert.Contains("internal error in ours/none/dfs schedule 1: MachineAssertionException", error);
        Assert.Contains("trace so far:", output);
        Assert.Contains("cpu0 [cur hcall pc irq]", output);
        var token = Regex.Match(output, @"token   (xh1\.\S+)").Groups[1].Value;
        Assert.Contains("~~internal-error.", token);
        var (replayCode, replay, _) = Cli("replay", "--token", token);
        Assert.Equal(Program.ExitInternal, replayCode);
        Assert.Contains("faults   internal-error", replay);
        Assert.Contains("verdict  INTERNAL ERROR", replay);
        var (minimizeCode, minimized, _) = Cli("minimize", "--token", token);
        Assert.Equal(Program.ExitInternal, minimizeCode);
        Assert.Contains("trace so far:", minimized);
    }

    [Fact]
    public void InternalError_HelpIsSilentAboutIt()
    {
        var (_, help, _) = Cli("explore", "--help");
        Assert.Contains("--faults", help);
        Assert.DoesNotContain("internal-error", help);
        var (_, list, _) = Cli("list");
        Assert.Contains("never-yield", list);
        Assert.DoesNotContain("internal-error", list);
    }

    /// <summary>A guest whose one thread records a few events, then fails as port code would.</summary>
    private sealed class ThrowingGuest(Action<Machine.Machine> fail) : IGuest
    {
        public bool WorkloadDone => false;

        public SimThread[] Boot(Machine.Machine machine) => new[]
        {
            machine.CreateThread("t0", () =>
            {
                for (int i = 0; i < 5; i++)
                {
                    machine.Step("before");
                    machine.Trace.Record("test", $"step {i}");
                }
                fail(machine);
            }),
        };

        public void EventCallback(UpcallFrame frame) => Machine.Machine.CurrentThread.Cpu!.TakePendingPorts();
        public void Exception(ExceptionFrame frame) { }
        public CpuView Describe(int cpu) => new("t0", "-", 0, false);
    }

    [Fact]
    public void AnExceptionFromGuestCode_EndsTheRunAsAnInternalError_KeepingTheTrace()
    {
        var machine = new Machine.Machine(new MachineConfig { Cpus = 1 }, DefaultOracle.Instance);
        var r = machine.Run(new ThrowingGuest(_ => throw new InvalidOperationException("a bug in the port")));
        Assert.Equal(RunOutcome.InternalError, r.Outcome);
        Assert.IsType<InvalidOperationException>(r.Error);
        Assert.Contains("a bug in the port", r.Message);
        Assert.Equal(5, machine.Trace.Entries.Count(e => e.Kind == "test"));
    }

    [Fact]
    public void AGuestStuckBetweenTwoSteps_EndsTheRunAsAnInternalError()
    {
        using var release = new ManualResetEventSlim(false);
        var machine = new Machine.Machine(new MachineConfig { Cpus = 1, StallTimeout = TimeSpan.FromMilliseconds(300) }, DefaultOracle.Instance);
        try
        {
            // Blocked, not spinning: a deadlock in guest code (no primitive, so no step, ever).
            var r = machine.Run(new ThrowingGuest(_ => release.Wait()));
            Assert.Equal(RunOutcome.InternalError, r.Outcome);
            Assert.Contains("made no step", r.Message);
            Assert.Equal(5, machine.Trace.Entries.Count(e => e.Kind == "test"));
        }
        finally
        {
            release.Set(); // let the abandoned thread go
        }
    }

    [Fact]
    public void WithFaults_TheSameCommand_GivesTheSameTrace_InTwoProcesses()
    {
        string[] args = { "scenario", "c3", "--variant", "ours", "--config", "dynamic-full", "--seed", "2", "--faults", "spurious-events,event-storm,nested-irq,hcall-fail" };
        var inProcess = ScenarioRunner.Run(Scenarios.Find("c3")!, "ours", KernelConfigs.Find("dynamic-full")!, 2,
            faults: new[] { "spurious-events", "event-storm", "nested-irq", "hcall-fail" });
        Assert.Contains(inProcess.Trace, e => e.Kind == "fault" || e.Detail.Contains("injected failure", StringComparison.Ordinal));
        string Hash()
        {
            var (code, output, error) = HarnessProcess.Run(null, args);
            Assert.True(code is Program.ExitOk or Program.ExitViolation, error);
            var m = Regex.Match(output, "trace hash ([0-9a-f]{16})");
            Assert.True(m.Success, output);
            return m.Groups[1].Value;
        }
        Assert.Equal(inProcess.TraceHash.ToString("x16"), Hash());
        Assert.Equal(inProcess.TraceHash.ToString("x16"), Hash());
    }
}
