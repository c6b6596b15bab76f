using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Composition;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using XenPreemptAnalyzers.CodeFixes.Infrastructure;

namespace XenPreemptAnalyzers.CodeFixes;

/// <summary>
/// XPA0001 (b): re-read the cached per-CPU value or CPU id into its local right before the statement
/// that uses it, after the preemption point. Offered only when the use is in a plain statement after the
/// point, the local is assignable, and the read binds there.
/// XPA0001 (a): move the per-CPU preemptible-hypercall state the region begin writes to the task — one fix
/// per <c>TIF_…HCALL…</c>/<c>TIF_…HYPERCALL…</c> constant (with <c>set/clear/test_thread_flag</c>) and per
/// <c>[PerTask]</c> bool member the compilation declares — rewriting every access in the solution
/// (<see cref="HypercallStateMove"/>); where the port declares no such home, one fix that introduces a
/// <c>[PerTask]</c> member (<see cref="PerTaskSlot"/>). Every move is computed when picked, not when offered.
/// Fix All of a move is solution-wide per variable, each variable once.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(Xpa0001CodeFixProvider)), Shared]
public sealed class Xpa0001CodeFixProvider : PreemptCodeFixProvider
{
    public const string ReReadAfterPoint = "XPA0001.ReReadAfterPoint";

    /// <summary>Prefix of the equivalence keys of the move to a thread flag; the key ends with <c>Type.TIF_NAME</c>.</summary>
    public const string MoveToThreadFlagPrefix = HypercallStateMove.ThreadFlagKeyPrefix;

    /// <summary>Prefix of the equivalence keys of the move to a <c>[PerTask]</c> member; the key ends with <c>Type.member</c>.</summary>
    public const string MoveToPerTaskMemberPrefix = HypercallStateMove.PerTaskMemberKeyPrefix;

    private protected override string DiagnosticId => DiagnosticIds.PerCpuStateAcrossPreemption;

    /// <summary>The equivalence key of the fix that introduces a per-task member where the port has none (<see cref="PerTaskSlot"/>).</summary>
    public const string IntroducePerTaskMember = PerTaskSlot.Key;

    /// <summary>
    /// Registers the moves without computing them (as vs-threading's fixes do): the light bulb needs only titles, and
    /// finding the state variable and the per-task homes takes a few lookups by name. Finding every reference, the
    /// edits and the formatting happen in the action, when the user picks it. A move that turns out impossible (an
    /// access that cannot be rewritten) then leaves the solution as it was.
    /// </summary>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        await base.RegisterCodeFixesAsync(context).ConfigureAwait(false);
        var regions = context.Diagnostics.Where(d => DiagnosticProperties.Read<CachedValueFinding>(d, DiagnosticProperties.Finding) == CachedValueFinding.Region).ToList();
        if (regions.Count == 0)
            return;
        var document = context.Document;
        var root = await document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
            return;
        foreach (var diagnostic in regions)
        {
            var span = diagnostic.Location.SourceSpan;
            var variable = HypercallStateMove.StateVariable(model, root, span, context.CancellationToken);
            var targets = variable is null ? new List<PerTaskTarget>() : HypercallStateMove.Targets(model.Compilation, context.CancellationToken).ToList();
            foreach (var target in targets)
            {
                var key = target.Key;
                context.RegisterCodeFix(CodeAction.Create(target.Title(variable!),
                    async ct => await HypercallStateMove.MoveAsync(document.Project.Solution, new[] { variable! }, key, ct).ConfigureAwait(false) ?? document.Project.Solution,
                    key), diagnostic);
            }
            // No home for the state yet (none declared, or the begin writes nothing to move): offer to make one.
            if (targets.Count == 0 && PerTaskSlot.Find(model, root, span, context.CancellationToken) is not null)
            {
                context.RegisterCodeFix(CodeAction.Create(PerTaskSlot.Title(variable?.Name),
                    ct => PerTaskSlot.IntroduceAsync(document, span, ct), PerTaskSlot.Key), diagnostic);
            }
        }
    }

    public override FixAllProvider GetFixAllProvider() => new MoveOrReReadFixAll(DocumentFixAll);

    /// <summary>
    /// The re-read fix runs per document (<see cref="PreemptCodeFixProvider.DocumentFixAll"/>); a move is one
    /// solution-wide rewrite of every distinct state variable behind the diagnostics in scope.
    /// </summary>
    private sealed class MoveOrReReadFixAll : FixAllProvider
    {
        private readonly FixAllProvider _documents;

        public MoveOrReReadFixAll(FixAllProvider documents) => _documents = documents;

        public override IEnumerable<FixAllScope> GetSupportedFixAllScopes() =>
            ImmutableArray.Create(FixAllScope.Document, FixAllScope.Project, FixAllScope.Solution);

        public override async Task<CodeAction?> GetFixAsync(FixAllContext fixAllContext)
        {
            var key = fixAllContext.CodeActionEquivalenceKey;
            if (key == PerTaskSlot.Key)
                return await IntroduceOnceAsync(fixAllContext).ConfigureAwait(false);
            if (!HypercallStateMove.IsMoveKey(key))
                return await _documents.GetFixAsync(fixAllContext).ConfigureAwait(false);

            var cancellationToken = fixAllContext.CancellationToken;
            var diagnostics = new List<Diagnostic>();
            switch (fixAllContext.Scope)
            {
                case FixAllScope.Document when fixAllContext.Document is { } document:
                    diagnostics.AddRange(await fixAllContext.GetDocumentDiagnosticsAsync(document).ConfigureAwait(false));
                    break;
                case FixAllScope.Project:
                    diagnostics.AddRange(await fixAllContext.GetAllDiagnosticsAsync(fixAllContext.Project).ConfigureAwait(false));
                    break;
                case FixAllScope.Solution:
                    foreach (var project in fixAllContext.Solution.Projects)
                        diagnostics.AddRange(await fixAllContext.GetAllDiagnosticsAsync(project).ConfigureAwait(false));
                    break;
            }

            var solution = fixAllContext.Solution;
            var variables = new List<ISymbol>();
            var seen = new HashSet<(string?, int)>();
            foreach (var diagnostic in diagnostics.Where(d => DiagnosticProperties.Read<CachedValueFinding>(d, DiagnosticProperties.Finding) == CachedValueFinding.Region)
                .OrderBy(d => d.Location.SourceTree?.FilePath, System.StringComparer.Ordinal).ThenBy(d => d.Location.SourceSpan.Start))
            {
                if (solution.GetDocument(diagnostic.Location.SourceTree) is not { } document
                    || await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false) is not { } root
                    || await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false) is not { } model
                    || HypercallStateMove.StateVariable(model, root, diagnostic.Location.SourceSpan, cancellationToken) is not { } variable)
                    continue;
                var declared = variable.Locations.First(l => l.IsInSource);
                if (!seen.Add((declared.SourceTree?.FilePath, declared.SourceSpan.Start)))
                    continue;
                // Only the variables the single fix is offered for.
                if (await HypercallStateMove.MoveAsync(solution, new[] { variable }, key!, cancellationToken).ConfigureAwait(false) is not null)
                    variables.Add(variable);
            }
            if (variables.Count == 0)
                return null;
            return CodeAction.Create(
                $"Move the preemptible-hypercall state of {variables.Count} variable(s) to the task",
                async ct => await HypercallStateMove.MoveAsync(solution, variables, key!, ct).ConfigureAwait(false) ?? solution,
                key);
        }
    }

    /// <summary>
    /// Fix All of the introduction: one member for the state, so one introduction, at the first region (by file and
    /// position) it is offered for; the other regions of the same begin are fixed by it, and a second begin with a state
    /// of its own is left for a second run.
    /// </summary>
    private static async Task<CodeAction?> IntroduceOnceAsync(FixAllContext fixAllContext)
    {
        var diagnostics = new List<Diagnostic>();
        if (fixAllContext.Scope == FixAllScope.Document && fixAllContext.Document is { } single)
            diagnostics.AddRange(await fixAllContext.GetDocumentDiagnosticsAsync(single).ConfigureAwait(false));
        else
            foreach (var project in fixAllContext.Scope == FixAllScope.Solution ? fixAllContext.Solution.Projects : new[] { fixAllContext.Project })
                diagnostics.AddRange(await fixAllContext.GetAllDiagnosticsAsync(project).ConfigureAwait(false));
        foreach (var diagnostic in diagnostics.Where(d => Property(d, DiagnosticProperties.Finding) == "Region")
            .OrderBy(d => d.Location.SourceTree?.FilePath, System.StringComparer.Ordinal).ThenBy(d => d.Location.SourceSpan.Start))
        {
            if (fixAllContext.Solution.GetDocument(diagnostic.Location.SourceTree) is not { } document
                || await document.GetSyntaxRootAsync(fixAllContext.CancellationToken).ConfigureAwait(false) is not { } root
                || await document.GetSemanticModelAsync(fixAllContext.CancellationToken).ConfigureAwait(false) is not { } model
                || PerTaskSlot.Find(model, root, diagnostic.Location.SourceSpan, fixAllContext.CancellationToken) is null)
                continue;
            var span = diagnostic.Location.SourceSpan;
            return CodeAction.Create(PerTaskSlot.Title(null), ct => PerTaskSlot.IntroduceAsync(document, span, ct), PerTaskSlot.Key);
        }
        return null;
    }

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
        if (DiagnosticProperties.Read<CachedValueFinding>(diagnostic, DiagnosticProperties.Finding) != CachedValueFinding.CachedValue
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
