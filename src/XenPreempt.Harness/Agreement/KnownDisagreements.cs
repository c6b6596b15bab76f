// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Linq;

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
            Dynamic, Discrepancy.RemainsAfterFixes, new[] { "XPA0002", "hcall-latency" },
            "From 2020 on, the region and its hand-off are under `#if !CONFIG_PREEMPTION`, and PREEMPT_DYNAMIC selects PREEMPTION: in a " +
            "dynamic build `xen_preemptible_hcall_begin()` is an empty stub, nothing hands off, and a long hypercall is rescheduled only " +
            "by `irqentry_exit()`'s `irqentry_exit_cond_resched()`, a no-op in none and voluntary (Per Bilse's report). XPA0002 reports " +
            "it at the begin (\"the preemptible-hypercall region is compiled out\") and the runtime agrees; but no fix is offered, because " +
            "the remedy is the Kconfig guard, so the `+fixes` rows keep both. (4624a14f4daa also has the patchable call in its upcall, " +
            "which the fix renames: dead code in this build, so the latency stays.)",
            "A code fix on the compiled-out diagnostic that rewrites the guard of the stub's `#if` (`!CONFIG_PREEMPTION` → " +
            "`!CONFIG_PREEMPTION || CONFIG_PREEMPT_DYNAMIC`, the June 2023 proposal's first change). Its result is the june2023 variant, " +
            "where XPA0001 fires and the move-to-task fix then gives our fix: a two-step chain the agreement rows would show."),

        new("DEBUG_PREEMPT's line comes from inside the region's helper (the June 2023 patch without its item 3)",
            new[] { "june2023~without-item3" }, new[] { "dynamic" }, Discrepancy.DynamicOnly, new[] { "debug-preempt" },
            "The `__this_cpu_write()` that prints \"BUG: using __this_cpu_write() in preemptible code\" is inside " +
            "`xen_preemptible_hcall_set()`, called by the recognised begin helper. The analyzers recognise the begin by name as the " +
            "region's operation and do not look into its body; XPA0001 fires at the very call (the same mistake, seen as the migration " +
            "race), XPA0004 does not. (No shipped variant prints the line under a build it met: only this draft does.)",
            "For a recognised begin/end with a body in the compilation, check its checked per-CPU accesses in the caller's context (the " +
            "one-level see-through helpers already get), so XPA0004 reports the call in `privcmd_ioctl_hypercall` with the helper's access named."),

        new("After 7dadeaa6e851 (v7.0) only full and lazy exist; the analyzers' dynamic model still has none and voluntary",
            new[] { "7dadeaa6e851", "7dadeaa6e851+fixes" }, Dynamic, Discrepancy.StaticOnly, new[] { "XPA0002" },
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
            new[] { "ours~percpu-handoff" }, new[] { "full", "lazy", "dynamic", "dynamic-key" }, Discrepancy.StaticOnly, new[] { "XPA0001" },
            "XPA0001 is Peter Zijlstra's objection as a rule: a per-CPU write in preemptible code is relied on until the hypercall, and " +
            "the task may be switched in between. On x86 no route does that except the upcall's hand-off, which this mutant has on PV " +
            "and on the PVH vector: kernel-mode int3/#DB are NMI-like and never reschedule, and nothing traceable runs inside the bracket " +
            "(the helpers are `static inline`, i.e. notrace; the hypercall is an asm stub). So no schedule breaks an invariant, and the " +
            "harness shows it correct (docs/harness.md, routes). The rule stays right about the design: correctness rests on the " +
            "absence of every other route, not on the code in the bracket.",
            "Nothing in the analyzers: the rule reports a real hazard. The disagreement would close if a route appeared (a traceable " +
            "helper, a new entry path), which the harness would then model; or if the state moved to the task (our fix)."),

        new("Mutant `no-clear`: a hand-off that reschedules without clearing per-CPU state",
            new[] { "ours~no-clear" }, Static, Discrepancy.DynamicOnly, new[] { "flag-owner", "model-fidelity" },
            "Under none and voluntary the upcall's reschedule is the only point where the task can be switched, and XPA0001 treats the " +
            "upcall's reschedule as the hand-off: it recognises the clear → reschedule → restore pattern when present but does not report " +
            "its absence. The state set with `raw_cpu_write` stays on the old CPU. In preemptible builds XPA0001 fires on this mutant.",
            "In a `[HypercallPreemptionPoint]` method, report XPA0001 at a reschedule reached while per-CPU preemptible-hypercall state may " +
            "still be set (not cleared on every path before it); the re-read/move-to-task fixes apply unchanged."),

        new("Mutant `injected-preemption`: a raw reschedule on the callback's generic branch",
            new[] { "ours~injected-preemption" }, new[] { "none", "voluntary", "dynamic", "dynamic-key" }, Discrepancy.DynamicOnly, new[] { "model-fidelity" },
            "XPA0003 exempts the whole `[HypercallPreemptionPoint]` method, but the mutant's raw call is on the `else` branch, where the " +
            "task is not in a preemptible hypercall: every upcall preempts, whatever `preempt=` says.",
            "Make XPA0003 path-sensitive as XPA0002 is: inside a preemption-point method, a raw reschedule reached only when the " +
            "hypercall state is known clear is on a generic path."),
    };
}
