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
            new[] { "2020-irq-enable+fixes", "2020-fixes+fixes", "66a07b44e765+fixes", "4624a14f4daa+fixes" },
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

        new("2014's `_cond_resched()` is a no-op under full and lazy, where interrupt exit preempts anyway",
            new[] { "fdfd811ddde3" }, new[] { "lazy", "dynamic", "dynamic-key" }, Discrepancy.StaticOnly, new[] { "XPA0002", "XPA0006" },
            "XPA0002 reports `_cond_resched()` on the hypercall preemption path because PREEMPT_DYNAMIC patches it to nothing in full and " +
            "lazy. That is true, and harmless: in exactly those modes the callback returns through `irqentry_exit()`, which preempts the " +
            "task in its hypercall. No schedule starves it, so hcall-latency never breaks. For the same reason XPA0006 has no twin in a " +
            "static lazy build: `_cond_resched()` with IRQs off is the 2014 bug, but patched to nothing it never schedules (in a dynamic " +
            "build the none and voluntary modes show it).",
            "Subtract from a patchable call's no-op modes the modes in which irq-exit preemption is on: a voluntary reschedule " +
            "(`cond_resched`, `might_resched`) on the hypercall preemption path is then never reported, an irq-exit one " +
            "(`irqentry_exit_cond_resched`) still is in none and voluntary. A change to `PreemptionModelFacts` and XPA0002's tests."),

        new("Under lazy, the migration race needs an RT wake-up the scheduler model lacks",
            new[] { "june2023" }, new[] { "lazy" }, Discrepancy.StaticOnly, new[] { "XPA0001" },
            "XPA0001 is right: under lazy the task can be preempted between the begin and the hypercall. But a fair task's wake-up only " +
            "sets the lazy bit, which the tick promotes inside an upcall — and an upcall inside the bracket takes the correct hand-off. " +
            "The race needs a wake-up that sets TIF_NEED_RESCHED at once (an RT task); the model has fair tasks only, so no schedule " +
            "shows it (27,000–127,000 schedules tried, docs/harness.md).",
            "An RT scheduling class in the port's scheduler (wake-up preemption with TIF_NEED_RESCHED under lazy) and an RT task kind in " +
            "`--tasks`; then scenario c1 with an RT waker under lazy."),

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

        new("Mutant `injected-preemption` in a static none/voluntary build: XPA0003 has nothing to compare there",
            new[] { "ours~injected-preemption" }, Static, Discrepancy.DynamicOnly, new[] { "model-fidelity" },
            "XPA0003 follows the upcall path by path and reports the mutant's raw call on the `else` branch in dynamic builds. In a " +
            "static none or voluntary build there is no patchable twin whose mode the raw call overrides (the rule's premise), so it is " +
            "silent, while the runtime sees every upcall preempt a task the model says must not be preempted.",
            "A separate finding for static none/voluntary: a reschedule reached on a path proven off the hypercall path in a " +
            "`[HypercallPreemptionPoint]` method preempts where the model forbids it, whatever the variant (XPA0003's path sensitivity is in place)."),
    };
}
