// SPDX-License-Identifier: MIT
using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace XenPreemptAnalyzers.Tests.Reliability;

/// <summary>
/// Diagnostics the code fixes may be handed that the analyzers did not just compute: a diagnostic of the text
/// before the edit, left at its old span (an editor's stale diagnostic), and made-up ones with each rule's
/// real property sets at arbitrary spans. A fix may decline them; it must not throw.
/// </summary>
internal static class MadeUpDiagnostics
{
    /// <summary>Each rule's property sets as the analyzers write them (DiagnosticProperties).</summary>
    public static readonly (string Id, (string Key, string Value)[] Properties)[] Catalogue =
    {
        (DiagnosticIds.PerCpuStateAcrossPreemption, new[] { (DiagnosticProperties.Finding, "Region") }),
        (DiagnosticIds.PerCpuStateAcrossPreemption, new[] { (DiagnosticProperties.Finding, "CachedValue"), (DiagnosticProperties.CachedLocal, "?"), (DiagnosticProperties.CachedFrom, "smp_processor_id()") }),
        (DiagnosticIds.PatchableRescheduleOnHypercallPath, new[] { (DiagnosticProperties.RawVariant, "raw_irqentry_exit_cond_resched"), (DiagnosticProperties.CalledName, "irqentry_exit_cond_resched") }),
        (DiagnosticIds.RawRescheduleOnGenericPath, new[] { (DiagnosticProperties.PatchableVariant, "irqentry_exit_cond_resched"), (DiagnosticProperties.CalledName, "raw_irqentry_exit_cond_resched") }),
        (DiagnosticIds.CheckedPerCpuAccessInPreemptibleCode, new[] { (DiagnosticProperties.PreemptSafeVariant, "this_cpu_write") }),
        (DiagnosticIds.UnbalancedContextAtExit, new[] { (DiagnosticProperties.Imbalance, "Preemption"), (DiagnosticProperties.Rebalance, "preempt_enable"), (DiagnosticProperties.Acquire, "preempt_disable") }),
        (DiagnosticIds.UnbalancedContextAtExit, new[] { (DiagnosticProperties.Imbalance, "Irqs"), (DiagnosticProperties.Rebalance, "local_irq_enable"), (DiagnosticProperties.Acquire, "local_irq_disable") }),
        (DiagnosticIds.UnbalancedContextAtExit, new[] { (DiagnosticProperties.Imbalance, "HypercallRegion"), (DiagnosticProperties.Rebalance, "xen_preemptible_hcall_end"), (DiagnosticProperties.Acquire, "xen_preemptible_hcall_begin") }),
        (DiagnosticIds.SleepInAtomicContext, new[] { (DiagnosticProperties.AtomicBecause, "Irqs") }),
        (DiagnosticIds.SleepInAtomicContext, new[] { (DiagnosticProperties.AtomicBecause, "IrqsAndPreemption") }),
    };

    private static readonly string[] MessageArguments = { "a", "b", "c", "d" };

    /// <summary>A made-up diagnostic at a span of <paramref name="tree"/>; a cached local is named after the identifier there.</summary>
    public static Diagnostic Create(TypingSimulationTests.MadeUpDiagnostic madeUp, SyntaxTree tree)
    {
        var (id, properties) = Catalogue[madeUp.Entry];
        var span = SpanIn(tree.Length, madeUp.Start, madeUp.Length);
        var builder = ImmutableDictionary.CreateBuilder<string, string?>();
        builder[DiagnosticProperties.PreemptionModel] = "dynamic";
        foreach (var (key, value) in properties)
            builder[key] = value == "?" ? IdentifierAt(tree, span) : value;
        // XPA0001 (b) names the point in its additional location: somewhere before the use.
        var additional = new[] { Location.Create(tree, new TextSpan(span.Start / 2, 0)) };
        return Diagnostic.Create(Descriptor(id), Location.Create(tree, span), additional, builder.ToImmutable(), MessageArguments);
    }

    /// <summary>The same diagnostic at the same spans (clamped to the text) in the edited tree.</summary>
    public static Diagnostic MoveTo(Diagnostic diagnostic, SyntaxTree tree) =>
        Diagnostic.Create(Descriptor(diagnostic.Id), Clamp(diagnostic.Location, tree), diagnostic.AdditionalLocations.Select(l => Clamp(l, tree)),
            diagnostic.Properties, MessageArguments);

    public static string Describe(TypingSimulationTests.MadeUpDiagnostic madeUp, string text)
    {
        var span = SpanIn(text.Length, madeUp.Start, madeUp.Length);
        var (id, properties) = Catalogue[madeUp.Entry];
        return $"{id} {{{string.Join(", ", properties.Select(p => p.Key + "=" + p.Value))}}} at {span}: '{text.Substring(span.Start, span.Length)}'";
    }

    private static TextSpan SpanIn(int length, int start, int spanLength)
    {
        var from = (int)((uint)start % (uint)(length + 1));
        return new TextSpan(from, Math.Min(spanLength, length - from));
    }

    private static Location Clamp(Location location, SyntaxTree tree)
    {
        var start = Math.Min(location.SourceSpan.Start, tree.Length);
        return Location.Create(tree, new TextSpan(start, Math.Min(location.SourceSpan.Length, tree.Length - start)));
    }

    private static string IdentifierAt(SyntaxTree tree, TextSpan span)
    {
        var token = tree.GetRoot().FindToken(span.Start);
        return token.IsKind(SyntaxKind.IdentifierToken) ? token.ValueText : "cpu";
    }

    private static DiagnosticDescriptor Descriptor(string id) =>
        AllExtensions.Analyzers.SelectMany(a => a.SupportedDiagnostics).First(d => d.Id == id);
}
