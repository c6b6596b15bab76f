using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using XenPreemptAnalyzers.Flow;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Rules;

/// <summary>
/// XPA0004: a checked per-CPU access (or a call requiring preemption disabled) reached on a path with
/// preemption, migration and IRQs proven enabled, under a model that can preempt there.
/// </summary>
internal sealed class Xpa0004CheckedPerCpuAccessInPreemptibleCode : PreemptRule
{
    public override DiagnosticDescriptor Descriptor => Descriptors.XPA0004;

    public override void Report(FlowResult result, Action<Diagnostic> report)
    {
        // Static none/voluntary kernels switch tasks only at explicit points: DEBUG_PREEMPT cannot fire there.
        if (!PreemptionModelFacts.HasInvoluntaryPreemption(result.Model))
            return;
        foreach (var call in result.Calls)
        {
            var effect = call.Effect;
            if ((effect.PerCpu != PerCpuAccess.Checked && !effect.RequiresPreemptDisabled) || !call.Before.Any(s => s.IsProvenPreemptible))
                continue;
            var safe = PreemptSafeVariant(effect);
            var advice = safe is not null
                ? $"call '{safe}' or disable preemption around it"
                : effect.Result == CallResult.CpuId && effect.Via is null
                    ? "use get_cpu()/put_cpu() or disable preemption around it"
                    : "disable preemption around it";
            report(Diagnostic.Create(Descriptor, call.Operation.Syntax.GetLocation(),
                Properties(result, (DiagnosticProperties.PreemptSafeVariant, safe)),
                effect.Display, Model(result), advice));
        }
    }

    /// <summary><c>__this_cpu_write</c> → <c>this_cpu_write</c>; none for a helper that makes the access inside.</summary>
    private static string? PreemptSafeVariant(CallEffect effect) => effect.Via is null ? effect.PreemptSafeVariant : null;
}
