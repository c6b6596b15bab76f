// SPDX-License-Identifier: MIT
using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.FindSymbols;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Text;

namespace XenPreemptAnalyzers.CodeFixes.Infrastructure;

/// <summary>
/// XPA0001 (a) for a port with no per-task home for the hypercall state: introduce one, as our fix does
/// (samples/KernelPortFixed/Primitives.cs). A <c>[PerTask] bool current_in_preemptible_hcall</c> member is declared
/// before the region begin, in its type. If the begin writes a per-CPU variable, every access of that variable moves to
/// the new member (<see cref="HypercallStateMove"/>); if it writes nothing (an empty bracket, as in samples/KernelPort),
/// the begin sets the member and the end clears it. Found cheaply (<see cref="Find"/>, for the light bulb); the edit
/// is made only when the fix is picked (<see cref="IntroduceAsync"/>).
/// </summary>
internal static class PerTaskSlot
{
    public const string Key = "XPA0001.IntroducePerTaskMember";
    public const string MemberName = "current_in_preemptible_hcall";

    /// <summary>What the fix needs, from the diagnostic's region begin: null where it cannot be offered.</summary>
    internal sealed record Plan(IMethodSymbol Begin, IMethodSymbol End, INamedTypeSymbol PerTaskAttribute);

    /// <summary>
    /// The begin called at <paramref name="span"/> and its end, both declared in source in one type with block or empty
    /// bodies, that type having no member of <see cref="MemberName"/>, and a <c>PerTask</c> attribute class to use.
    /// </summary>
    public static Plan? Find(SemanticModel model, SyntaxNode root, TextSpan span, CancellationToken cancellationToken)
    {
        var invocation = root.FindNode(span, getInnermostNodeForTie: true).FirstAncestorOrSelf<InvocationExpressionSyntax>();
        if (invocation is null || model.GetSymbolInfo(invocation, cancellationToken).Symbol is not IMethodSymbol { DeclaringSyntaxReferences.Length: 1 } begin
            || begin.ContainingType is not { } type || !type.GetMembers(MemberName).IsEmpty)
            return null;
        var end = type.GetMembers().OfType<IMethodSymbol>().FirstOrDefault(m => !SymbolEqualityComparer.Default.Equals(m, begin)
            && m.DeclaringSyntaxReferences.Length == 1 && m.IsStatic == begin.IsStatic
            && (m.GetAttributes().Any(a => a.AttributeClass?.Name is "PreemptibleHypercallEnd" or "PreemptibleHypercallEndAttribute")
                || m.Name == begin.Name.Replace("begin", "end")));
        if (end is null || !Editable(begin, cancellationToken) || !Editable(end, cancellationToken))
            return null;
        var attribute = model.Compilation.GetTypeByMetadataName("XenPreempt.Annotations.PerTaskAttribute")
            ?? model.Compilation.GetSymbolsWithName("PerTaskAttribute", SymbolFilter.Type, cancellationToken).OfType<INamedTypeSymbol>().FirstOrDefault();
        return attribute is null ? null : new Plan(begin, end, attribute);
    }

    public static string Title(string? variable) => variable is null
        ? $"Keep the preemptible-hypercall state in a new per-task member '{MemberName}' set by the region's begin and end"
        : $"Move '{variable}' to a new per-task member '{MemberName}' in every access";

    /// <summary>A method whose body the fix can add to: a block, or nothing but an empty block.</summary>
    private static bool Editable(IMethodSymbol method, CancellationToken cancellationToken) =>
        method.DeclaringSyntaxReferences[0].GetSyntax(cancellationToken) is MethodDeclarationSyntax { Body: not null, ExpressionBody: null };

    /// <summary>
    /// The solution with the member introduced and the state in it; the unchanged solution when the state variable's
    /// accesses cannot all be moved (the light bulb offered the fix without computing that).
    /// </summary>
    public static async Task<Solution> IntroduceAsync(Document document, TextSpan span, CancellationToken cancellationToken)
    {
        var solution = document.Project.Solution;
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || model is null || Find(model, root, span, cancellationToken) is not { } plan)
            return solution;
        var variable = HypercallStateMove.StateVariable(model, root, span, cancellationToken);

        var editor = new SolutionEditor(solution);
        var beginDeclaration = (MethodDeclarationSyntax)plan.Begin.DeclaringSyntaxReferences[0].GetSyntax(cancellationToken);
        var beginDocument = solution.GetDocument(beginDeclaration.SyntaxTree);
        if (beginDocument is null)
            return solution;
        var beginEditor = await editor.GetDocumentEditorAsync(beginDocument.Id, cancellationToken).ConfigureAwait(false);
        beginEditor.InsertBefore(beginDeclaration, Member(plan, beginEditor.SemanticModel, beginDeclaration, out var import));
        if (variable is null)
        {
            // Nothing per-CPU to move: the begin sets the member, the end clears it.
            SetIn(beginEditor, beginDeclaration, "true");
            var endDeclaration = (MethodDeclarationSyntax)plan.End.DeclaringSyntaxReferences[0].GetSyntax(cancellationToken);
            var endDocument = solution.GetDocument(endDeclaration.SyntaxTree);
            if (endDocument is null)
                return solution;
            SetIn(await editor.GetDocumentEditorAsync(endDocument.Id, cancellationToken).ConfigureAwait(false), endDeclaration, "false");
        }
        if (import is not null)
            AddUsing(beginEditor, import); // last: it replaces the whole compilation unit

        var withMember = await FormatAsync(editor.GetChangedSolution(), solution, cancellationToken).ConfigureAwait(false);
        if (variable is null)
            return withMember;

        // Then every access of the per-CPU variable moves to the new member, as the move to an existing one does.
        var project = withMember.GetProject(document.Project.Id)!;
        var moved = (await SymbolFinder.FindSourceDeclarationsAsync(project, variable.Name, ignoreCase: false, SymbolFilter.Member, cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(s => s.Kind == variable.Kind && s.ContainingType?.ToDisplayString() == variable.ContainingType.ToDisplayString());
        if (moved is null)
            return solution;
        var key = HypercallStateMove.PerTaskMemberKeyPrefix + plan.Begin.ContainingType.Name + "." + MemberName;
        return await HypercallStateMove.MoveAsync(withMember, new[] { moved }, key, cancellationToken).ConfigureAwait(false) ?? solution;
    }

    /// <summary><c>[PerTask] public static bool current_in_preemptible_hcall;</c>, with a comment saying why.</summary>
    private static MemberDeclarationSyntax Member(Plan plan, SemanticModel model, MethodDeclarationSyntax begin, out string? import)
    {
        var attribute = plan.PerTaskAttribute;
        var inScope = model.LookupNamespacesAndTypes(begin.SpanStart, name: attribute.Name).Any(s => SymbolEqualityComparer.Default.Equals(s, attribute));
        import = inScope || attribute.ContainingNamespace.IsGlobalNamespace ? null : attribute.ContainingNamespace.ToDisplayString();
        var name = attribute.Name.EndsWith("Attribute", StringComparison.Ordinal) ? attribute.Name.Substring(0, attribute.Name.Length - "Attribute".Length) : attribute.Name;
        var text = $"// XPA0001: whether the task is in a preemptible hypercall belongs to the task, not to the CPU it began on.\n" +
                   $"[{name}] public {(plan.Begin.IsStatic ? "static " : "")}bool {MemberName};\n";
        return SyntaxFactory.ParseMemberDeclaration(text)!.WithAdditionalAnnotations(Formatter.Annotation);
    }

    /// <summary>The begin's (end's) body sets the member: an empty body becomes <c>=> member = value;</c>, a block gets the assignment first.</summary>
    private static void SetIn(DocumentEditor editor, MethodDeclarationSyntax method, string value)
    {
        var assignment = SyntaxFactory.ParseExpression($"{MemberName} = {value}");
        editor.ReplaceNode(method, (current, _) =>
        {
            var declaration = (MethodDeclarationSyntax)current;
            if (declaration.Body is { Statements.Count: 0 } empty && !empty.CloseBraceToken.LeadingTrivia.Any(t => !t.IsKind(SyntaxKind.WhitespaceTrivia) && !t.IsKind(SyntaxKind.EndOfLineTrivia)))
            {
                return declaration.WithBody(null)
                    .WithParameterList(declaration.ParameterList.WithTrailingTrivia(SyntaxFactory.Space))
                    .WithExpressionBody(SyntaxFactory.ArrowExpressionClause(assignment))
                    .WithSemicolonToken(SyntaxFactory.Token(SyntaxKind.SemicolonToken).WithTrailingTrivia(empty.CloseBraceToken.TrailingTrivia))
                    .WithAdditionalAnnotations(Formatter.Annotation);
            }
            var statement = SyntaxFactory.ExpressionStatement(assignment).WithAdditionalAnnotations(Formatter.Annotation);
            if (declaration.Body is { } body)
                return declaration.WithBody(body.WithStatements(body.Statements.Insert(0, statement)));
            if (declaration.ExpressionBody is { } arrow)
            {
                // => work();  becomes  { member = value; work(); }
                var block = SyntaxFactory.Block(statement, SyntaxFactory.ExpressionStatement(arrow.Expression.WithoutTrivia()))
                    .WithTrailingTrivia(declaration.SemicolonToken.TrailingTrivia);
                return declaration.WithExpressionBody(null).WithSemicolonToken(default)
                    .WithParameterList(declaration.ParameterList.WithoutTrailingTrivia())
                    .WithBody(block).WithAdditionalAnnotations(Formatter.Annotation);
            }
            return declaration; // half typed, no body yet: nothing to set the member in
        });
    }

    private static void AddUsing(DocumentEditor editor, string ns)
    {
        if (editor.OriginalRoot is not CompilationUnitSyntax unit || unit.Usings.Any(u => u.StaticKeyword == default && u.Alias is null && u.Name?.ToString() == ns))
            return;
        editor.ReplaceNode(unit, (current, _) =>
        {
            var compilationUnit = (CompilationUnitSyntax)current;
            var eol = compilationUnit.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia)).ToString() is { Length: > 0 } e ? e : "\n";
            var directive = SyntaxFactory.ParseCompilationUnit("using " + ns + ";" + eol).Usings[0];
            if (compilationUnit.Usings.Count > 0)
            {
                // After the plain usings, before the using static and alias ones.
                var index = compilationUnit.Usings.TakeWhile(u => u.StaticKeyword == default && u.Alias is null).Count();
                return compilationUnit.WithUsings(compilationUnit.Usings.Insert(index, directive));
            }
            // The first using goes above the file's first line, after its leading comments, with a blank line after it.
            var first = compilationUnit.GetFirstToken();
            var leading = first.LeadingTrivia;
            return compilationUnit.ReplaceToken(first, first.WithLeadingTrivia(SyntaxFactory.TriviaList()))
                .WithUsings(SyntaxFactory.SingletonList(directive.WithLeadingTrivia(leading).WithTrailingTrivia(SyntaxFactory.EndOfLine(eol), SyntaxFactory.EndOfLine(eol))));
        });
    }

    private static async Task<Solution> FormatAsync(Solution changed, Solution original, CancellationToken cancellationToken)
    {
        foreach (var id in changed.GetChanges(original).GetProjectChanges().SelectMany(p => p.GetChangedDocuments()).ToList())
        {
            var formatted = await AnnotatedFormatting.FormatAsync(changed.GetDocument(id)!, cancellationToken).ConfigureAwait(false);
            changed = changed.WithDocumentSyntaxRoot(id, (await formatted.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!);
        }
        return changed;
    }
}
