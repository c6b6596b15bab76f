using System.Collections.Generic;
using System.Composition;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using XenPreemptAnalyzers.CodeFixes.Infrastructure;

namespace XenPreemptAnalyzers.CodeFixes;

/// <summary>
/// XPA0005: call the release (<c>preempt_enable()</c>, <c>migrate_enable()</c>, <c>local_irq_enable()</c>,
/// <c>xen_preemptible_hcall_end()</c>, …) right before the exit; or wrap everything after the body's
/// top-level acquire in <c>try</c>/<c>finally</c> with the release in the <c>finally</c>. Not offered where
/// the exit enables more than it disabled (nothing to add), nor try/finally when the body already
/// releases elsewhere than in its last statement.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(Xpa0005CodeFixProvider)), Shared]
public sealed class Xpa0005CodeFixProvider : PreemptCodeFixProvider
{
    public const string ReleaseBeforeExit = "XPA0005.ReleaseBeforeExit";
    public const string WrapInTryFinally = "XPA0005.WrapInTryFinally";

    private protected override string DiagnosticId => DiagnosticIds.UnbalancedContextAtExit;

    private protected override IEnumerable<FixOffer> Offers(SemanticModel model, SyntaxNode root, Diagnostic diagnostic)
    {
        if (Property(diagnostic, DiagnosticProperties.Rebalance) is not { Length: > 0 } release)
            yield break;
        if (ExitStatement(root, diagnostic) is { } exit && KernelNames.Find(model, exit.Target.SpanStart, release).Found)
            yield return new FixOffer($"Call '{release}()' before this exit", ReleaseBeforeExit);
        if (TryFinallyPlan(root, diagnostic) is { } plan)
            yield return new FixOffer($"Wrap the code after '{plan.Acquire}()' in try/finally with '{release}()' in the finally", WrapInTryFinally);
    }

    private protected override void Plan(SemanticModel model, SyntaxNode root, Diagnostic diagnostic, string equivalenceKey, DocumentRewrite rewrite)
    {
        var release = Property(diagnostic, DiagnosticProperties.Rebalance)!;
        switch (equivalenceKey)
        {
            case ReleaseBeforeExit:
                var exit = ExitStatement(root, diagnostic)!.Value;
                rewrite.AddUsingStatic(KernelNames.Find(model, exit.Target.SpanStart, release).UsingStatic);
                if (exit.After)
                    rewrite.InsertAfter(exit.Target, release + "();");
                else
                    rewrite.InsertBefore(exit.Target, release + "();");
                break;
            case WrapInTryFinally:
                var plan = TryFinallyPlan(root, diagnostic)!.Value;
                rewrite.TryFinally(plan.Body, plan.From, release + "();", plan.DropLast);
                break;
        }
    }

    /// <summary>
    /// The <c>return</c>/<c>throw</c> to insert before. Falling off the end gets no such fix: the closing
    /// brace is shared by every path, and a release there would be one too many on the balanced ones.
    /// </summary>
    private static (StatementSyntax Target, bool After)? ExitStatement(SyntaxNode root, Diagnostic diagnostic) =>
        NodeAt(root, diagnostic) is StatementSyntax statement and (ReturnStatementSyntax or ThrowStatementSyntax) ? (statement, false) : null;

    private static (BlockSyntax Body, int From, bool DropLast, string Acquire)? TryFinallyPlan(SyntaxNode root, Diagnostic diagnostic)
    {
        if (Property(diagnostic, DiagnosticProperties.Acquire) is not { Length: > 0 } acquire
            || Property(diagnostic, DiagnosticProperties.Rebalance) is not { Length: > 0 } release)
            return null;
        var node = root.FindToken(diagnostic.Location.SourceSpan.Start).Parent;
        var body = node?.AncestorsAndSelf().Select(n => n switch
        {
            BaseMethodDeclarationSyntax method => method.Body,
            LocalFunctionStatementSyntax local => local.Body,
            AccessorDeclarationSyntax accessor => accessor.Body,
            _ => null,
        }).FirstOrDefault(b => b is not null);
        if (body is null)
            return null;
        var statements = body.Statements;
        var index = -1;
        for (var i = 0; i < statements.Count; i++)
        {
            if (Calls(statements[i], acquire))
            {
                if (index >= 0)
                    return null; // acquired twice at top level: not one region
                index = i;
            }
        }
        if (index < 0 || index == statements.Count - 1)
            return null;
        var dropLast = Calls(statements[statements.Count - 1], release);
        var rest = statements.Skip(index + 1).Take(statements.Count - index - 1 - (dropLast ? 1 : 0));
        if (rest.Any(s => s.DescendantNodesAndSelf().OfType<InvocationExpressionSyntax>().Any(i => KernelNames.CalledName(i)?.Identifier.ValueText is { } n && (n == release || n == acquire))))
            return null;
        return (body, index + 1, dropLast, acquire);
    }

    private static bool Calls(StatementSyntax statement, string name) =>
        statement is ExpressionStatementSyntax { Expression: InvocationExpressionSyntax invocation }
        && KernelNames.CalledName(invocation)?.Identifier.ValueText == name;
}
