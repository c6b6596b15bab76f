using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;

namespace XenPreemptAnalyzers.CodeFixes.Infrastructure;

/// <summary>One fix a provider can offer for one diagnostic: its title and stable equivalence key.</summary>
internal sealed record FixOffer(string Title, string EquivalenceKey);

/// <summary>
/// The shape of every provider here: <see cref="Offers"/> says which fixes apply to a diagnostic (none
/// where the fix would be wrong), <see cref="Plan"/> adds one diagnostic's edits to a shared
/// <see cref="DocumentRewrite"/>. One fix and Fix All run the same code: Fix All plans every diagnostic
/// of a document into one rewrite (a custom FixAllProvider, never the BatchFixer, which merges text
/// changes and breaks when two fixes touch the same statement or method).
/// </summary>
public abstract class PreemptCodeFixProvider : CodeFixProvider
{
    private protected abstract string DiagnosticId { get; }

    public sealed override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(DiagnosticId);

    public override FixAllProvider GetFixAllProvider() => DocumentFixAll;

    /// <summary>Fix All of the document-level fixes: every diagnostic of a document planned into one rewrite.</summary>
    private protected FixAllProvider DocumentFixAll => FixAllProvider.Create(FixAllInDocumentAsync);

    private protected abstract IEnumerable<FixOffer> Offers(SemanticModel model, SyntaxNode root, Diagnostic diagnostic);

    private protected abstract void Plan(SemanticModel model, SyntaxNode root, Diagnostic diagnostic, string equivalenceKey, DocumentRewrite rewrite);

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var document = context.Document;
        var root = await document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
            return;
        foreach (var diagnostic in context.Diagnostics)
        {
            foreach (var offer in Offers(model, root, diagnostic))
            {
                context.RegisterCodeFix(
                    CodeAction.Create(offer.Title, ct => FixAsync(document, ImmutableArray.Create(diagnostic), offer.EquivalenceKey, ct), offer.EquivalenceKey),
                    diagnostic);
            }
        }
    }

    private async Task<Document?> FixAllInDocumentAsync(FixAllContext context, Document document, ImmutableArray<Diagnostic> diagnostics)
    {
        if (context.CodeActionEquivalenceKey is not { } key)
            return document;
        return await FixAsync(document, diagnostics, key, context.CancellationToken).ConfigureAwait(false);
    }

    private async Task<Document> FixAsync(Document document, ImmutableArray<Diagnostic> diagnostics, string equivalenceKey, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
            return document;
        var rewrite = new DocumentRewrite();
        foreach (var diagnostic in diagnostics.OrderBy(d => d.Location.SourceSpan.Start))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Offers(model, root, diagnostic).Any(o => o.EquivalenceKey == equivalenceKey))
                Plan(model, root, diagnostic, equivalenceKey, rewrite);
        }
        return await rewrite.ApplyAsync(document, cancellationToken).ConfigureAwait(false);
    }

    private protected static string? Property(Diagnostic diagnostic, string key) =>
        diagnostic.Properties.TryGetValue(key, out var value) ? value : null;

    private protected static SyntaxNode? NodeAt(SyntaxNode root, Diagnostic diagnostic) =>
        root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
}
