using Microsoft.CodeAnalysis;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Flow;

/// <summary>
/// The context a graph starts from. Only annotations make it known: an unannotated method, lambda or
/// local function starts unknown, so nothing in it is proven until the code itself proves it.
/// </summary>
internal static class EntryContext
{
    public static ContextState For(IMethodSymbol? method)
    {
        var state = new ContextState
        {
            Preempt = Depth.UnknownEntry,
            Migrate = Depth.UnknownEntry,
            Irq = IrqState.Unknown,
        };
        if (method is null)
            return state;

        if (KernelAttributes.Has(method, KernelAttributes.ProcessContext))
            state = state with { Preempt = Depth.KnownEntry(0), Migrate = Depth.KnownEntry(0), Irq = IrqState.On };
        else if (KernelAttributes.Has(method, KernelAttributes.IrqContext))
            state = state with { Preempt = Depth.KnownEntry(0), Migrate = Depth.KnownEntry(0), Irq = IrqState.Off };

        if (KernelAttributes.Has(method, KernelAttributes.RequiresPreemptDisabled))
            state = state with { Preempt = Depth.DisabledEntry };
        if (KernelAttributes.Has(method, KernelAttributes.HypercallPreemptionPoint))
            state = state with { OnHypercallReschedulePath = true };

        return state with { IrqSaved = state.Irq };
    }
}
