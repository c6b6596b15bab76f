// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using XenPreemptAnalyzers;

namespace XenPreempt.Harness.Agreement;

/// <summary>One XPA diagnostic on the port, suppressed by a pragma or not.</summary>
public sealed record StaticFinding(string Rule, string File, int Line, bool Suppressed, string Message)
{
    public override string ToString() => $"{File}({Line}): {Rule}{(Suppressed ? " (suppressed)" : "")} {Message}";
}

/// <summary>A <c>#pragma warning disable XPA…</c> in the port and the lines it covers (to its restore, or the end of the file).</summary>
public sealed record PragmaSpan(string File, string Rule, int Line, int FromLine, int ToLine, string Why)
{
    public bool Covers(StaticFinding f) => f.Rule == Rule && f.File == File && f.Line >= FromLine && f.Line <= ToLine;

    public override string ToString() => $"{File}({Line}): {Rule}";
}

/// <summary>
/// The static half of the agreement check: the analyzers run, in memory, on exactly the compilation
/// the harness loads and runs, with suppressed diagnostics reported too (the historical variants'
/// deliberate bugs carry pragmas, and the check must see them).
/// </summary>
public static class StaticAnalysis
{
    public static async Task<IReadOnlyList<StaticFinding>> AnalyzeAsync(Compilation compilation)
    {
        var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), onAnalyzerException: null,
            concurrentAnalysis: false, logAnalyzerExecutionTime: false, reportSuppressedDiagnostics: true);
        var diagnostics = await compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new PreemptContextAnalyzer()), options)
            .GetAnalyzerDiagnosticsAsync().ConfigureAwait(false);
        // AD0001 (an analyzer exception) is kept: it is a finding the check must not hide.
        return diagnostics
            .Where(d => d.Id.StartsWith("XPA", StringComparison.Ordinal) || d.Id == "AD0001")
            .Select(ToFinding)
            .OrderBy(f => f.File, StringComparer.Ordinal).ThenBy(f => f.Line).ThenBy(f => f.Rule, StringComparer.Ordinal)
            .ToArray();
    }

    private static StaticFinding ToFinding(Diagnostic d)
    {
        var span = d.Location.GetLineSpan();
        return new StaticFinding(d.Id, span.Path ?? "", span.StartLinePosition.Line + 1, d.IsSuppressed, d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Every XPA pragma of the compilation's trees, one per rule id it names.</summary>
    public static IReadOnlyList<PragmaSpan> Pragmas(Compilation compilation) =>
        XpaPragmas.Scan(compilation).Select(p => new PragmaSpan(p.File, p.Rule, p.Line, p.FromLine, p.ToLine, p.Why)).ToArray();

    /// <summary>
    /// The source files whose code a variant runs: where the type named by the port's
    /// <c>variant_code()</c> is declared. A finding there belongs to the variant's row.
    /// </summary>
    public static IReadOnlySet<string> FilesOf(PortBuild build, Compilation compilation, string variant)
    {
        var files = new HashSet<string>(StringComparer.Ordinal);
        if (build.VariantCode.TryGetValue(variant, out var typeName) && compilation.GetTypeByMetadataName(typeName) is { } type)
            foreach (var reference in type.DeclaringSyntaxReferences)
                files.Add(reference.SyntaxTree.FilePath);
        return files;
    }
}
