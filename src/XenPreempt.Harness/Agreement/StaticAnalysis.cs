// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
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
    public static IReadOnlyList<PragmaSpan> Pragmas(Compilation compilation)
    {
        var pragmas = new List<PragmaSpan>();
        foreach (var tree in compilation.SyntaxTrees)
        {
            var directives = tree.GetRoot().DescendantTrivia().Select(t => t.GetStructure()).OfType<PragmaWarningDirectiveTriviaSyntax>().ToList();
            var lastLine = tree.GetText().Lines.Count;
            for (var i = 0; i < directives.Count; i++)
            {
                var directive = directives[i];
                if (!directive.DisableOrRestoreKeyword.IsKind(SyntaxKind.DisableKeyword))
                    continue;
                var line = directive.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                var why = directive.EndOfDirectiveToken.LeadingTrivia.Concat(directive.ErrorCodes.Last().GetTrailingTrivia())
                    .FirstOrDefault(t => t.IsKind(SyntaxKind.SingleLineCommentTrivia)).ToString();
                foreach (var id in directive.ErrorCodes.Select(c => c.ToString().Trim()).Where(c => c.StartsWith("XPA", StringComparison.Ordinal)))
                {
                    var restore = directives.Skip(i + 1).FirstOrDefault(d => d.DisableOrRestoreKeyword.IsKind(SyntaxKind.RestoreKeyword)
                        && d.ErrorCodes.Any(c => c.ToString().Trim() == id));
                    var to = restore is null ? lastLine : restore.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                    pragmas.Add(new PragmaSpan(tree.FilePath, id, line, line + 1, to - 1, why));
                }
            }
        }
        return pragmas;
    }

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
