using System;
using Microsoft.CodeAnalysis;

namespace XenPreemptAnalyzers.Recognition;

/// <summary>
/// The contract attributes (docs/design.md, Parts; XenPreempt.Annotations), matched by class name in any namespace (with or without the
/// <c>Attribute</c> suffix), so a port may declare its own copies instead of referencing ours.
/// </summary>
internal static class KernelAttributes
{
    public const string ProcessContext = "ProcessContext";
    public const string IrqContext = "IrqContext";
    public const string RequiresPreemptDisabled = "RequiresPreemptDisabled";
    public const string DisablesPreemption = "DisablesPreemption";
    public const string EnablesPreemption = "EnablesPreemption";
    public const string ConditionallyDisablesPreemption = "ConditionallyDisablesPreemption";
    public const string PerCpu = "PerCpu";
    public const string PerTask = "PerTask";
    public const string Patchable = "Patchable";
    public const string PreemptibleHypercallBegin = "PreemptibleHypercallBegin";
    public const string PreemptibleHypercallEnd = "PreemptibleHypercallEnd";
    public const string HypercallPreemptionPoint = "HypercallPreemptionPoint";
    public const string Hypercall = "Hypercall";
    public const string NoPreemptAnalysis = "NoPreemptAnalysis";

    public static readonly string[] All =
    {
        ProcessContext, IrqContext, RequiresPreemptDisabled, DisablesPreemption, EnablesPreemption, ConditionallyDisablesPreemption, PerCpu, PerTask,
        Patchable, PreemptibleHypercallBegin, PreemptibleHypercallEnd, HypercallPreemptionPoint, Hypercall,
        NoPreemptAnalysis,
    };

    public static bool Matches(AttributeData attribute, string shortName)
    {
        var name = attribute.AttributeClass?.Name;
        return name is not null
            && name.StartsWith(shortName, StringComparison.Ordinal)
            && (name.Length == shortName.Length || string.CompareOrdinal(name, shortName.Length, "Attribute", 0, int.MaxValue) == 0);
    }

    public static bool Has(ISymbol symbol, string shortName) => Find(symbol, shortName) is not null;

    public static AttributeData? Find(ISymbol symbol, string shortName)
    {
        foreach (var attribute in symbol.GetAttributes())
        {
            if (Matches(attribute, shortName))
                return attribute;
        }
        return null;
    }

    /// <summary>The first constructor argument as a bool (<c>[ConditionallyDisablesPreemption(false)]</c>), else <paramref name="fallback"/>.</summary>
    public static bool BoolArgument(AttributeData attribute, bool fallback) =>
        attribute.ConstructorArguments.Length > 0 && attribute.ConstructorArguments[0].Value is bool value ? value : fallback;

    /// <summary>A named string argument such as <c>[Patchable(Raw = "raw_x")]</c>.</summary>
    public static string? NamedString(AttributeData attribute, string argumentName)
    {
        foreach (var argument in attribute.NamedArguments)
        {
            if (argument.Key == argumentName && argument.Value.Value is string text && text.Length > 0)
                return text;
        }
        return null;
    }

    /// <summary>Is the analysis switched off for this member (or its containing types)?</summary>
    public static bool IsExempt(ISymbol? symbol)
    {
        for (var current = symbol; current is not null; current = current.ContainingSymbol)
        {
            if (current is INamespaceSymbol)
                return false;
            if (Has(current, NoPreemptAnalysis))
                return true;
        }
        return false;
    }
}
