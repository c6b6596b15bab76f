using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using XenPreemptAnalyzers.Flow;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Rules;

/// <summary>
/// XPA0005: a path leaves the method with preemption, migration, IRQs or the preemptible-hypercall region
/// not as it found them, unless the method's own contract (its name, attributes or summary) says so.
/// Balance is relative to entry, so it needs no annotation; an unannotated method is assumed entered
/// with IRQs on.
/// </summary>
internal sealed class Xpa0005UnbalancedContextAtExit : PreemptRule
{
    public override DiagnosticDescriptor Descriptor => Descriptors.XPA0005;

    public override void Report(FlowResult result, Action<Diagnostic> report)
    {
        // A straight-line body has one path: its net effect is its contract (an acquire or release helper).
        if (result.OwnEffect.IsSummary)
            return;
        // The body of a name-table primitive with a context contract (a port's own preempt_enable,
        // local_irq_restore, …) is the implementation of the counter the analysis models by name: it
        // changes the state directly, so it cannot balance against its own contract.
        if (result.ImplementsContextPrimitive)
            return;
        var reported = new HashSet<(Location, ContextImbalance)>();
        var name = result.Method?.Name ?? "lambda";
        foreach (var exit in result.Exits.OrderBy(e => e.Site.SourceSpan.Start))
        {
            foreach (var (kind, text, rebalance, acquire) in Imbalances(result, exit))
            {
                if (reported.Add((exit.Site, kind)))
                {
                    report(Diagnostic.Create(Descriptor, exit.Site,
                        Properties(result, (DiagnosticProperties.Imbalance, DiagnosticProperties.Write(kind)), (DiagnosticProperties.Rebalance, rebalance), (DiagnosticProperties.Acquire, acquire)),
                        name, text, Model(result)));
                }
            }
        }
    }

    /// <summary>Each imbalance, with the call that restores it at the exit and the call that began it (for the code fixes).</summary>
    private static IEnumerable<(ContextImbalance Kind, string Text, string? Rebalance, string? Acquire)> Imbalances(FlowResult result, MethodExit exit)
    {
        var state = exit.State;
        var contract = result.OwnEffect;
        if (contract.DisablesPreemptionWhenReturns is { } acquiredWhen)
        {
            // A conditional acquire: disabled one level on the exits that return the contract's value, balanced on the others.
            if (ReturnedBool(exit) is not { } returned)
                yield break; // the result is not known here: neither side can be held to the contract
            contract = contract with { PreemptDelta = returned == acquiredWhen ? 1 : 0 };
        }
        if (state.RegionDelta > (contract.Region == RegionOperation.Begin ? 1 : 0))
            yield return (ContextImbalance.HypercallRegion, "a preemptible-hypercall region begun and not ended", "xen_preemptible_hcall_end", "xen_preemptible_hcall_begin");
        else if (state.RegionDelta < (contract.Region == RegionOperation.End ? -1 : 0))
            yield return (ContextImbalance.HypercallRegion, "a preemptible-hypercall region ended and not begun", null, null);

        if (state.Preempt.IsDeltaKnown && state.Preempt.Delta != contract.PreemptDelta)
        {
            yield return state.Preempt.Delta > contract.PreemptDelta
                ? (ContextImbalance.Preemption, "preemption disabled (preempt_disable not balanced by preempt_enable)", "preempt_enable", "preempt_disable")
                : (ContextImbalance.Preemption, "preemption enabled more often than disabled", null, null);
        }

        if (state.Migrate.IsDeltaKnown && state.Migrate.Delta != contract.MigrateDelta)
        {
            yield return state.Migrate.Delta > contract.MigrateDelta
                ? (ContextImbalance.Migration, "migration disabled (migrate_disable not balanced by migrate_enable)", "migrate_enable", "migrate_disable")
                : (ContextImbalance.Migration, "migration enabled more often than disabled", null, null);
        }

        var expectedIrq = contract.Irq switch
        {
            IrqOperation.Disable or IrqOperation.Save => IrqState.Off,
            IrqOperation.Enable => IrqState.On,
            _ => result.Entry.Irq != IrqState.Unknown ? result.Entry.Irq
                : state.EntryIrq != IrqState.Unknown ? state.EntryIrq
                : IrqState.On,
        };
        if (state.Irq != IrqState.Unknown && state.Irq != expectedIrq)
            yield return state.Irq == IrqState.Off
                ? (ContextImbalance.Irqs, "IRQs disabled (local_irq_disable not undone)", "local_irq_enable", "local_irq_disable")
                : (ContextImbalance.Irqs, "IRQs enabled although it was entered with IRQs disabled", "local_irq_disable", "local_irq_enable");
    }

    /// <summary>The constant (or known tested flag) a path returns.</summary>
    private static bool? ReturnedBool(MethodExit exit)
    {
        if (exit.Returned is not { } returned)
            return null;
        if (returned.ConstantValue is { HasValue: true, Value: bool constant })
            return constant;
        return PreemptFlowEngine.Unwrap(returned) is ILocalReferenceOperation local ? exit.State.ConditionValue(local.Local) : null;
    }
}
