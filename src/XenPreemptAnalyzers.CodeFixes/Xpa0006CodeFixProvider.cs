using System.Collections.Generic;
using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;
using XenPreemptAnalyzers.CodeFixes.Infrastructure;

namespace XenPreemptAnalyzers.CodeFixes;

/// <summary>
/// XPA0006: where only IRQs make the context atomic, bracket the call's statement with
/// <c>local_irq_enable()</c>/<c>local_irq_disable()</c>; where preemption does, call it only when
/// <c>preempt_count() == 0</c>.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(Xpa0006CodeFixProvider)), Shared]
public sealed class Xpa0006CodeFixProvider : PreemptCodeFixProvider
{
    public const string BracketWithIrqEnable = "XPA0006.BracketWithIrqEnable";
    public const string GuardWithPreemptCount = "XPA0006.GuardWithPreemptCount";

    private protected override string DiagnosticId => DiagnosticIds.SleepInAtomicContext;

    private protected override IEnumerable<FixOffer> Offers(SemanticModel model, SyntaxNode root, Diagnostic diagnostic)
    {
        if (NodeAt(root, diagnostic)?.FirstAncestorOrSelf<InvocationExpressionSyntax>() is not { } invocation
            || KernelNames.ContainingStatement(invocation) is not { } statement)
            yield break;
        var because = DiagnosticProperties.Read<AtomicCause>(diagnostic, DiagnosticProperties.AtomicBecause);
        if (because == AtomicCause.Irqs
            && KernelNames.Find(model, statement.SpanStart, "local_irq_enable").Found && KernelNames.Find(model, statement.SpanStart, "local_irq_disable").Found)
            yield return new FixOffer("Bracket the statement with 'local_irq_enable()' and 'local_irq_disable()'", BracketWithIrqEnable);
        if (because == AtomicCause.Preemption && statement is ExpressionStatementSyntax { Expression: var expression } && expression == invocation
            && KernelNames.Find(model, statement.SpanStart, "preempt_count").Found)
            yield return new FixOffer("Call it only when 'preempt_count() == 0'", GuardWithPreemptCount);
    }

    private protected override void Plan(SemanticModel model, SyntaxNode root, Diagnostic diagnostic, string equivalenceKey, DocumentRewrite rewrite)
    {
        var invocation = NodeAt(root, diagnostic)!.FirstAncestorOrSelf<InvocationExpressionSyntax>()!;
        var statement = KernelNames.ContainingStatement(invocation)!;
        switch (equivalenceKey)
        {
            case BracketWithIrqEnable:
                rewrite.AddUsingStatic(KernelNames.Find(model, statement.SpanStart, "local_irq_enable").UsingStatic);
                rewrite.AddUsingStatic(KernelNames.Find(model, statement.SpanStart, "local_irq_disable").UsingStatic);
                rewrite.InsertBefore(statement, "local_irq_enable();");
                rewrite.InsertAfter(statement, "local_irq_disable();");
                break;
            case GuardWithPreemptCount:
                rewrite.AddUsingStatic(KernelNames.Find(model, statement.SpanStart, "preempt_count").UsingStatic);
                rewrite.Transform(statement, current =>
                {
                    var condition = SyntaxFactory.ParseExpression("preempt_count() == 0");
                    return SyntaxFactory.IfStatement(condition, current.WithoutLeadingTrivia().WithoutTrailingTrivia().WithAdditionalAnnotations(Formatter.Annotation))
                        .WithLeadingTrivia(current.GetLeadingTrivia())
                        .WithTrailingTrivia(current.GetTrailingTrivia())
                        .WithAdditionalAnnotations(Formatter.Annotation);
                });
                break;
        }
    }
}
