using System;
using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis;
using XenPreemptAnalyzers.Flow;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Rules;

/// <summary>A rule: a thin consumer of one graph's <see cref="FlowResult"/>.</summary>
internal abstract class PreemptRule
{
    public abstract DiagnosticDescriptor Descriptor { get; }

    public abstract void Report(FlowResult result, Action<Diagnostic> report);

    /// <summary>The rules, in id order.</summary>
    public static readonly ImmutableArray<PreemptRule> All = ImmutableArray.Create<PreemptRule>(
        new Xpa0001PerCpuStateAcrossPreemption(),
        new Xpa0002PatchableRescheduleOnHypercallPath(),
        new Xpa0003RawRescheduleOnGenericPath(),
        new Xpa0004CheckedPerCpuAccessInPreemptibleCode(),
        new Xpa0005UnbalancedContextAtExit(),
        new Xpa0006SleepInAtomicContext());

    protected static string Model(FlowResult result) => PreemptionModelFacts.Spell(result.Model);

    protected static ImmutableDictionary<string, string?> Properties(FlowResult result, params (string Key, string? Value)[] extra)
    {
        var builder = ImmutableDictionary.CreateBuilder<string, string?>();
        builder[DiagnosticProperties.PreemptionModel] = Model(result);
        foreach (var (key, value) in extra)
            builder[key] = value;
        return builder.ToImmutable();
    }

    protected static string Line(IOperation operation) => Line(operation.Syntax.GetLocation());

    protected static string Line(Location location) =>
        "line " + (location.GetLineSpan().StartLinePosition.Line + 1).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The name of the method an operation calls. A call that does not bind while the user types still has its
    /// recognised effect (an invalid operation, see the flow engine), so it is named from its syntax.
    /// </summary>
    protected static string CalleeName(IOperation operation) => FlowResult.CalleeName(operation);

    /// <summary>"'schedule' (line 7)", or for an involuntary point "any instruction after 'preempt_enable' (line 7), where preemption is enabled".</summary>
    protected static string DescribePoint(IOperation point, bool involuntary)
    {
        var name = CalleeName(point);
        return involuntary
            ? $"any instruction after '{name}' ({Line(point)}), where preemption is enabled"
            : $"'{name}' ({Line(point)})";
    }
}
