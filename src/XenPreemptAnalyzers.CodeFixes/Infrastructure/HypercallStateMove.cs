using System;
using System.Collections.Generic;
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
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.CodeFixes.Infrastructure;

/// <summary>Where the preemptible-hypercall state goes: a thread flag (<c>TIF_…</c>) or a <c>[PerTask]</c> bool member.</summary>
internal sealed class PerTaskTarget
{
    public PerTaskTarget(string key, ISymbol symbol, bool isThreadFlag)
    {
        Key = key;
        Symbol = symbol;
        IsThreadFlag = isThreadFlag;
    }

    /// <summary>The equivalence key: stable, and names the target so Fix All moves to the same one.</summary>
    public string Key { get; }

    public ISymbol Symbol { get; }

    public bool IsThreadFlag { get; }

    public string Title(ISymbol variable) => IsThreadFlag
        ? $"Move '{variable.Name}' to the thread flag '{Symbol.Name}' (set/clear/test_thread_flag) in every access"
        : $"Move '{variable.Name}' to the per-task member '{Symbol.ContainingType.Name}.{Symbol.Name}' in every access";
}

/// <summary>
/// XPA0001 (a): move the per-CPU preemptible-hypercall state to the task. The per-CPU variable is the one the
/// region begin writes (<c>__this_cpu_write(v, true)</c>, <c>this_cpu_write</c>, <c>raw_cpu_write</c>); every
/// access of it in the solution through a this-CPU accessor is rewritten — for a thread flag, writes of
/// <c>true</c>/<c>false</c> to <c>set_thread_flag</c>/<c>clear_thread_flag</c>, any other write to
/// <c>if (x) set…; else clear…;</c>, reads to <c>test_thread_flag</c>; for a <c>[PerTask]</c> member, writes to
/// an assignment and reads to the member. All or nothing: an access that cannot be rewritten (an
/// explicit-CPU <c>per_cpu(v, cpu)</c>, <c>this_cpu_xchg</c>, a value write in expression position, a name that is
/// not reachable there) means no fix. Other references (the variable passed to a debug dump) are left; the
/// declaration is removed when nothing references it any more.
/// </summary>
internal static class HypercallStateMove
{
    public const string ThreadFlagKeyPrefix = "XPA0001.MoveToThreadFlag:";
    public const string PerTaskMemberKeyPrefix = "XPA0001.MoveToPerTaskMember:";

    private static readonly string[] AccessorPrefixes = { "__this_cpu_", "this_cpu_", "raw_cpu_" };
    private static readonly string[] ThreadFlagApi = { "set_thread_flag", "clear_thread_flag", "test_thread_flag" };

    public static bool IsMoveKey(string? key) =>
        key is not null && (key.StartsWith(ThreadFlagKeyPrefix, StringComparison.Ordinal) || key.StartsWith(PerTaskMemberKeyPrefix, StringComparison.Ordinal));

    /// <summary>The accessor operation (<c>read</c>, <c>write</c>, <c>inc</c>, …) of a per-CPU accessor name; <c>per_cpu</c> for the explicit-CPU one.</summary>
    private static string? AccessorOp(string name)
    {
        if (name == "per_cpu")
            return name;
        foreach (var prefix in AccessorPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
                return name.Substring(prefix.Length);
        }
        return null;
    }

    /// <summary>The per-CPU field or property written by the region begin the diagnostic is on, when its body is in this compilation.</summary>
    public static ISymbol? StateVariable(SemanticModel model, SyntaxNode root, TextSpan span, CancellationToken cancellationToken)
    {
        var invocation = root.FindNode(span, getInnermostNodeForTie: true).FirstAncestorOrSelf<InvocationExpressionSyntax>();
        if (invocation is null || model.GetSymbolInfo(invocation, cancellationToken).Symbol is not IMethodSymbol begin
            || begin.DeclaringSyntaxReferences.Length != 1)
            return null;
        var declaration = begin.DeclaringSyntaxReferences[0].GetSyntax(cancellationToken);
        if (!model.Compilation.ContainsSyntaxTree(declaration.SyntaxTree))
            return null;
        // The analyzers' own helper summaries (the same depth as the analysis), so the fix moves the variable XPA0001 saw.
        var summaries = new HelperSummaries(model.Compilation, _ => AnalyzerSettings.Default);
        return summaries.PerCpuVariablesWritten(begin).FirstOrDefault();
    }

    /// <summary>A per-task home for the hypercall state says so in its name, as the analyzer's per-task test requires.</summary>
    public static bool NamesHypercall(string name) =>
        name.IndexOf("hcall", StringComparison.OrdinalIgnoreCase) >= 0 || name.IndexOf("hypercall", StringComparison.OrdinalIgnoreCase) >= 0;

    private static bool IsPerTask(ISymbol symbol) => symbol.GetAttributes().Any(a => a.AttributeClass?.Name is "PerTask" or "PerTaskAttribute");

    private static string KeyName(ISymbol symbol) => symbol.ContainingType.Name + "." + symbol.Name;

    /// <summary>
    /// The per-task homes the compilation declares, in a fixed order: each <c>TIF_…</c> int constant whose name
    /// says hypercall (<c>HCALL</c>/<c>HYPERCALL</c>), when <c>set/clear/test_thread_flag(int)</c> exist; then each
    /// writable <c>[PerTask]</c> bool field or property whose name says hypercall (<c>hcall</c>/<c>hypercall</c>).
    /// </summary>
    public static IReadOnlyList<PerTaskTarget> Targets(Compilation compilation, CancellationToken cancellationToken)
    {
        var targets = new List<PerTaskTarget>();
        var hasFlagApi = ThreadFlagApi.All(api => compilation.GetSymbolsWithName(api, SymbolFilter.Member, cancellationToken)
            .OfType<IMethodSymbol>().Any(m => m.IsStatic && m.Parameters.Length == 1 && m.Parameters[0].Type.SpecialType == SpecialType.System_Int32));
        if (hasFlagApi)
        {
            targets.AddRange(compilation.GetSymbolsWithName(
                    n => n.StartsWith("TIF_", StringComparison.Ordinal) && (n.IndexOf("HCALL", StringComparison.Ordinal) >= 0 || n.IndexOf("HYPERCALL", StringComparison.Ordinal) >= 0),
                    SymbolFilter.Member, cancellationToken)
                .OfType<IFieldSymbol>()
                .Where(f => f.IsConst && f.Type.SpecialType == SpecialType.System_Int32)
                .OrderBy(KeyName, StringComparer.Ordinal)
                .Select(f => new PerTaskTarget(ThreadFlagKeyPrefix + KeyName(f), f, isThreadFlag: true)));
        }
        // Names first (the declaration table's index): building every member of every type to read its attributes
        // made the light bulb wait on the whole compilation (docs/performance.md, "Light bulb").
        targets.AddRange(compilation.GetSymbolsWithName(NamesHypercall, SymbolFilter.Member, cancellationToken)
            .Where(s => s switch
            {
                IFieldSymbol f => !f.IsConst && !f.IsReadOnly && f.Type.SpecialType == SpecialType.System_Boolean,
                IPropertySymbol p => p.SetMethod is not null && p.GetMethod is not null && p.Type.SpecialType == SpecialType.System_Boolean,
                _ => false,
            } && IsPerTask(s))
            .OrderBy(KeyName, StringComparer.Ordinal)
            .Select(s => new PerTaskTarget(PerTaskMemberKeyPrefix + KeyName(s), s, isThreadFlag: false)));
        // Two homes of one name in types of one name: keep the first, keys must be unique.
        return targets.GroupBy(t => t.Key, StringComparer.Ordinal).Select(g => g.First()).ToList();
    }

    /// <summary>
    /// The solution with every access of <paramref name="variables"/> moved to the target named by
    /// <paramref name="key"/> (resolved in each project's compilation); null when some access cannot be.
    /// </summary>
    public static async Task<Solution?> MoveAsync(Solution solution, IReadOnlyList<ISymbol> variables, string key, CancellationToken cancellationToken)
    {
        var byDocument = new Dictionary<DocumentId, List<(TextSpan Span, bool IsDeclaration, ISymbol Variable)>>();
        void Add(DocumentId id, TextSpan span, bool isDeclaration, ISymbol variable)
        {
            if (!byDocument.TryGetValue(id, out var list))
                byDocument[id] = list = new();
            list.Add((span, isDeclaration, variable));
        }

        var stillReferenced = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        foreach (var variable in variables)
        {
            var references = await SymbolFinder.FindReferencesAsync(variable, solution, cancellationToken).ConfigureAwait(false);
            foreach (var reference in references.Where(r => SymbolEqualityComparer.Default.Equals(r.Definition.OriginalDefinition, variable.OriginalDefinition)))
            {
                foreach (var location in reference.Locations.Where(l => !l.IsImplicit && l.Location.IsInSource))
                    Add(location.Document.Id, location.Location.SourceSpan, false, variable);
            }
            foreach (var location in variable.Locations.Where(l => l.IsInSource))
            {
                if (solution.GetDocument(location.SourceTree) is { } document)
                    Add(document.Id, location.SourceSpan, true, variable);
            }
        }

        // First which variables stay referenced outside an accessor: their declarations stay.
        foreach (var pair in byDocument)
        {
            var root = await solution.GetDocument(pair.Key)!.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            foreach (var (span, isDeclaration, variable) in pair.Value)
            {
                if (!isDeclaration && Access(root!, span) is null)
                    stillReferenced.Add(variable);
            }
        }

        var edited = new List<(DocumentId Id, SyntaxNode Root)>();
        var targets = new Dictionary<ProjectId, PerTaskTarget?>();
        foreach (var pair in byDocument)
        {
            var document = solution.GetDocument(pair.Key)!;
            if (!targets.TryGetValue(document.Project.Id, out var target))
            {
                var compilation = await document.Project.GetCompilationAsync(cancellationToken).ConfigureAwait(false);
                targets[document.Project.Id] = target = compilation is null ? null : Targets(compilation, cancellationToken).FirstOrDefault(t => t.Key == key);
            }
            if (target is null)
                return null;
            var editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
            var rewriter = new AccessRewriter(editor, target);
            // Innermost first: a read inside a write's value is rewritten before the write takes it.
            foreach (var (span, isDeclaration, variable) in pair.Value.OrderByDescending(r => r.Span.Start))
            {
                if (isDeclaration)
                {
                    // Move, not copy: a declaration nothing refers to any more goes.
                    if (!stillReferenced.Contains(variable) && Declaration(editor.OriginalRoot, span) is { } member)
                        editor.RemoveNode(member, SyntaxRemoveOptions.KeepUnbalancedDirectives);
                }
                else if (!rewriter.Rewrite(span))
                {
                    return null;
                }
            }
            edited.Add((pair.Key, rewriter.Finish()));
        }

        var result = solution;
        foreach (var (id, root) in edited)
        {
            var formatted = await AnnotatedFormatting.FormatAsync(solution.GetDocument(id)!.WithSyntaxRoot(root), cancellationToken).ConfigureAwait(false);
            result = result.WithDocumentSyntaxRoot(id, (await formatted.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!);
        }
        return result;
    }

    private static SyntaxNode? Declaration(SyntaxNode root, TextSpan span) => root.FindNode(span) switch
    {
        VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax { Variables.Count: 1, Parent: FieldDeclarationSyntax field } } => field,
        PropertyDeclarationSyntax property => property,
        _ => null,
    };

    /// <summary>The accessor call a reference is the first argument of, and its operation; null for any other reference.</summary>
    private static (InvocationExpressionSyntax Invocation, string Op)? Access(SyntaxNode root, TextSpan span)
    {
        SyntaxNode expression = root.FindNode(span, getInnermostNodeForTie: true);
        while (expression.Parent is MemberAccessExpressionSyntax access && access.Name == expression)
            expression = access;
        if (expression.Parent is not ArgumentSyntax { Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax invocation } arguments } argument
            || arguments.Arguments[0] != argument
            || KernelNames.CalledName(invocation) is not { } called
            || AccessorOp(called.Identifier.ValueText) is not { } op)
            return null;
        return (invocation, op);
    }

    /// <summary>The rewrites of one document.</summary>
    private sealed class AccessRewriter
    {
        private readonly DocumentEditor _editor;
        private readonly PerTaskTarget _target;
        private readonly SemanticModel _model;
        private readonly HashSet<string> _usingStatic = new(StringComparer.Ordinal);

        public AccessRewriter(DocumentEditor editor, PerTaskTarget target)
        {
            _editor = editor;
            _target = target;
            _model = editor.SemanticModel;
        }

        /// <summary>Plans the rewrite of the reference at <paramref name="span"/> (nothing for a non-access); false when it is an access that cannot be rewritten.</summary>
        public bool Rewrite(TextSpan span)
        {
            if (Access(_editor.OriginalRoot, span) is not { } access)
                return true;
            var (invocation, op) = access;
            var position = invocation.SpanStart;
            switch (op)
            {
                case "read" when invocation.ArgumentList.Arguments.Count == 1:
                    if (Read(position) is not { } read)
                        return false;
                    _editor.ReplaceNode(invocation, (current, _) => Parse(read).WithTriviaFrom(current));
                    return true;
                case "write" when invocation.ArgumentList.Arguments.Count == 2:
                    return Write(invocation, position);
                default:
                    return false;
            }
        }

        private bool Write(InvocationExpressionSyntax invocation, int position)
        {
            var value = invocation.ArgumentList.Arguments[1].Expression;
            var constant = _model.GetConstantValue(value);
            if (!_target.IsThreadFlag)
            {
                if (Member(position) is not { } member)
                    return false;
                _editor.ReplaceNode(invocation, (current, _) =>
                    Parse(member + " = " + ((InvocationExpressionSyntax)current).ArgumentList.Arguments[1].Expression.ToString()).WithTriviaFrom(current));
                return true;
            }

            if (Call("set_thread_flag", position) is not { } set || Call("clear_thread_flag", position) is not { } clear)
                return false;
            if (constant.HasValue && constant.Value is bool on)
            {
                var call = on ? set : clear;
                _editor.ReplaceNode(invocation, (current, _) => Parse(call).WithTriviaFrom(current));
                return true;
            }

            // Any other value: if (value) set…; else clear…; — only where a statement can go.
            StatementSyntax Choose(InvocationExpressionSyntax current) =>
                DocumentRewrite.Parse($"if ({current.ArgumentList.Arguments[1].Expression}) {set}; else {clear};");
            switch (invocation.Parent)
            {
                case ExpressionStatementSyntax statement:
                    var inList = statement.Parent is BlockSyntax or SwitchSectionSyntax;
                    _editor.ReplaceNode(statement, (current, _) =>
                    {
                        var choice = Choose((InvocationExpressionSyntax)((ExpressionStatementSyntax)current).Expression);
                        StatementSyntax result = inList ? choice : SyntaxFactory.Block(choice).WithAdditionalAnnotations(Formatter.Annotation);
                        return result.WithTriviaFrom(current);
                    });
                    return true;
                case ArrowExpressionClauseSyntax { Parent: MethodDeclarationSyntax method } when method.ReturnType is PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.VoidKeyword }:
                    _editor.ReplaceNode(method, (current, _) =>
                    {
                        var m = (MethodDeclarationSyntax)current;
                        var body = SyntaxFactory.Block(Choose((InvocationExpressionSyntax)m.ExpressionBody!.Expression)).WithAdditionalAnnotations(Formatter.Annotation);
                        return m.WithExpressionBody(null).WithSemicolonToken(default)
                            .WithParameterList(m.ParameterList.WithTrailingTrivia(SyntaxFactory.ElasticCarriageReturnLineFeed))
                            .WithBody(body).WithTrailingTrivia(m.GetTrailingTrivia()).WithAdditionalAnnotations(Formatter.Annotation);
                    });
                    return true;
                default:
                    return false;
            }
        }

        private string? Read(int position) =>
            _target.IsThreadFlag ? Call("test_thread_flag", position) : Member(position);

        /// <summary><c>f(TIF_X)</c>, when <c>f</c> and the constant can be named at <paramref name="position"/>.</summary>
        private string? Call(string function, int position)
        {
            var scope = KernelNames.Find(_model, position, function);
            if (!scope.Found || StaticName(_target.Symbol, position) is not { } flag)
                return null;
            AddUsing(scope.UsingStatic);
            return $"{function}({flag})";
        }

        /// <summary>The member: by name for a static one, through <c>current</c> (the running task) for an instance one.</summary>
        private string? Member(int position)
        {
            var member = _target.Symbol;
            if (member.IsStatic)
                return StaticName(member, position);
            var current = _model.LookupSymbols(position, name: "current").FirstOrDefault(s => s.IsStatic
                && SymbolEqualityComparer.Default.Equals(s switch { IFieldSymbol f => f.Type, IPropertySymbol p => p.Type, _ => null }, member.ContainingType));
            return current is null ? null : "current." + member.Name;
        }

        /// <summary>A static member's simple name, importing its type with <c>using static</c> when it is not in scope.</summary>
        private string? StaticName(ISymbol member, int position)
        {
            if (_model.LookupSymbols(position, name: member.Name).Any(s => SymbolEqualityComparer.Default.Equals(s, member)))
                return member.Name;
            if (!_model.IsAccessible(position, member) || member.ContainingType.IsGenericType
                || _model.LookupSymbols(position, name: member.Name).Any())
                return null;
            AddUsing(member.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted)));
            return member.Name;
        }

        private void AddUsing(string? type)
        {
            if (type is not null)
                _usingStatic.Add(type);
        }

        private static ExpressionSyntax Parse(string text) =>
            SyntaxFactory.ParseExpression(text).WithAdditionalAnnotations(Formatter.Annotation);

        public SyntaxNode Finish()
        {
            var root = _editor.GetChangedRoot();
            if (root is not CompilationUnitSyntax unit)
                return root;
            var present = new HashSet<string>(unit.Usings.Where(u => u.StaticKeyword != default).Select(u => u.Name!.ToString()), StringComparer.Ordinal);
            var eol = unit.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia)).ToString() is { Length: > 0 } e ? e : "\n";
            var add = _usingStatic.Where(t => !present.Contains(t)).OrderBy(t => t, StringComparer.Ordinal)
                .Select(t => SyntaxFactory.ParseCompilationUnit("using static " + t + ";" + eol).Usings[0].WithAdditionalAnnotations(Formatter.Annotation))
                .ToList();
            return add.Count == 0 ? unit : unit.WithUsings(unit.Usings.AddRange(add));
        }
    }
}
