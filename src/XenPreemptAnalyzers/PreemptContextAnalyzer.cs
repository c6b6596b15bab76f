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

    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        var counters = Counters;
        context.RegisterCompilationStartAction(start =>
            Infrastructure.AnalyzerGuard.Run("compilation start", null, start.Compilation.Assembly, () =>
            {
                var analysis = CompilationAnalysis.TryCreate(start.Compilation, start.Options.AnalyzerConfigOptionsProvider, counters, start.CancellationToken);
                counters.OnCompilationStart(analyzed: analysis is not null);
                if (analysis is not null)
                    start.RegisterSemanticModelAction(analysis.OnSemanticModel);
            }));
    }
}
