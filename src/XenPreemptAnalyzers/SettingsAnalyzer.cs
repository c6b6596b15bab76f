// SPDX-License-Identifier: MIT
using System;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers;

/// <summary>
/// XPA9000: a <c>xen_preempt.*</c> key or value that <see cref="AnalyzerSettings"/> ignores, reported once per
/// compilation and setting (not per file or method), with the key, the value and what is accepted. Its own
/// analyzer, so that a misspelled setting is reported even in a project the preemption analysis has nothing to do in
/// (a misspelled name list can be why). Settings are not code: the diagnostic has no source location.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SettingsAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.XPA9000UnknownValue, Descriptors.XPA9000UnknownKey);

    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            var provider = start.Options.AnalyzerConfigOptionsProvider;
            var problems = new ConcurrentDictionary<SettingProblem, bool>();
            start.RegisterSyntaxTreeAction(tree => Infrastructure.AnalyzerGuard.Run("settings", null, start.Compilation.Assembly, () =>
            {
                foreach (var problem in AnalyzerSettings.Problems(provider.GetOptions(tree.Tree)))
                    problems.TryAdd(problem, true);
            }));
            start.RegisterCompilationEndAction(end => Infrastructure.AnalyzerGuard.Run("settings", null, end.Compilation.Assembly, () =>
            {
                foreach (var problem in AnalyzerSettings.Problems(provider.GlobalOptions))
                    problems.TryAdd(problem, true);
                foreach (var problem in problems.Keys.OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal))
                    end.ReportDiagnostic(Report(problem));
            }));
        });
    }

    private static Diagnostic Report(SettingProblem problem) => problem.Value is null
        ? Diagnostic.Create(Descriptors.XPA9000UnknownKey, Location.None, problem.Key,
            problem.Accepted is null ? "" : $" (did you mean '{problem.Accepted}'?)",
            string.Join(", ", AnalyzerSettings.KnownKeys()))
        : Diagnostic.Create(Descriptors.XPA9000UnknownValue, Location.None, problem.Key, problem.Value, problem.Accepted);
}
