// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Linq;
using XenPreemptAnalyzers;

namespace XenPreempt.Harness.Agreement;

/// <summary>
/// A disagreement of the matrix that is understood: which rows, builds and rule/invariant it covers,
/// why the two halves differ there, and an issue-sized note of what would close it.
/// </summary>
public sealed record KnownDisagreement(string Title, IReadOnlyList<string> Rows, IReadOnlyList<string> Builds, string Kind, IReadOnlyList<string> What, string Reason, string WouldClose)
{
    public bool Matches(Discrepancy d) =>
        Rows.Contains(d.Row) && (Builds.Count == 0 || Builds.Contains(d.Build)) && Kind == d.Kind && What.Contains(d.What);
}

/// <summary>Every disagreement the matrix is known to show. A test fails on one not listed here, and on an entry that matches nothing.</summary>
public static class KnownDisagreements
{
    private static readonly string[] Dynamic = { "dynamic", "dynamic-key" };
    private static readonly string[] Static = { "none", "voluntary" };

    public static readonly IReadOnlyList<KnownDisagreement> All = new KnownDisagreement[]
    {
        new("No code fix can compile a region back in (the June 2023 report)",
            new[] { "66a07b44e765+fixes", "4624a14f4daa+fixes" },
            Dynamic, Discrepancy.RemainsAfterFixes, new[] { DiagnosticIds.PatchableRescheduleOnHypercallPath, "hcall-latency" },
            "From 2020 on, the region and its hand-off are under `#if !CONFIG_PREEMPTION`, and PREEMPT_DYNAMIC selects PREEMPTION: in a " +
            "dynamic build `xen_preemptible_hcall_begin()` is an empty stub, nothing hands off, and a long hypercall is rescheduled only " +
            "by `irqentry_exit()`'s `irqentry_exit_cond_resched()`, a no-op in none and voluntary (Per Bilse's report). XPA0002 reports " +
            "it at the begin (\"the preemptible-hypercall region is compiled out\") and the runtime agrees; but no fix is offered, because " +
            "the remedy is the Kconfig guard, so the `+fixes` rows keep both. (4624a14f4daa also has the patchable call in its upcall, " +
            "which the fix renames: dead code in this build, so the latency stays.)",
            "A code fix on the compiled-out diagnostic that rewrites the guard of the stub's `#if` (`!CONFIG_PREEMPTION` → " +
            "`!CONFIG_PREEMPTION || CONFIG_PREEMPT_DYNAMIC`, the June 2023 proposal's first change). Its result is the june2023 variant, " +
            "where XPA0001 fires and the move-to-task fix then gives our fix: a two-step chain the agreement rows would show."),


        new("After 7dadeaa6e851 (v7.0) only full and lazy exist; the analyzers' dynamic model still has none and voluntary",
            new[] { "7dadeaa6e851", "7dadeaa6e851+fixes" }, Dynamic, Discrepancy.StaticOnly, new[] { DiagnosticIds.PatchableRescheduleOnHypercallPath },
            "The analyzers analyse a PREEMPT_DYNAMIC build for the worst of all four modes, and its symbols do not say that v7.0 removed " +
            "none and voluntary on x86. What XPA0002 reports in 4624a14f4daa's code, which this variant runs — the compiled-out region " +
            "and the patchable call in the upcall — starves a hypercall only in the modes that no longer exist. The fixes rename the " +
            "upcall's call; the compiled-out region has no fix, so the `+fixes` row keeps it.",
            "Let the model be a set of modes: `xen_preempt.preemption_model = full,lazy` in .editorconfig, or a Kconfig symbol for the " +
            "restriction (e.g. `CONFIG_ARCH_NO_PREEMPT_VOLUNTARY`-style) that narrows `dynamic` to the modes the build can run."),

        new("A nested upcall in softirq context (scenario c3)",
            new[] { "2020-irq-enable", "2020-irq-enable+fixes" }, Static, Discrepancy.DynamicOnly, new[] { "sched-context" },
            "tglx's 2020 change re-enables IRQs around `cond_resched()` in the callback, which is right for a task interrupted in process " +
            "context. But the callback is also entered when a softirq's own hypercall is preempted by Xen, with preempt_count holding " +
            "SOFTIRQ_OFFSET while the outer task's state is still set: it reschedules in atomic context. The analyzers see IRQs enabled " +
            "before the call and have no fact about the preempt_count of the context an `[IrqContext]` method interrupts. No fix is " +
            "offered, so the `+fixes` row keeps it.",
            "An entry-context fact \"may interrupt atomic context\" for `[IrqContext]` methods: XPA0006 on a voluntary reschedule reached " +
            "from such an entry unless it is guarded by `preempt_count() == 0` (the 2020 stable fix, which XPA0006's guard fix already writes)."),

        new("Per-CPU state with a correct hand-off on PV and PVH: correct on x86 today, reported as fragile",
            new[] { "ours~percpu-handoff" }, new[] { "full", "lazy", "dynamic", "dynamic-key" }, Discrepancy.StaticOnly, new[] { DiagnosticIds.PerCpuStateAcrossPreemption },
            "XPA0001 is Peter Zijlstra's objection as a rule: a per-CPU write in preemptible code is relied on until the hypercall, and " +
            "the task may be switched in between. On x86 no route does that except the upcall's hand-off, which this mutant has on PV " +
            "and on the PVH vector: kernel-mode int3/#DB are NMI-like and never reschedule, and nothing traceable runs inside the bracket " +
            "(the helpers are `static inline`, i.e. notrace; the hypercall is an asm stub). So no schedule breaks an invariant, and the " +
            "harness shows it correct (docs/harness.md, routes). The rule stays right about the design: correctness rests on the " +
            "absence of every other route, not on the code in the bracket.",
            "Nothing in the analyzers: the rule reports a real hazard. The disagreement would close if a route appeared (a traceable " +
            "helper, a new entry path), which the harness would then model; or if the state moved to the task (our fix)."),

        new("Mutant `injected-preemption` in a static none/voluntary build: XPA0003 has nothing to compare there",
            new[] { "ours~injected-preemption" }, Static, Discrepancy.DynamicOnly, new[] { "model-fidelity" },
            "XPA0003 follows the upcall path by path and reports the mutant's raw call on the `else` branch in dynamic builds. In a " +
            "static none or voluntary build there is no patchable twin whose mode the raw call overrides (the rule's premise), so it is " +
            "silent, while the runtime sees every upcall preempt a task the model says must not be preempted.",
            "A separate finding for static none/voluntary: a reschedule reached on a path proven off the hypercall path in a " +
            "`[HypercallPreemptionPoint]` method preempts where the model forbids it, whatever the variant (XPA0003's path sensitivity is in place)."),
    };
}
