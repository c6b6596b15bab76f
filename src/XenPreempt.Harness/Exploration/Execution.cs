// SPDX-License-Identifier: MIT
using System.Collections.Generic;
using XenPreempt.Machine;

namespace XenPreempt.Harness.Exploration;

/// <summary>What one schedule (one run of the machine) produced.</summary>
public sealed record ExecutionResult(
    RunResult Run,
    IReadOnlyList<Violation> Violations,
    long MaxHypercallLatencyNs,
    ulong TraceHash,
    Machine.Machine Machine,
    IReadOnlyList<ChoiceRecord> Choices);

/// <summary>One schedule: boot a guest of a build, run it under an oracle, check the invariants.</summary>
public static class Execution
{
    public static ExecutionResult Run(PortBuild build, string cmdline, MachineConfig machineConfig, IChoiceOracle oracle)
    {
        var guest = build.CreateGuest(cmdline);
        var recorder = new RecordingOracle(oracle);
        var machine = new Machine.Machine(machineConfig, recorder);
        var checker = new Checker(Checker.DefaultLatencyBoundNs, build.Config.IsNonPreemptive);
        checker.Attach(machine);
        var run = machine.Run(guest);
        checker.Finish(run.TimeNs);
        var violations = new List<Violation>(checker.Violations);
        // The workload's own invariants (a user's), after the built-in ones; one at the end of the run is marked at its last step.
        foreach (var f in machine.FinishInvariants(run))
            violations.Add(new Violation(f.Invariant, f.Message, f.Step < 0 ? run.Steps : f.Step, f.Step < 0 ? run.TimeNs : f.TimeNs));
        if (run.Outcome is RunOutcome.Panic)
            violations.Add(new Violation("panic", run.Message ?? "kernel panic", run.Steps, run.TimeNs));
        return new ExecutionResult(run, violations, checker.MaxHypercallLatencyNs, machine.Trace.Hash, machine, recorder.Log);
    }
}
