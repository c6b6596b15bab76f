using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using XenPreemptAnalyzers.Flow;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Rules;

/// <summary>
/// XPA0006: a call that may sleep or voluntarily reschedule, reached on a path with IRQs or preemption
/// proven disabled. The irq-exit reschedule primitives, made for that context, are exempt.
/// </summary>
internal sealed class Xpa0006SleepInAtomicContext : PreemptRule
{
    public override DiagnosticDescriptor Descriptor => Descriptors.XPA0006;

    public override void Report(FlowResult result, Action<Diagnostic> report)
    {
        foreach (var call in result.Calls)
        {
            if (call.Effect.Reschedule is not (ReschedulePoint.Explicit or ReschedulePoint.ExplicitVoluntaryOnly))
                continue;
            if (call.Before.FirstOrDefault(s => s.IsProvenAtomic) is not { } atomic)
                continue;
            report(Diagnostic.Create(Descriptor, call.Operation.Syntax.GetLocation(),
                Properties(result, (DiagnosticProperties.AtomicBecause, Because(atomic))),
                call.Effect.Display, Describe(atomic), Model(result)));
        }
    }

    private static string Because(ContextState state) => DiagnosticProperties.Write((state.Irq == IrqState.Off, state.Preempt.IsDisabled) switch
    {
        (true, true) => AtomicCause.IrqsAndPreemption,
        (true, false) => AtomicCause.Irqs,
        _ => AtomicCause.Preemption,
    });

    private static string Describe(ContextState state) => (state.Irq == IrqState.Off, state.Preempt.IsDisabled) switch
    {
        (true, true) => "IRQs and preemption disabled",
        (true, false) => "IRQs disabled",
        _ => "preemption disabled",
    };
}
