using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;

namespace XenPreemptAnalyzers.CodeFixes.Infrastructure;

/// <summary>
/// Every edit of one fix, or of all fixes of one document (Fix All), collected first and applied in one
/// <see cref="SyntaxNode.ReplaceNodes{TNode}"/> pass. Statement insertions are grouped by the statement they
/// go around, so two fixes touching the same statement, block or method compose instead of conflicting
/// (the reason these fixes do not use the BatchFixer). New code carries <see cref="Formatter.Annotation"/>;
/// the original statements keep their trivia. A bracket that ends up around nothing is dropped: an inserted
/// <c>local_irq_enable();</c> right after a <c>local_irq_disable();</c> (or the same with preemption), from this rewrite
/// or already in the code, cancels with it (<see cref="ElideEmptyBrackets"/>), so no fix leaves an empty pair behind.
/// </summary>
internal sealed class DocumentRewrite
{
    private readonly Dictionary<SimpleNameSyntax, string> _renames = new();
    private readonly Dictionary<StatementSyntax, (List<string> Before, List<string> After)> _around = new();
    private readonly Dictionary<StatementSyntax, List<Func<StatementSyntax, StatementSyntax>>> _transforms = new();
    private readonly Dictionary<BlockSyntax, (int From, string Finally, bool DropLast)> _tryFinally = new();
    private readonly HashSet<string> _usingStatic = new(StringComparer.Ordinal);

    public bool IsEmpty => _renames.Count == 0 && _around.Count == 0 && _transforms.Count == 0 && _tryFinally.Count == 0;

    public void Rename(SimpleNameSyntax name, string newName) => _renames[name] = newName;

    public void AddUsingStatic(string? typeName)
    {
        if (typeName is not null)
            _usingStatic.Add(typeName);
    }

    /// <summary>Inserts <paramref name="statement"/> (source text, e.g. <c>preempt_disable();</c>) before <paramref name="target"/>, once.</summary>
    public void InsertBefore(StatementSyntax target, string statement) => Add(Around(target).Before, statement, first: true);

    /// <summary>Inserts <paramref name="statement"/> after <paramref name="target"/>, once.</summary>
    public void InsertAfter(StatementSyntax target, string statement) => Add(Around(target).After, statement, first: false);

    public void Transform(StatementSyntax target, Func<StatementSyntax, StatementSyntax> transform)
    {
        if (!_transforms.TryGetValue(target, out var list))
            _transforms[target] = list = new List<Func<StatementSyntax, StatementSyntax>>();
        list.Add(transform);
    }

    /// <summary>
    /// Wraps the statements of <paramref name="block"/> from index <paramref name="from"/> to the end in
    /// <c>try { … } finally { <paramref name="finallyStatement"/> }</c>, dropping the last statement when it is the release.
    /// </summary>
    public bool TryFinally(BlockSyntax block, int from, string finallyStatement, bool dropLast)
    {
        if (_tryFinally.ContainsKey(block))
            return false;
        _tryFinally[block] = (from, finallyStatement, dropLast);
        return true;
    }

    private (List<string> Before, List<string> After) Around(StatementSyntax target)
    {
        if (!_around.TryGetValue(target, out var lists))
            _around[target] = lists = (new List<string>(), new List<string>());
        return lists;
    }

    private static void Add(List<string> list, string statement, bool first)
    {
        if (list.Contains(statement, StringComparer.Ordinal))
            return;
        if (first)
            list.Insert(0, statement);
        else
            list.Add(statement);
    }

    public async Task<Document> ApplyAsync(Document document, CancellationToken cancellationToken)
    {
        if (IsEmpty)
            return document;
        var root = (CompilationUnitSyntax)(await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        var eol = root.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia)).ToString();
        if (eol.Length == 0)
            eol = "\n";

        // Statements inside a block (or switch section) get siblings; embedded ones become a block.
        var containers = new Dictionary<SyntaxNode, Dictionary<int, (List<string> Before, List<string> After)>>();
        var embedded = new Dictionary<StatementSyntax, (List<string> Before, List<string> After)>();
        foreach (var pair in _around)
        {
            var statements = StatementList(pair.Key.Parent);
            if (statements is { } list)
            {
                if (!containers.TryGetValue(pair.Key.Parent!, out var byIndex))
                    containers[pair.Key.Parent!] = byIndex = new();
                byIndex[list.IndexOf(pair.Key)] = pair.Value;
            }
            else
            {
                embedded[pair.Key] = pair.Value;
            }
        }

        var nodes = new HashSet<SyntaxNode>(_renames.Keys);
        nodes.UnionWith(_transforms.Keys);
        nodes.UnionWith(embedded.Keys);
        nodes.UnionWith(containers.Keys);
        nodes.UnionWith(_tryFinally.Keys);

        var newRoot = root.ReplaceNodes(nodes, (original, current) =>
        {
            if (original is SimpleNameSyntax name && _renames.TryGetValue(name, out var newName))
            {
                var identifier = SyntaxFactory.Identifier(name.Identifier.LeadingTrivia, newName, name.Identifier.TrailingTrivia);
                return ((SimpleNameSyntax)current).WithIdentifier(identifier);
            }

            if (original is StatementSyntax statement && _transforms.TryGetValue(statement, out var transforms))
                current = transforms.Aggregate((StatementSyntax)current, (s, t) => t(s));

            if (original is StatementSyntax embeddedStatement && embedded.TryGetValue(embeddedStatement, out var around))
            {
                var inner = ((StatementSyntax)current).WithoutLeadingTrivia().WithoutTrailingTrivia();
                var lines = around.Before.Select(Inserted).Concat(new[] { inner }).Concat(around.After.Select(Inserted))
                    .Select(s => s.WithLeadingTrivia(SyntaxFactory.ElasticMarker).WithTrailingTrivia(SyntaxFactory.ElasticEndOfLine(eol)));
                var block = SyntaxFactory.Block(ElideEmptyBrackets(lines.ToList()))
                    .WithLeadingTrivia(current.GetLeadingTrivia())
                    .WithTrailingTrivia(current.GetTrailingTrivia())
                    .WithAdditionalAnnotations(Formatter.Annotation);
                current = block;
            }

            if (containers.TryGetValue(original, out var byIndex))
                current = InsertIntoList(current, byIndex, eol);

            if (original is BlockSyntax tryBlock && _tryFinally.TryGetValue(tryBlock, out var wrap))
                current = WrapInTryFinally((BlockSyntax)current, wrap.From, wrap.Finally, wrap.DropLast, eol);

            return current;
        });

        newRoot = AddUsings((CompilationUnitSyntax)newRoot, eol);
        var changed = document.WithSyntaxRoot(newRoot);
        return await AnnotatedFormatting.FormatAsync(changed, cancellationToken).ConfigureAwait(false);
    }

    private static SyntaxList<StatementSyntax>? StatementList(SyntaxNode? parent) => parent switch
    {
        BlockSyntax block => block.Statements,
        SwitchSectionSyntax section => section.Statements,
        _ => null,
    };

    private static SyntaxNode InsertIntoList(SyntaxNode container, Dictionary<int, (List<string> Before, List<string> After)> byIndex, string eol)
    {
        var old = StatementList(container)!.Value;
        var result = new List<StatementSyntax>();
        for (var i = 0; i < old.Count; i++)
        {
            var statement = old[i];
            if (!byIndex.TryGetValue(i, out var around))
            {
                result.Add(statement);
                continue;
            }

            var multiline = statement.GetFirstToken().GetPreviousToken().TrailingTrivia.Any(t => t.IsKind(SyntaxKind.EndOfLineTrivia))
                || statement.GetLeadingTrivia().Any(t => t.IsKind(SyntaxKind.EndOfLineTrivia));
            var indentation = multiline ? SyntaxFactory.TriviaList(Indentation(statement)) : SyntaxFactory.TriviaList();
            var separator = multiline ? SyntaxFactory.EndOfLine(eol) : SyntaxFactory.Space;
            var first = true;
            foreach (var text in around.Before)
            {
                // The first inserted statement takes the original leading trivia (comments stay above the group).
                result.Add(Inserted(text).WithLeadingTrivia(first ? statement.GetLeadingTrivia() : indentation).WithTrailingTrivia(separator));
                first = false;
            }
            var body = first ? statement : statement.WithLeadingTrivia(indentation);
            var trailing = statement.GetTrailingTrivia();
            if (around.After.Count > 0 && !multiline && trailing.Count == 0)
                body = body.WithTrailingTrivia(SyntaxFactory.Space);
            result.Add(body);
            for (var j = 0; j < around.After.Count; j++)
            {
                var next = Inserted(around.After[j]).WithLeadingTrivia(indentation);
                next = multiline ? next.WithTrailingTrivia(SyntaxFactory.EndOfLine(eol))
                    : next.WithTrailingTrivia(j == around.After.Count - 1 && trailing.Count > 0 ? trailing : SyntaxFactory.TriviaList(SyntaxFactory.Space));
                result.Add(next);
            }
        }

        var list = SyntaxFactory.List(ElideEmptyBrackets(result));
        return container switch
        {
            BlockSyntax block => block.WithStatements(list),
            SwitchSectionSyntax section => section.WithStatements(list),
            _ => container,
        };
    }

    private static BlockSyntax WrapInTryFinally(BlockSyntax block, int from, string finallyStatement, bool dropLast, string eol)
    {
        var statements = block.Statements;
        var inside = statements.Skip(from).ToList();
        if (dropLast && inside.Count > 0)
            inside.RemoveAt(inside.Count - 1);
        var tryStatement = SyntaxFactory.TryStatement(
                SyntaxFactory.Block(inside.Select(s => s.WithAdditionalAnnotations(Formatter.Annotation))),
                default,
                SyntaxFactory.FinallyClause(SyntaxFactory.Block(Parse(finallyStatement))))
            .WithTrailingTrivia(SyntaxFactory.EndOfLine(eol))
            .WithAdditionalAnnotations(Formatter.Annotation);
        if (statements.Count > from)
            tryStatement = tryStatement.WithLeadingTrivia(statements[from].GetLeadingTrivia());
        var result = statements.Take(from).Concat(new StatementSyntax[] { tryStatement });
        return block.WithStatements(SyntaxFactory.List(result));
    }

    private CompilationUnitSyntax AddUsings(CompilationUnitSyntax root, string eol)
    {
        var present = new HashSet<string>(root.Usings.Where(u => u.StaticKeyword != default).Select(u => u.Name!.ToString()), StringComparer.Ordinal);
        var add = _usingStatic.Where(t => !present.Contains(t)).OrderBy(t => t, StringComparer.Ordinal).ToList();
        if (add.Count == 0)
            return root;
        var directives = add.Select(t => SyntaxFactory.ParseCompilationUnit("using static " + t + ";" + eol).Usings[0]
            .WithAdditionalAnnotations(Formatter.Annotation));
        return root.WithUsings(root.Usings.AddRange(directives));
    }

    private static SyntaxTrivia Indentation(StatementSyntax statement)
    {
        var whitespace = statement.GetLeadingTrivia().LastOrDefault(t => t.IsKind(SyntaxKind.WhitespaceTrivia));
        return whitespace.IsKind(SyntaxKind.WhitespaceTrivia) ? whitespace : SyntaxFactory.Whitespace(string.Empty);
    }

    public static StatementSyntax Parse(string text) =>
        SyntaxFactory.ParseStatement(text).WithAdditionalAnnotations(Formatter.Annotation);

    /// <summary>Marks the statements this rewrite inserts: only a pair with one of them in it is elided.</summary>
    private static readonly SyntaxAnnotation InsertedMark = new("XenPreemptAnalyzers.Inserted");

    private static StatementSyntax Inserted(string text) => Parse(text).WithAdditionalAnnotations(InsertedMark);

    /// <summary>The calls that undo each other with nothing between them: disable then enable, or enable then disable.</summary>
    private static readonly Dictionary<string, string> Opposite = new(StringComparer.Ordinal)
    {
        ["local_irq_disable"] = "local_irq_enable",
        ["local_irq_enable"] = "local_irq_disable",
        ["preempt_disable"] = "preempt_enable",
        ["preempt_enable"] = "preempt_disable",
    };

    /// <summary>
    /// Drops each adjacent pair of opposite bracket calls of which at least one was inserted here — innermost first, so
    /// <c>disable; [enable]; [disable]; enable</c> empties out completely. A pair the user wrote (neither inserted) stays:
    /// <c>preempt_enable(); preempt_disable();</c> may be a deliberate preemption point. Comments above a dropped
    /// statement move to the next statement kept.
    /// </summary>
    private static List<StatementSyntax> ElideEmptyBrackets(List<StatementSyntax> statements)
    {
        var kept = new List<StatementSyntax>();
        var orphanTrivia = SyntaxFactory.TriviaList();
        foreach (var statement in statements)
        {
            var current = statement;
            if (kept.Count > 0 && BracketCall(kept[kept.Count - 1]) is { } previous && BracketCall(current) is { } call
                && Opposite[previous] == call
                && (kept[kept.Count - 1].HasAnnotation(InsertedMark) || current.HasAnnotation(InsertedMark)))
            {
                var dropped = kept[kept.Count - 1];
                kept.RemoveAt(kept.Count - 1);
                if (HasComment(current.GetLeadingTrivia()))
                    orphanTrivia = current.GetLeadingTrivia();
                else if (HasComment(dropped.GetLeadingTrivia()))
                    orphanTrivia = dropped.GetLeadingTrivia();
                continue;
            }
            if (HasComment(orphanTrivia))
                current = current.WithLeadingTrivia(orphanTrivia.AddRange(current.GetLeadingTrivia().SkipWhile(t => t.IsKind(SyntaxKind.WhitespaceTrivia) || t.IsKind(SyntaxKind.EndOfLineTrivia))));
            orphanTrivia = SyntaxFactory.TriviaList();
            kept.Add(current);
        }
        return kept;
    }

    private static bool HasComment(SyntaxTriviaList trivia) =>
        trivia.Any(t => t.IsKind(SyntaxKind.SingleLineCommentTrivia) || t.IsKind(SyntaxKind.MultiLineCommentTrivia));

    /// <summary>The name of a bracket call statement, <c>local_irq_disable();</c> and the like, without arguments.</summary>
    private static string? BracketCall(StatementSyntax statement) =>
        statement is ExpressionStatementSyntax { Expression: InvocationExpressionSyntax { ArgumentList.Arguments.Count: 0 } invocation }
        && KernelNames.CalledName(invocation)?.Identifier.ValueText is { } name && Opposite.ContainsKey(name)
            ? name
            : null;
}
