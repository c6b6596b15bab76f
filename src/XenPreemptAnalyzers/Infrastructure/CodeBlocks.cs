// SPDX-License-Identifier: MIT
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace XenPreemptAnalyzers.Infrastructure;

/// <summary>
/// The method-like code blocks of a syntax tree, found from syntax alone: the blocks Roslyn's driver would hand a
/// code-block action whose owner is a method (methods, constructors, destructors, operators, accessors, an
/// expression-bodied property's or indexer's getter, a primary constructor, top-level statements). The analyzer registers per tree and
/// walks these itself, so that the driver does no per-declaration work for it and a body costs a symbol lookup
/// only after the syntax pre-filter lets it through. Local functions and lambdas are not blocks of their own: they
/// are analysed inside their enclosing block's graph.
/// </summary>
internal static class CodeBlocks
{
    /// <summary>The tree's method-like code blocks, in source order. Member bodies are not entered.</summary>
    public static IEnumerable<SyntaxNode> Of(SyntaxNode root)
    {
        // Top-level statements: the compilation unit is the block of the synthesized entry point.
        if (root is CompilationUnitSyntax unit && unit.Members.Any(member => member is GlobalStatementSyntax))
            yield return unit;
        foreach (var node in root.DescendantNodes(ContainsCodeBlocks))
        {
            switch (node)
            {
                case BaseMethodDeclarationSyntax or AccessorDeclarationSyntax:
                case ArrowExpressionClauseSyntax { Parent: PropertyDeclarationSyntax or IndexerDeclarationSyntax }:
                case TypeDeclarationSyntax { ParameterList: not null }:
                    yield return node;
                    break;
            }
        }
    }

    private static bool ContainsCodeBlocks(SyntaxNode node) =>
        node is CompilationUnitSyntax or BaseNamespaceDeclarationSyntax or TypeDeclarationSyntax
            or BasePropertyDeclarationSyntax or AccessorListSyntax;

    /// <summary>The method that owns the block (the getter of an expression-bodied property), or null.</summary>
    public static IMethodSymbol? OwningMethod(SyntaxNode codeBlock, SemanticModel model, CancellationToken cancellationToken) => codeBlock switch
    {
        ArrowExpressionClauseSyntax { Parent: { } property } => (model.GetDeclaredSymbol(property, cancellationToken) as IPropertySymbol)?.GetMethod,
        TypeDeclarationSyntax type => PrimaryConstructor(type, model, cancellationToken),
        CompilationUnitSyntax unit => unit.Members.OfType<GlobalStatementSyntax>().FirstOrDefault() is { } first
            ? model.GetEnclosingSymbol(first.Statement.SpanStart, cancellationToken) as IMethodSymbol
            : null,
        _ => model.GetDeclaredSymbol(codeBlock, cancellationToken) as IMethodSymbol,
    };

    private static IMethodSymbol? PrimaryConstructor(TypeDeclarationSyntax type, SemanticModel model, CancellationToken cancellationToken) =>
        (model.GetDeclaredSymbol(type, cancellationToken) as INamedTypeSymbol)?.InstanceConstructors.FirstOrDefault(constructor =>
            constructor.DeclaringSyntaxReferences.Any(reference => reference.SyntaxTree == type.SyntaxTree && reference.Span == type.Span));

    /// <summary>
    /// Declared in code marked <c>[GeneratedCode]</c> (the method or a containing type): the driver skips such
    /// blocks for an analyzer that does not analyse generated code; a per-tree action has to skip them itself.
    /// </summary>
    public static bool IsGeneratedCode(ISymbol symbol)
    {
        for (var current = symbol; current is not null and not INamespaceSymbol; current = current.ContainingSymbol)
        {
            if (current.GetAttributes().Any(attribute => attribute.AttributeClass is { Name: "GeneratedCodeAttribute" } c
                    && c.ContainingNamespace?.ToDisplayString() == "System.CodeDom.Compiler"))
                return true;
        }
        return false;
    }
}
