using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
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
        if (result.Method is { } method && IsContextPrimitive(method.Name))
            return;
        var reported = new HashSet<(Location, string)>();
        var name = result.Method?.Name ?? "lambda";
        foreach (var exit in result.Exits.OrderBy(e => e.Site.SourceSpan.Start))
        {
            foreach (var (kind, text, rebalance, acquire) in Imbalances(result, exit.State))
            {
                if (reported.Add((exit.Site, kind)))
                {
                    report(Diagnostic.Create(Descriptor, exit.Site,
                        Properties(result, (DiagnosticProperties.Imbalance, kind), (DiagnosticProperties.Rebalance, rebalance), (DiagnosticProperties.Acquire, acquire)),
                        name, text, Model(result)));
                }
            }
        }
    }

    /// <summary>Each imbalance, with the call that restores it at the exit and the call that began it (for the code fixes).</summary>
    private static IEnumerable<(string Kind, string Text, string? Rebalance, string? Acquire)> Imbalances(FlowResult result, ContextState state)
    {
        var contract = result.OwnEffect;
        if (state.RegionDelta > (contract.Region == RegionOperation.Begin ? 1 : 0))
            yield return ("HypercallRegion", "a preemptible-hypercall region begun and not ended", "xen_preemptible_hcall_end", "xen_preemptible_hcall_begin");
        else if (state.RegionDelta < (contract.Region == RegionOperation.End ? -1 : 0))
            yield return ("HypercallRegion", "a preemptible-hypercall region ended and not begun", null, null);

        if (state.Preempt.IsDeltaKnown && state.Preempt.Delta != contract.PreemptDelta)
        {
            yield return state.Preempt.Delta > contract.PreemptDelta
                ? ("Preemption", "preemption disabled (preempt_disable not balanced by preempt_enable)", "preempt_enable", "preempt_disable")
                : ("Preemption", "preemption enabled more often than disabled", null, null);
        }

        if (state.Migrate.IsDeltaKnown && state.Migrate.Delta != contract.MigrateDelta)
        {
            yield return state.Migrate.Delta > contract.MigrateDelta
                ? ("Migration", "migration disabled (migrate_disable not balanced by migrate_enable)", "migrate_enable", "migrate_disable")
                : ("Migration", "migration enabled more often than disabled", null, null);
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
                ? ("Irqs", "IRQs disabled (local_irq_disable not undone)", "local_irq_enable", "local_irq_disable")
                : ("Irqs", "IRQs enabled although it was entered with IRQs disabled", "local_irq_disable", "local_irq_enable");
    }

    private static bool IsContextPrimitive(string name)
    {
        var primitive = KernelApi.Lookup(name);
        return primitive.PreemptDelta != 0 || primitive.MigrateDelta != 0 || primitive.Irq != IrqOperation.Unchanged;
    }
}
