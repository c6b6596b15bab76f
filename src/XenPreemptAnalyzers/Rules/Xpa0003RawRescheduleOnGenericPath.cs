using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using XenPreemptAnalyzers.Flow;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Rules;

/// <summary>
/// XPA0003 (Info): a raw, never-patched reschedule off the preemptible-hypercall path, overriding the
/// user's <c>preempt=</c> choice. The reschedule primitives' own bodies are not generic paths.
/// </summary>
internal sealed class Xpa0003RawRescheduleOnGenericPath : PreemptRule
{
    public override DiagnosticDescriptor Descriptor => Descriptors.XPA0003;

    public override void Report(FlowResult result, Action<Diagnostic> report)
    {
        var own = result.OwnEffect;
        if (!own.IsSummary && (own.Patchable != PatchFamily.NotPatchable || own.RawOf != PatchFamily.NotPatchable || own.Reschedule != ReschedulePoint.NotAPoint))
            return; // the reschedule primitives' own bodies

        foreach (var call in result.Calls)
        {
            var effect = call.Effect;
            var overriddenModes = PreemptionModelFacts.NoOpModes(effect.RawOf, result.Model);
            // Generic: some path reaches the call off the hypercall-reschedule path and outside a region begun here.
            if (overriddenModes == PreemptionModes.Nothing
                || !call.Before.Any(s => !s.OnHypercallReschedulePath && s.Region == RegionPhase.NotBegun))
                continue;
            var patchable = effect.PatchableVariant ?? "the patchable variant";
            report(Diagnostic.Create(Descriptor, call.Operation.Syntax.GetLocation(),
                Properties(result, (DiagnosticProperties.PatchableVariant, effect.PatchableVariant), (DiagnosticProperties.CalledName, effect.Name)),
                effect.Name, PreemptionModelFacts.Describe(overriddenModes), patchable, Model(result)));
        }
    }
}
