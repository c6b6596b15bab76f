using System.Collections.Generic;
using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using XenPreemptAnalyzers.CodeFixes.Infrastructure;

namespace XenPreemptAnalyzers.CodeFixes;

/// <summary>
/// XPA0004: call the preempt-safe <c>this_cpu_*</c> op (a single access); for <c>smp_processor_id()</c> use
/// <c>get_cpu()</c> and <c>put_cpu()</c> after the statement; or bracket the statement with
/// <c>preempt_disable()</c>/<c>preempt_enable()</c>. Offered in that order, each only when its names are in
/// scope (a <c>using static</c> is added when exactly one type declares them).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(Xpa0004CodeFixProvider)), Shared]
public sealed class Xpa0004CodeFixProvider : PreemptCodeFixProvider
{
    public const string UsePreemptSafeOp = "XPA0004.UsePreemptSafeOp";
    public const string UseGetCpuPutCpu = "XPA0004.UseGetCpuPutCpu";
    public const string BracketWithPreemptDisable = "XPA0004.BracketWithPreemptDisable";

    private protected override string DiagnosticId => DiagnosticIds.CheckedPerCpuAccessInPreemptibleCode;

    private protected override IEnumerable<FixOffer> Offers(SemanticModel model, SyntaxNode root, Diagnostic diagnostic)
    {
        if (NodeAt(root, diagnostic)?.FirstAncestorOrSelf<InvocationExpressionSyntax>() is not { } invocation
            || KernelNames.CalledName(invocation) is not { } name)
            yield break;
        var called = name.Identifier.ValueText;
        if (Property(diagnostic, DiagnosticProperties.PreemptSafeVariant) is { Length: > 0 } safe
            && KernelNames.FindReplacement(model, invocation, safe).Found)
            yield return new FixOffer($"Call '{safe}' instead of '{called}' (one preempt-safe access)", UsePreemptSafeOp);

        if (KernelNames.ContainingStatement(invocation) is not { } statement)
            yield break;
        if (called == "smp_processor_id" && invocation.ArgumentList.Arguments.Count == 0
            && KernelNames.FindReplacement(model, invocation, "get_cpu").Found && KernelNames.Find(model, statement.SpanStart, "put_cpu").Found)
            yield return new FixOffer("Call 'get_cpu()' instead of 'smp_processor_id()' and 'put_cpu()' after the statement", UseGetCpuPutCpu);
        if (KernelNames.Find(model, statement.SpanStart, "preempt_disable").Found && KernelNames.Find(model, statement.SpanStart, "preempt_enable").Found)
            yield return new FixOffer("Bracket the statement with 'preempt_disable()' and 'preempt_enable()'", BracketWithPreemptDisable);
    }

    private protected override void Plan(SemanticModel model, SyntaxNode root, Diagnostic diagnostic, string equivalenceKey, DocumentRewrite rewrite)
    {
        var invocation = NodeAt(root, diagnostic)!.FirstAncestorOrSelf<InvocationExpressionSyntax>()!;
        var name = KernelNames.CalledName(invocation)!;
        var statement = KernelNames.ContainingStatement(invocation);
        switch (equivalenceKey)
        {
            case UsePreemptSafeOp:
                var safe = Property(diagnostic, DiagnosticProperties.PreemptSafeVariant)!;
                rewrite.Rename(name, safe);
                rewrite.AddUsingStatic(KernelNames.FindReplacement(model, invocation, safe).UsingStatic);
                break;
            case UseGetCpuPutCpu:
                rewrite.Rename(name, "get_cpu");
                rewrite.AddUsingStatic(KernelNames.FindReplacement(model, invocation, "get_cpu").UsingStatic);
                rewrite.AddUsingStatic(KernelNames.Find(model, statement!.SpanStart, "put_cpu").UsingStatic);
                rewrite.InsertAfter(statement, "put_cpu();");
                break;
            case BracketWithPreemptDisable:
                rewrite.AddUsingStatic(KernelNames.Find(model, statement!.SpanStart, "preempt_disable").UsingStatic);
                rewrite.AddUsingStatic(KernelNames.Find(model, statement.SpanStart, "preempt_enable").UsingStatic);
                rewrite.InsertBefore(statement, "preempt_disable();");
                rewrite.InsertAfter(statement, "preempt_enable();");
                break;
        }
    }
}
