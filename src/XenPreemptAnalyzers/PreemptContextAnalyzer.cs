// SPDX-License-Identifier: MIT
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace XenPreemptAnalyzers;

/// <summary>
/// The preemption-context analyzer: one flow engine, six thin rules (XPA0001–XPA0006). Cheap first:
/// compilation start registers nothing unless the compilation can use the kernel API; a method body is
/// analysed only when it calls something recognised.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class PreemptContextAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => Descriptors.Supported;

    /// <summary>The work this instance did, for the deterministic performance guards and the benchmarks.</summary>
    internal Flow.AnalysisCounters Counters { get; } = new();

    /// <summary>The per-tree work this instance did (the text check, helper-name lookups), for the guards and the benchmarks.</summary>
    internal Infrastructure.TreeCounters TreeCounters { get; } = new();

    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        // Left to the driver: it decides generated code for every declared symbol whatever this says (Roslyn 4.8 and later
        // expose IsGeneratedCode on every context), so asking for all code would save nothing (corpus --sets
        // semantic-model,semantic-model-all-code shows it).
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        var counters = Counters;
        var treeCounters = TreeCounters;
        context.RegisterCompilationStartAction(start =>
            Infrastructure.AnalyzerGuard.Run("compilation start", null, start.Compilation.Assembly, () =>
            {
                var analysis = CompilationAnalysis.TryCreate(start.Compilation, start.Options.AnalyzerConfigOptionsProvider, counters, treeCounters, start.CancellationToken);
                counters.OnCompilationStart(analyzed: analysis is not null);
                if (analysis is not null)
                    start.RegisterSemanticModelAction(analysis.OnSemanticModel);
            }));
    }
}
