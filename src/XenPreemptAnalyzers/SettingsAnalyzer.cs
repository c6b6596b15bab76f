// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
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
        // RS1013 suggests an unconditional compilation action instead of a start action that registers only an end
        // action; this one registers it only when a setting is wrong, so that other compilations pay nothing.
#pragma warning disable RS1013
        context.RegisterCompilationStartAction(start =>
        {
            // Every tree's options are known at compilation start: a project whose settings are all valid (nearly
            // every one) registers nothing, so the driver does no per-tree or end-of-compilation work for it.
            var provider = start.Options.AnalyzerConfigOptionsProvider;
            List<SettingProblem>? problems = null;
            Infrastructure.AnalyzerGuard.Run("settings", null, start.Compilation.Assembly, () =>
                problems = DistinctOptions(start.Compilation, provider).SelectMany(AnalyzerSettings.Problems)
                    .Distinct()
                    .OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal)
                    .ToList());
            if (problems is not { Count: > 0 })
                return;
            start.RegisterCompilationEndAction(end =>
            {
                foreach (var problem in problems)
                    end.ReportDiagnostic(Report(problem));
            });
        });
#pragma warning restore RS1013
    }

    /// <summary>
    /// Each distinct options object of the compilation's trees, then the global options. The compiler hands every tree
    /// under the same <c>.editorconfig</c> sections one shared object, so a project of thousands of files has a handful.
    /// </summary>
    private static IEnumerable<AnalyzerConfigOptions> DistinctOptions(Compilation compilation, AnalyzerConfigOptionsProvider provider)
    {
        var seen = new HashSet<AnalyzerConfigOptions>(ReferenceComparer.Instance);
        foreach (var tree in compilation.SyntaxTrees)
        {
            var options = provider.GetOptions(tree);
            if (seen.Add(options))
                yield return options;
        }
        yield return provider.GlobalOptions;
    }

    /// <summary>Identity: options objects are immutable, and one object read twice gives the same problems.</summary>
    private sealed class ReferenceComparer : IEqualityComparer<AnalyzerConfigOptions>
    {
        public static readonly ReferenceComparer Instance = new();

        public bool Equals(AnalyzerConfigOptions? x, AnalyzerConfigOptions? y) => ReferenceEquals(x, y);

        public int GetHashCode(AnalyzerConfigOptions options) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(options);
    }

    private static Diagnostic Report(SettingProblem problem) => problem.Value is null
        ? Diagnostic.Create(Descriptors.XPA9000UnknownKey, Location.None, problem.Key,
            problem.Accepted is null ? "" : $" (did you mean '{problem.Accepted}'?)",
            string.Join(", ", AnalyzerSettings.KnownKeys()))
        : Diagnostic.Create(Descriptors.XPA9000UnknownValue, Location.None, problem.Key, problem.Value, problem.Accepted);
}
