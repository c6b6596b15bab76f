using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;

namespace XenPreemptAnalyzers.Flow;

/// <summary>Where a path leaves a method: the <c>return</c> or <c>throw</c>, else the closing brace.</summary>
internal static class ExitSites
{
    public static Location For(ControlFlowBranch branch, ControlFlowGraph graph)
    {
        var source = branch.Source;
        var root = graph.OriginalOperation.Syntax;

        // return expr; / throw expr; / an expression body: the value's statement says where.
        if (source.ConditionKind == ControlFlowConditionKind.None && source.BranchValue is { } value)
        {
            var statement = value.Syntax.FirstAncestorOrSelf<SyntaxNode>(n => n is ReturnStatementSyntax or ThrowStatementSyntax or ArrowExpressionClauseSyntax);
            if (statement is ArrowExpressionClauseSyntax arrow)
                return arrow.Expression.GetLocation();
            if (statement is not null)
                return statement.GetLocation();
        }

        // return; has no operation of its own: it is the bare return that runs right after the last thing the block did.
        var anchor = source.ConditionKind != ControlFlowConditionKind.None ? source.BranchValue?.Syntax : source.Operations.LastOrDefault()?.Syntax;
        if (anchor is not null && NextBareReturn(root, anchor) is { } bareReturn)
            return bareReturn.GetLocation();

        // Falling off the end of the body.
        return root.GetLastToken().GetLocation();
    }

    private static ReturnStatementSyntax? NextBareReturn(SyntaxNode root, SyntaxNode anchor)
    {
        // The statements after the anchor in document order: DescendantNodes is a pre-order walk, whose nodes start in
        // non-decreasing order (a parent where its first child does), so no sort is needed, and a subtree that ends
        // before the anchor holds none of them and is not entered.
        var after = anchor.Span.End;
        var statements = root.DescendantNodes(n => n == root || (n.FullSpan.End >= after && n is not (AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax)));
        foreach (var node in statements)
        {
            if (node is not StatementSyntax statement || statement.SpanStart < after)
                continue;
            if (statement is ReturnStatementSyntax { Expression: null } bareReturn)
                return bareReturn;
            // A block or if that merely contains the return is not "another statement in between".
            if (statement is not (BlockSyntax or IfStatementSyntax))
                return null;
        }
        return null;
    }
}
