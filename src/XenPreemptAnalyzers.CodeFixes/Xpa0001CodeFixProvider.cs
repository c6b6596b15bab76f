using System.Collections.Generic;
using System.Linq;
using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using XenPreemptAnalyzers.CodeFixes.Infrastructure;

namespace XenPreemptAnalyzers.CodeFixes;

/// <summary>
/// XPA0001 (b): re-read the cached per-CPU value or CPU id into its local right before the statement
/// that uses it, after the preemption point. Offered only when the use is in a plain statement after the
/// point, the local is assignable, and the read binds there. XPA0001 (a), the preemptible-hypercall
/// state, has no automatic fix yet (see docs/rules/XPA0001.md for the per-task rewrite by hand).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(Xpa0001CodeFixProvider)), Shared]
public sealed class Xpa0001CodeFixProvider : PreemptCodeFixProvider
{
    public const string ReReadAfterPoint = "XPA0001.ReReadAfterPoint";

    private protected override string DiagnosticId => DiagnosticIds.PerCpuStateAcrossPreemption;

    private protected override IEnumerable<FixOffer> Offers(SemanticModel model, SyntaxNode root, Diagnostic diagnostic)
    {
        if (Target(model, root, diagnostic) is { } target)
            yield return new FixOffer($"Re-read '{target.Local}' from '{target.From}' after the preemption point", ReReadAfterPoint);
    }

    private protected override void Plan(SemanticModel model, SyntaxNode root, Diagnostic diagnostic, string equivalenceKey, DocumentRewrite rewrite)
    {
        if (Target(model, root, diagnostic) is { } target)
            rewrite.InsertBefore(target.Statement, $"{target.Local} = {target.From};");
    }

    private static (StatementSyntax Statement, string Local, string From)? Target(SemanticModel model, SyntaxNode root, Diagnostic diagnostic)
    {
        if (Property(diagnostic, DiagnosticProperties.Finding) != "CachedValue"
            || Property(diagnostic, DiagnosticProperties.CachedLocal) is not { Length: > 0 } local
            || Property(diagnostic, DiagnosticProperties.CachedFrom) is not { Length: > 0 } from
            || NodeAt(root, diagnostic) is not IdentifierNameSyntax use
            || model.GetSymbolInfo(use).Symbol is not ILocalSymbol { IsConst: false, IsForEach: false, IsUsing: false, RefKind: RefKind.None } symbol
            || symbol.Name != local
            || KernelNames.ContainingStatement(use) is not { } statement
            || diagnostic.AdditionalLocations.Count == 0
            || diagnostic.AdditionalLocations[0].SourceSpan.End > statement.SpanStart)
            return null;
        // Not the statement that declares the local, and the read must bind where it is inserted.
        if (statement is LocalDeclarationStatementSyntax declaration && declaration.Declaration.Variables.Any(v => v.Identifier.ValueText == local))
            return null;
        var read = SyntaxFactory.ParseExpression(from);
        if (model.GetSpeculativeSymbolInfo(statement.SpanStart, read, SpeculativeBindingOption.BindAsExpression).Symbol is not IMethodSymbol)
            return null;
        return (statement, local, from);
    }
}
