using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace XenPreemptAnalyzers.Recognition;

/// <summary>What a source method's body says about the build it is compiled in.</summary>
internal static class MethodBodies
{
    /// <summary>
    /// A method compiled as an empty stub in this build: declared in source, no statement in its body,
    /// and inside an <c>#if</c> — in a kernel port, the other branch of a Kconfig guard
    /// (<c>#else static inline void xen_preemptible_hcall_begin(void) { }</c>). An empty method outside
    /// any <c>#if</c> is an API stub of a port or a test, not something compiled out. Metadata, abstract,
    /// extern and partial-without-implementation methods are not known to be stubs.
    /// </summary>
    public static bool IsCompiledOutStub(IMethodSymbol method)
    {
        method = method.PartialImplementationPart ?? method;
        if (method.DeclaringSyntaxReferences.Length != 1 || method.IsAbstract || method.IsExtern)
            return false;
        var declaration = method.DeclaringSyntaxReferences[0].GetSyntax();
        var body = declaration switch
        {
            BaseMethodDeclarationSyntax m => m.Body,
            LocalFunctionStatementSyntax f => f.Body,
            _ => null,
        };
        return body is { Statements.Count: 0 } && IsUnderConditionalCompilation(declaration);
    }

    /// <summary>Is the node between an <c>#if</c> and its <c>#endif</c>?</summary>
    private static bool IsUnderConditionalCompilation(SyntaxNode node)
    {
        int depth = 0;
        foreach (var trivia in node.SyntaxTree.GetRoot().DescendantTrivia(new TextSpan(0, node.SpanStart)))
        {
            if (trivia.SpanStart >= node.SpanStart)
                break;
            if (trivia.IsKind(SyntaxKind.IfDirectiveTrivia))
                depth++;
            else if (trivia.IsKind(SyntaxKind.EndIfDirectiveTrivia))
                depth--;
        }
        return depth > 0;
    }
}
