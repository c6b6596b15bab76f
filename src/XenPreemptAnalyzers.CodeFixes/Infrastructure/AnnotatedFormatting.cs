// SPDX-License-Identifier: MIT
using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Formatting;

namespace XenPreemptAnalyzers.CodeFixes.Infrastructure;

/// <summary>Formats what a fix inserted (the nodes it marked with <see cref="Formatter.Annotation"/>), and nothing else.</summary>
internal static class AnnotatedFormatting
{
    /// <summary>
    /// The document with the fix's nodes formatted. Roslyn's formatter asserts on some half-typed code (an
    /// indentation block it cannot place: "Unexpected false" in IndentBlockOperation, found by the typing
    /// simulation, docs/reliability.md); the edit itself is still right there, so it is returned unformatted rather
    /// than the fix failing in the user's editor. Then its format marks and elastic trivia go too: the code action's
    /// own clean-up pass formats whatever still carries them, and would meet the same assertion.
    /// </summary>
    public static async Task<Document> FormatAsync(Document document, CancellationToken cancellationToken)
    {
        try
        {
            return await Formatter.FormatAsync(document, Formatter.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException) when (!cancellationToken.IsCancellationRequested)
        {
            var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            return root is null ? document : document.WithSyntaxRoot(WithoutFormatting(root));
        }
    }

    private static SyntaxNode WithoutFormatting(SyntaxNode root)
    {
        var marks = new[] { Formatter.Annotation, SyntaxAnnotation.ElasticAnnotation };
        return root.ReplaceSyntax(
            root.GetAnnotatedNodes(Formatter.Annotation), (_, node) => node.WithoutAnnotations(marks),
            root.GetAnnotatedTokens(Formatter.Annotation), (_, token) => token.WithoutAnnotations(marks),
            root.DescendantTrivia(descendIntoTrivia: true).Where(t => marks.Any(t.HasAnnotation)), (_, trivia) => trivia.WithoutAnnotations(marks));
    }
}
