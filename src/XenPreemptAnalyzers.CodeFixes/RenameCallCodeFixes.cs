using System.Collections.Generic;
using System.Composition;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using XenPreemptAnalyzers.CodeFixes.Infrastructure;

namespace XenPreemptAnalyzers.CodeFixes;

/// <summary>A fix that calls another variant of the same primitive, named by a diagnostic property.</summary>
public abstract class RenameCallCodeFixProvider : PreemptCodeFixProvider
{
    private protected abstract string VariantProperty { get; }

    private protected abstract string EquivalenceKey { get; }

    private protected abstract string Title(string called, string variant);

    private protected sealed override IEnumerable<FixOffer> Offers(SemanticModel model, SyntaxNode root, Diagnostic diagnostic)
    {
        if (Target(model, root, diagnostic) is { } target)
            yield return new FixOffer(Title(target.Name.Identifier.ValueText, target.Variant), EquivalenceKey);
    }

    private protected sealed override void Plan(SemanticModel model, SyntaxNode root, Diagnostic diagnostic, string equivalenceKey, DocumentRewrite rewrite)
    {
        if (Target(model, root, diagnostic) is not { } target)
            return;
        rewrite.Rename(target.Name, target.Variant);
        rewrite.AddUsingStatic(target.Scope.UsingStatic);
    }

    private (SimpleNameSyntax Name, string Variant, NameInScope Scope)? Target(SemanticModel model, SyntaxNode root, Diagnostic diagnostic)
    {
        if (Property(diagnostic, VariantProperty) is not { Length: > 0 } variant
            || NodeAt(root, diagnostic)?.FirstAncestorOrSelf<InvocationExpressionSyntax>() is not { } invocation
            || KernelNames.CalledName(invocation) is not { } name)
            return null;
        var scope = KernelNames.FindReplacement(model, invocation, variant);
        return scope.Found ? (name, variant, scope) : null;
    }
}

/// <summary>XPA0002: call the never-patched variant (<c>raw_irqentry_exit_cond_resched</c>, <c>__cond_resched</c>, …), when it exists in scope.</summary>
[ExportCodeFixProvider(Microsoft.CodeAnalysis.LanguageNames.CSharp, Name = nameof(Xpa0002CodeFixProvider)), Shared]
public sealed class Xpa0002CodeFixProvider : RenameCallCodeFixProvider
{
    public const string CallRawVariant = "XPA0002.CallRawVariant";

    private protected override string DiagnosticId => DiagnosticIds.PatchableRescheduleOnHypercallPath;

    private protected override string VariantProperty => DiagnosticProperties.RawVariant;

    private protected override string EquivalenceKey => CallRawVariant;

    private protected override string Title(string called, string variant) => $"Call '{variant}' instead of '{called}' (never patched out)";
}

/// <summary>XPA0003: call the patchable variant, which honours the boot-time preemption mode, when it exists in scope.</summary>
[ExportCodeFixProvider(Microsoft.CodeAnalysis.LanguageNames.CSharp, Name = nameof(Xpa0003CodeFixProvider)), Shared]
public sealed class Xpa0003CodeFixProvider : RenameCallCodeFixProvider
{
    public const string CallPatchableVariant = "XPA0003.CallPatchableVariant";

    private protected override string DiagnosticId => DiagnosticIds.RawRescheduleOnGenericPath;

    private protected override string VariantProperty => DiagnosticProperties.PatchableVariant;

    private protected override string EquivalenceKey => CallPatchableVariant;

    private protected override string Title(string called, string variant) => $"Call '{variant}' instead of '{called}' (honours the preemption mode)";
}
