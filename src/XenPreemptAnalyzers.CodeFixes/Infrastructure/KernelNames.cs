using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace XenPreemptAnalyzers.CodeFixes.Infrastructure;

/// <summary>Can a kernel name be called at a position, and what (if anything) must be imported for it.</summary>
internal readonly struct NameInScope
{
    private NameInScope(bool found, string? usingStatic)
    {
        Found = found;
        UsingStatic = usingStatic;
    }

    public bool Found { get; }

    /// <summary>The type to import with <c>using static</c>, when the name is not already in scope.</summary>
    public string? UsingStatic { get; }

    public static readonly NameInScope Missing = new(false, null);
    public static readonly NameInScope InScope = new(true, null);

    public static NameInScope Import(string type) => new(true, type);
}

internal static class KernelNames
{
    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted);

    /// <summary>
    /// A method named <paramref name="name"/> callable by its simple name at <paramref name="position"/>;
    /// else one static method of that name in exactly one accessible source type (then a
    /// <c>using static</c> of that type is needed); else missing.
    /// </summary>
    public static NameInScope Find(SemanticModel model, int position, string name)
    {
        if (model.LookupSymbols(position, name: name).Any(s => s is IMethodSymbol))
            return NameInScope.InScope;
        var types = model.Compilation.GetSymbolsWithName(name, SymbolFilter.Member)
            .OfType<IMethodSymbol>()
            .Where(m => m.IsStatic && m.MethodKind == MethodKind.Ordinary && model.IsAccessible(position, m))
            .Select(m => m.ContainingType)
            .Distinct<INamedTypeSymbol>(SymbolEqualityComparer.Default)
            .ToList();
        return types.Count == 1 && !types[0].IsGenericType ? NameInScope.Import(types[0].ToDisplayString(TypeFormat)) : NameInScope.Missing;
    }

    /// <summary>
    /// Can the call <paramref name="invocation"/> be redirected to <paramref name="newName"/>? For
    /// <c>Kernel.f()</c> the new name must be a method of the same type; for <c>f()</c>, see <see cref="Find"/>.
    /// </summary>
    public static NameInScope FindReplacement(SemanticModel model, InvocationExpressionSyntax invocation, string newName)
    {
        switch (invocation.Expression)
        {
            case MemberAccessExpressionSyntax access:
                var receiver = model.GetSymbolInfo(invocation).Symbol?.ContainingType;
                return receiver is not null && model.LookupSymbols(invocation.SpanStart, receiver, newName).Any(s => s is IMethodSymbol)
                    ? NameInScope.InScope
                    : NameInScope.Missing;
            case SimpleNameSyntax:
                return Find(model, invocation.SpanStart, newName);
            default:
                return NameInScope.Missing;
        }
    }

    /// <summary>The simple name a call is made through: <c>f</c> in <c>f()</c>, <c>K.f()</c>, <c>f&lt;T&gt;()</c>.</summary>
    public static SimpleNameSyntax? CalledName(InvocationExpressionSyntax invocation) => invocation.Expression switch
    {
        SimpleNameSyntax name => name,
        MemberAccessExpressionSyntax access => access.Name,
        MemberBindingExpressionSyntax binding => binding.Name,
        _ => null,
    };

    /// <summary>The statement an expression belongs to, for bracketing: never a block, a label or a local function.</summary>
    public static StatementSyntax? ContainingStatement(SyntaxNode node)
    {
        for (var current = node.Parent; current is not null; current = current.Parent)
        {
            if (current is AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax or MemberDeclarationSyntax)
                return null;
            if (current is StatementSyntax statement)
                return statement is ExpressionStatementSyntax or LocalDeclarationStatementSyntax ? statement : null;
        }
        return null;
    }

    public static bool Is(string? a, string b) => string.Equals(a, b, StringComparison.Ordinal);
}
