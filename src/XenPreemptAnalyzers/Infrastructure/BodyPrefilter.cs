// SPDX-License-Identifier: MIT
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Infrastructure;

/// <summary>
/// Decides from syntax alone whether a method body can call anything the call classifier recognises, so that
/// only such bodies pay for their operation tree (binding) and control-flow graph. One pass over the body's
/// identifier tokens. It may let through a body that calls nothing recognised (a local variable named
/// <c>schedule</c>); it must never stop one that does, so it accepts every name the classifier can act on:
/// <list type="bullet">
/// <item>the kernel names and hypercall prefixes (<see cref="KernelApi"/>) and the <c>.editorconfig</c> names of any tree;</item>
/// <item>the contract attributes' names (an attributed local function is declared, and only callable, inside the body);</item>
/// <item>members declared with a contract attribute, in source or in a reference that can carry our attributes;</item>
/// <item>source helpers seen through as summaries: a method whose own body names a kernel or configured name,
///   looked up (once per name) when a body calls it.</item>
/// </list>
/// Before any body of a tree is walked, <see cref="TreeMayCallRecognised"/> decides from the tree's text whether any of
/// its bodies can pass (most trees of a project name no kernel name). Built once per compilation; thread-safe (trees
/// and bodies are analysed concurrently).
/// </summary>
internal sealed class BodyPrefilter
{
    /// <summary>
    /// The prefixes <see cref="KernelApi"/> recognises hypercalls by (<c>HYPERVISOR_sched_op</c>, <c>_hypercall2</c>): the text
    /// check must know them, since they match names no list holds. A test keeps this list equal to the table's.
    /// </summary>
    internal static readonly string[] HypercallNamePrefixes = { "HYPERVISOR_", "_hypercall" };

    /// <summary>The contract attributes' names, with and without the <c>Attribute</c> suffix.</summary>
    private static readonly string[] ContractAttributeNames = KernelAttributes.All.SelectMany(a => new[] { a, a + "Attribute" }).ToArray();

    /// <summary>The same, for a text check (the compilation gate's walk for applied attributes).</summary>
    internal static readonly NameSet AttributeNames = new(ContractAttributeNames);

    private readonly Compilation _compilation;
    private readonly HashSet<string> _configuredNames;
    private readonly Lazy<Attributed> _attributed;
    private readonly Lazy<NameSet> _treeNames;
    private readonly Lazy<NameSet> _primitiveNames;
    private readonly ConcurrentDictionary<(int Depth, string Name), bool> _helperNames = new();
    private readonly TreeCounters _counters;

    public BodyPrefilter(Compilation compilation, HashSet<string> configuredNames, IReadOnlyList<IAssemblySymbol> annotatedReferences, TreeCounters counters)
    {
        _compilation = compilation;
        _counters = counters;
        _configuredNames = configuredNames;
        _attributed = new Lazy<Attributed>(() => Attributed.Collect(compilation, annotatedReferences), LazyThreadSafetyMode.ExecutionAndPublication);
        _treeNames = new Lazy<NameSet>(() => TreeNames(configuredNames, _attributed.Value), LazyThreadSafetyMode.ExecutionAndPublication);
        _primitiveNames = new Lazy<NameSet>(() => PrimitiveNames(configuredNames), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The names <see cref="IsPrimitiveName"/> accepts, for a text check.</summary>
    private static NameSet PrimitiveNames(HashSet<string> configuredNames) =>
        new(KernelApi.Names.Append(KernelApi.HypercallStateName).Concat(configuredNames), HypercallNamePrefixes);

    /// <summary>The names whose mention lets a body through by themselves: every name <see cref="MayCallRecognised"/> accepts without a lookup.</summary>
    private static NameSet TreeNames(HashSet<string> configuredNames, Attributed attributed) =>
        new(KernelApi.Names.Append(KernelApi.HypercallStateName)
                .Concat(configuredNames)
                .Concat(ContractAttributeNames)
                .Concat(attributed.MemberNames),
            HypercallNamePrefixes);

    /// <summary>
    /// Can any body of this tree pass <see cref="MayCallRecognised"/>? Decided from the tree's text in one pass, before
    /// a token of it is walked: the text names a kernel, configured, attribute or attributed member's name, or it names
    /// in call position a source helper the summaries see through. The text holds every token's value (and comments,
    /// strings and disabled code besides), so this lets through every tree with a body the filter would let through.
    /// </summary>
    public bool TreeMayCallRecognised(SyntaxTree tree, CancellationToken cancellationToken)
    {
        if (_attributed.Value.AnyImplicitlyCalled)
            return true;
        // A name in call position counts only where the pre-filter would look at it: an identifier token, invoked,
        // inside a body. Not a declaration's name, a keyword (if, while…), or a word in a comment: those would cost a
        // helper lookup each (a search of the declarations) for nothing.
        var root = tree.GetRoot(cancellationToken);
        var called = new CalledNames((name, position) => IsCalledInBody(root, position, name));
        var text = tree.GetText(cancellationToken);
        if (NameScan.Scan(text, new Microsoft.CodeAnalysis.Text.TextSpan(0, text.Length), _treeNames.Value, called, cancellationToken))
            return true;
        foreach (var name in called.Names)
        {
            if (IsHelperName(name, cancellationToken))
                return true;
        }
        return false;
    }

    /// <summary>Is the token at this position the identifier <paramref name="name"/>, invoked, inside a body the pre-filter walks?</summary>
    private static bool IsCalledInBody(SyntaxNode root, int position, string name)
    {
        if (!IsCalledIdentifier(root, position, name))
            return false;
        var token = root.FindToken(position);
        for (var node = token.Parent; node is not null; node = node.Parent)
        {
            if (IsCodeBlock(node) && BodyParts(node).Any(part => part.Span.Contains(token.Span)))
                return true;
        }
        return false;
    }

    /// <summary>Is the token at this position the identifier <paramref name="name"/> (not a keyword or a word in a comment), invoked?</summary>
    private static bool IsCalledIdentifier(SyntaxNode root, int position, string name)
    {
        var token = root.FindToken(position);
        return token.IsKind(SyntaxKind.IdentifierToken) && token.Span.Contains(position) && token.ValueText == name && IsCalled(token);
    }

    /// <summary>The declarations <see cref="CodeBlocks.Of"/> hands the pre-filter.</summary>
    private static bool IsCodeBlock(SyntaxNode node) =>
        node is BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or CompilationUnitSyntax
            or ArrowExpressionClauseSyntax { Parent: PropertyDeclarationSyntax or IndexerDeclarationSyntax }
            or TypeDeclarationSyntax { ParameterList: not null };

    /// <summary>May the body of this declaration (a method, constructor, accessor, operator…) call something recognised?</summary>
    public bool MayCallRecognised(SyntaxNode declaration, CancellationToken cancellationToken)
    {
        var attributed = _attributed.Value;
        if (attributed.AnyImplicitlyCalled)
            return true;
        foreach (var part in BodyParts(declaration))
        {
            foreach (var token in part.DescendantTokens())
            {
                if (!token.IsKind(SyntaxKind.IdentifierToken))
                    continue;
                var name = token.ValueText;
                if (IsPrimitiveName(name) || IsAttributeName(name) || attributed.MemberNames.Contains(name))
                    return true;
                if (IsCalled(token) && IsHelperName(name, cancellationToken))
                    return true;
            }
        }
        return false;
    }

    /// <summary>The parts of a declaration that run as its body: not its attributes, name or parameter list.</summary>
    private static IEnumerable<SyntaxNode> BodyParts(SyntaxNode declaration)
    {
        switch (declaration)
        {
            case BaseMethodDeclarationSyntax method:
                if (method is ConstructorDeclarationSyntax { Initializer: { } initializer })
                    yield return initializer;
                if (method.Body is not null)
                    yield return method.Body;
                if (method.ExpressionBody is not null)
                    yield return method.ExpressionBody;
                yield break;
            case AccessorDeclarationSyntax accessor:
                if (accessor.Body is not null)
                    yield return accessor.Body;
                if (accessor.ExpressionBody is not null)
                    yield return accessor.ExpressionBody;
                yield break;
            case CompilationUnitSyntax unit:
                // Top-level statements (their local functions included); the file's type declarations are not part of them.
                foreach (var member in unit.Members)
                {
                    if (member is GlobalStatementSyntax statement)
                        yield return statement;
                }
                yield break;
            case TypeDeclarationSyntax type:
                // A primary constructor runs its base-type arguments; the rest of the type is other members' code.
                foreach (var baseType in type.BaseList?.Types ?? default)
                {
                    if (baseType is PrimaryConstructorBaseTypeSyntax { ArgumentList: { } arguments })
                        yield return arguments;
                }
                yield break;
            default:
                // Expression-bodied properties and indexers, initializers: the whole node.
                yield return declaration;
                yield break;
        }
    }

    /// <summary>A name the classifier recognises by itself, in code configured by any tree of the compilation.</summary>
    private bool IsPrimitiveName(string name) => KernelApi.IsKernelName(name) || _configuredNames.Contains(name);

    private static bool IsAttributeName(string name) =>
        Array.IndexOf(KernelAttributes.All, name) >= 0
        || (name.EndsWith("Attribute", StringComparison.Ordinal) && Array.IndexOf(KernelAttributes.All, name.Substring(0, name.Length - "Attribute".Length)) >= 0);

    /// <summary><c>name(</c> or <c>name&lt;T&gt;(</c>: the token names the invoked method.</summary>
    private static bool IsCalled(SyntaxToken token)
    {
        var next = token.GetNextToken();
        return next.IsKind(SyntaxKind.OpenParenToken) || next.IsKind(SyntaxKind.LessThanToken);
    }

    /// <summary>
    /// Is a source method of this name a helper the classifier may summarise: a body that names a kernel or
    /// configured name (the summary consults nothing else)? Looked up in the declaration table's name index.
    /// </summary>
    // Summaries read HelperSummaries.DefaultDepth levels of bodies (docs/design.md, "Summaries"): so does this.
    private bool IsHelperName(string name, CancellationToken cancellationToken) => IsHelperName(name, HelperSummaries.DefaultDepth, cancellationToken);

    private bool IsHelperName(string name, int depth, CancellationToken cancellationToken) =>
        _helperNames.GetOrAdd((depth, name), _ =>
        {
            _counters.OnHelperNameLookup();
            foreach (var symbol in _compilation.GetSymbolsWithName(name, SymbolFilter.Member, cancellationToken))
            {
                if (symbol is not IMethodSymbol method)
                    continue;
                foreach (var reference in method.DeclaringSyntaxReferences)
                {
                    if (BodyParts(reference.GetSyntax(cancellationToken)).Any(part => NamesPrimitive(part, depth - 1, cancellationToken)))
                        return true;
                }
            }
            return false;
        });

    /// <summary>Does the body name a primitive, or (while <paramref name="depth"/> lasts) call a helper that does?</summary>
    private bool NamesPrimitive(SyntaxNode node, int depth, CancellationToken cancellationToken)
    {
        // The body's text first: it holds every token's value, so if it names no primitive and (while depth lasts) calls
        // no helper, neither do its tokens. Only a body whose text may is walked token by token, for the exact answer.
        if (!TextMayNamePrimitive(node, depth, cancellationToken))
            return false;
        foreach (var token in node.DescendantTokens())
        {
            if (token.IsKind(SyntaxKind.IdentifierToken) && IsPrimitiveName(token.ValueText))
                return true;
            if (depth > 0 && token.IsKind(SyntaxKind.IdentifierToken) && IsCalled(token) && IsHelperName(token.ValueText, depth, cancellationToken))
                return true;
        }
        return false;
    }

    private bool TextMayNamePrimitive(SyntaxNode node, int depth, CancellationToken cancellationToken)
    {
        var called = depth > 0 ? new CalledNames((name, position) => IsCalledIdentifier(node.SyntaxTree.GetRoot(cancellationToken), position, name)) : null;
        if (NameScan.Scan(node.SyntaxTree.GetText(cancellationToken), node.Span, _primitiveNames.Value, called, cancellationToken))
            return true;
        if (called is null)
            return false;
        foreach (var name in called.Names)
        {
            if (IsHelperName(name, depth, cancellationToken))
                return true;
        }
        return false;
    }

    /// <summary>The members declared with a contract attribute, by name.</summary>
    private sealed class Attributed
    {
        private Attributed(HashSet<string> memberNames, bool anyImplicitlyCalled)
        {
            MemberNames = memberNames;
            AnyImplicitlyCalled = anyImplicitlyCalled;
        }

        public HashSet<string> MemberNames { get; }

        /// <summary>
        /// An attributed constructor: called by <c>: base()</c>/<c>: this()</c> (or implicitly) under a name no
        /// token spells. Then no body can be ruled out by its names.
        /// </summary>
        public bool AnyImplicitlyCalled { get; }

        public static Attributed Collect(Compilation compilation, IReadOnlyList<IAssemblySymbol> annotatedReferences)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            var implicitlyCalled = false;
            foreach (var tree in compilation.SyntaxTrees)
            {
                // Only a tree whose text names a contract attribute can apply one: the others' declarations are not walked.
                if (!NameScan.Mentions(tree.GetText(), AttributeNames, CancellationToken.None))
                    continue;
                var declarations = tree.GetRoot().DescendantNodes(
                    node => node is CompilationUnitSyntax or BaseNamespaceDeclarationSyntax or TypeDeclarationSyntax);
                foreach (var node in declarations)
                {
                    if (node is not BaseMethodDeclarationSyntax method || !method.AttributeLists.Any(HasContractAttribute))
                        continue;
                    if (method is MethodDeclarationSyntax named)
                        names.Add(named.Identifier.ValueText);
                    else if (method is ConstructorDeclarationSyntax)
                        implicitlyCalled = true;
                }
            }
            foreach (var assembly in annotatedReferences)
                implicitlyCalled |= CollectFromMetadata(assembly.GlobalNamespace, names);
            return new Attributed(names, implicitlyCalled);
        }

        private static bool HasContractAttribute(AttributeListSyntax list) =>
            list.Attributes.Any(attribute => IsAttributeName(SimpleName(attribute.Name)));

        private static bool CollectFromMetadata(INamespaceOrTypeSymbol container, HashSet<string> names)
        {
            var implicitlyCalled = false;
            foreach (var member in container.GetMembers())
            {
                switch (member)
                {
                    case INamespaceOrTypeSymbol nested:
                        implicitlyCalled |= CollectFromMetadata(nested, names);
                        break;
                    case IMethodSymbol method when method.GetAttributes().Any(a => a.AttributeClass is { } c && IsAttributeName(c.Name)):
                        if (method.MethodKind is MethodKind.Constructor or MethodKind.StaticConstructor)
                            implicitlyCalled = true;
                        else
                            names.Add(method.Name);
                        break;
                }
            }
            return implicitlyCalled;
        }

        private static string SimpleName(NameSyntax name) => name switch
        {
            QualifiedNameSyntax qualified => qualified.Right.Identifier.ValueText,
            AliasQualifiedNameSyntax alias => alias.Name.Identifier.ValueText,
            SimpleNameSyntax simple => simple.Identifier.ValueText,
            _ => name.ToString(),
        };
    }
}
