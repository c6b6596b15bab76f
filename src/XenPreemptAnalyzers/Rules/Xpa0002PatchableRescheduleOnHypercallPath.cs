using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using XenPreemptAnalyzers.Flow;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Rules;

/// <summary>
/// XPA0002: a dynamic-preemption-patchable reschedule on the path whose job is to reschedule a task
/// inside a preemptible hypercall, where the analysed model can patch it to a no-op.
/// </summary>
internal sealed class Xpa0002PatchableRescheduleOnHypercallPath : PreemptRule
{
    public override DiagnosticDescriptor Descriptor => Descriptors.XPA0002;

    public override void Report(FlowResult result, Action<Diagnostic> report)
    {
        foreach (var call in result.Calls)
        {
            var effect = call.Effect;
            var noOpModes = PreemptionModelFacts.NoOpModes(effect.Patchable, result.Model);
            // "Reached only when the state is set": every path to the call is on the hypercall-reschedule path.
            if (noOpModes == PreemptionModes.Nothing || call.Before.Count == 0 || !call.Before.All(s => s.OnHypercallReschedulePath))
                continue;
            var raw = effect.RawVariant ?? "its never-patched variant";
            report(Diagnostic.Create(Descriptor, call.Operation.Syntax.GetLocation(),
                Properties(result, (DiagnosticProperties.RawVariant, effect.RawVariant), (DiagnosticProperties.CalledName, effect.Name)),
                effect.Name, PreemptionModelFacts.Describe(noOpModes), Model(result), raw));
        }
    }
}
