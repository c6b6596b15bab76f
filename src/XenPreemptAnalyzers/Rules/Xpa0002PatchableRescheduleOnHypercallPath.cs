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
        ReportCompiledOutRegions(result, report);
    }

    /// <summary>
    /// A region begun by a call whose body is empty in this build, in a method that makes the hypercall:
    /// the hand-off does not exist, and irq exit's patchable reschedule is all that is left. No raw
    /// variant to call, so no property for the rename fix.
    /// </summary>
    private static void ReportCompiledOutRegions(FlowResult result, Action<Diagnostic> report)
    {
        var noOpModes = PreemptionModelFacts.NoOpModes(PatchFamily.IrqExitReschedule, result.Model);
        if (noOpModes == PreemptionModes.Nothing || !result.Calls.Any(c => c.Effect.Region == RegionOperation.Hypercall))
            return;
        foreach (var call in result.Calls)
        {
            if (call.Effect.Region != RegionOperation.Begin || !call.Effect.CompiledOut)
                continue;
            report(Diagnostic.Create(Descriptors.XPA0002RegionCompiledOut, call.Operation.Syntax.GetLocation(),
                Properties(result, (DiagnosticProperties.CalledName, call.Effect.Name)),
                call.Operation.TargetMethod.Name, PreemptionModelFacts.Describe(noOpModes), Model(result)));
        }
    }
}
