// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Linq;
using XenPreemptAnalyzers;

namespace XenPreempt.Harness.Agreement;

/// <summary>A rule and the invariant that is its runtime twin, with why they are the same bug seen twice.</summary>
public sealed record RulePair(string Rule, string Invariant, string Reason);

/// <summary>A rule or an invariant with no twin on the other side, and why.</summary>
public sealed record Unpaired(string Name, string Reason);

/// <summary>
/// The declared mapping from the analyzers' rules (by their descriptors' ids, <see cref="DiagnosticIds"/>) to the harness's invariants (issue 7, item 2). A
/// rule that fires predicts a violation of one of its invariants in some schedule of the same build;
/// a violated invariant predicts one of its rules firing on the same code.
/// </summary>
public static class Pairing
{
    public static readonly IReadOnlyList<RulePair> Pairs = new RulePair[]
    {
        new(DiagnosticIds.PerCpuStateAcrossPreemption, "flag-owner",
            "Per-CPU state relied on across a point where the task can migrate: when it happens, the state stays on the old CPU and " +
            "another task runs there with it set (or takes the hand-off branch meant for the hypercall task). flag-owner checks, at every " +
            "step, that a CPU's preemptible-hypercall state belongs to the task running there and that only that task changes it."),
        new(DiagnosticIds.PerCpuStateAcrossPreemption, "model-fidelity",
            "The stale state seen from the other side: under none/voluntary the task that next takes an upcall on the old CPU finds " +
            "the state set and is rescheduled by the hand-off, outside any hypercall — a preemption the model forbids."),
        new(DiagnosticIds.PatchableRescheduleOnHypercallPath, "hcall-latency",
            "A patchable reschedule on the hypercall preemption path is a no-op in some modes, so the task inside the hypercall ignores " +
            "need_resched until the hypercall ends: hcall-latency bounds the time between need_resched and the switch (20 ms)."),
        new(DiagnosticIds.PatchableRescheduleOnHypercallPath, "soft-lockup",
            "The same no-op reschedule, long enough (a 30 s toolstack hypercall, scenario c2) for the soft-lockup watchdog to print its line."),
        new(DiagnosticIds.RawRescheduleOnGenericPath, "model-fidelity",
            "A raw reschedule on a generic path overrides preempt=: under none/voluntary a task is preempted at interrupt exit outside any " +
            "hypercall, which model-fidelity reports."),
        new(DiagnosticIds.CheckedPerCpuAccessInPreemptibleCode, "debug-preempt",
            "The static twin of CONFIG_DEBUG_PREEMPT: a checked per-CPU access in preemptible code prints the kernel's " +
            "\"BUG: using __this_cpu_…() in preemptible code\" line, which debug-preempt reads from the console."),
        new(DiagnosticIds.UnbalancedContextAtExit, "region-open",
            "A preemptible-hypercall region begun and not ended on some path: the ioctl returns to the toolstack with the state still set, " +
            "which region-open checks at every IOCTL_PRIVCMD_HYPERCALL return."),
        new(DiagnosticIds.UnbalancedContextAtExit, "flag-owner",
            "The same open region seen later: the state left set belongs to no hypercall, and the next task on that CPU runs with it."),
        new(DiagnosticIds.UnbalancedContextAtExit, "model-fidelity",
            "The open region's state makes the next upcall on that CPU hand off (reschedule) a task outside any hypercall."),
        new(DiagnosticIds.SleepInAtomicContext, "sched-context",
            "Sleeping or voluntary rescheduling with IRQs or preemption disabled: the kernel prints \"BUG: sleeping function called from " +
            "invalid context\" or \"scheduling while atomic\", or (2014 code, which evaded might_sleep) enters schedule() with IRQs off; " +
            "sched-context reports all three."),
    };

    /// <summary>Invariants no rule predicts.</summary>
    public static readonly IReadOnlyList<Unpaired> UnpairedInvariants = new Unpaired[]
    {
        new("kernel-warning",
            "Any other WARNING or kernel BUG line the port prints (for example a scheduler sanity check). These are the kernel's own " +
            "assertions about states the analyzers do not model; a violation is reported as dynamic-only and must be explained."),
        new("panic",
            "The guest panicked. No rule predicts a panic; one in any cell is a dynamic-only disagreement."),
    };

    /// <summary>Rules with no invariant: none — every rule has at least one twin.</summary>
    public static readonly IReadOnlyList<Unpaired> UnpairedRules = Array.Empty<Unpaired>();

    public static IEnumerable<string> InvariantsOf(string rule) => Pairs.Where(p => p.Rule == rule).Select(p => p.Invariant);

    public static IEnumerable<string> RulesOf(string invariant) => Pairs.Where(p => p.Invariant == invariant).Select(p => p.Rule);
}
