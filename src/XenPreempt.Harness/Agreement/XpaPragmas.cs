// SPDX-License-Identifier: MIT
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace XenPreempt.Harness.Agreement;

/// <summary>
/// Finds the <c>#pragma warning disable XPA…</c> lines of a compilation and the lines each covers (to its
/// restore, or the end of the file). One source file, compiled into the harness and linked into the analyzer
/// tests (whose Roslyn 4.8 host project cannot reference the harness); internal in both.
/// </summary>
internal static class XpaPragmas
{
    internal readonly record struct Found(string File, string Rule, int Line, int FromLine, int ToLine, string Why);

    public static IReadOnlyList<Found> Scan(Compilation compilation)
    {
        var pragmas = new List<Found>();
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
                foreach (var id in directive.ErrorCodes.Select(c => c.ToString().Trim()).Where(c => c.StartsWith("XPA", System.StringComparison.Ordinal)))
                {
                    var restore = directives.Skip(i + 1).FirstOrDefault(d => d.DisableOrRestoreKeyword.IsKind(SyntaxKind.RestoreKeyword)
                        && d.ErrorCodes.Any(c => c.ToString().Trim() == id));
                    var to = restore is null ? lastLine : restore.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                    pragmas.Add(new Found(tree.FilePath, id, line, line + 1, to - 1, why));
                }
            }
        }
        return pragmas;
    }
}
