// SPDX-License-Identifier: MIT
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using XenPreemptAnalyzers.Flow;
using XenPreemptAnalyzers.Infrastructure;
using XenPreemptAnalyzers.Recognition;
using XenPreemptAnalyzers.Rules;

namespace XenPreemptAnalyzers;

/// <summary>
/// What one compilation needs, resolved once at compilation start: the options of each syntax tree, the
/// call classifier (with its cache of helper summaries), and the gate that decides whether to register
/// anything at all.
/// </summary>
internal sealed class CompilationAnalysis
{
    private readonly AnalyzerConfigOptionsProvider _options;
    private readonly ConcurrentDictionary<SyntaxTree, AnalyzerSettings> _settings;
    private readonly CallClassifier _classifier;
    private readonly AnalysisCounters _counters;

    private readonly TreeCounters _treeCounters;
    private readonly BodyPrefilter _prefilter;

    private CompilationAnalysis(AnalyzerConfigOptionsProvider options, ConcurrentDictionary<SyntaxTree, AnalyzerSettings> settings, Compilation compilation, HashSet<string> configuredNames, IReadOnlyList<IAssemblySymbol> annotatedReferences, AnalysisCounters counters, TreeCounters treeCounters)
    {
        _options = options;
        _settings = settings;
        _counters = counters;
        _treeCounters = treeCounters;
        _classifier = new CallClassifier(SettingsFor, compilation);
        _prefilter = new BodyPrefilter(compilation, configuredNames, annotatedReferences, treeCounters);
    }

    /// <summary>Null when the compilation can use none of the recognised names or attributes: then nothing is registered.</summary>
    public static CompilationAnalysis? TryCreate(Compilation compilation, AnalyzerConfigOptionsProvider options, AnalysisCounters counters, TreeCounters treeCounters, CancellationToken cancellationToken)
    {
        var settings = new ConcurrentDictionary<SyntaxTree, AnalyzerSettings>();
        var configuredNames = new HashSet<string>(System.StringComparer.Ordinal);
        // The compiler hands trees under the same .editorconfig sections one shared options object: each distinct
        // (options, parse options) pair is read once, not once per file (thousands of files, a handful of pairs).
        var read = new Dictionary<(AnalyzerConfigOptions, ParseOptions), AnalyzerSettings>(ReferencePairComparer.Instance);
        foreach (var tree in compilation.SyntaxTrees)
        {
            var key = (options.GetOptions(tree), tree.Options);
            if (!read.TryGetValue(key, out var treeSettings))
            {
                treeSettings = AnalyzerSettings.Read(key.Item1, key.Item2);
                read.Add(key, treeSettings);
                configuredNames.UnionWith(treeSettings.ConfiguredNames.Keys);
            }
            settings[tree] = treeSettings;
        }
        var annotatedReferences = AnnotatedReferences(compilation);
        return MayUseKernelApi(compilation, configuredNames, annotatedReferences, cancellationToken)
            ? new CompilationAnalysis(options, settings, compilation, configuredNames, annotatedReferences, counters, treeCounters)
            : null;
    }

    /// <summary>Identity of an (options, parse options) pair: both are immutable, and equal instances read the same.</summary>
    private sealed class ReferencePairComparer : IEqualityComparer<(AnalyzerConfigOptions, ParseOptions)>
    {
        public static readonly ReferencePairComparer Instance = new();

        public bool Equals((AnalyzerConfigOptions, ParseOptions) x, (AnalyzerConfigOptions, ParseOptions) y) =>
            ReferenceEquals(x.Item1, y.Item1) && ReferenceEquals(x.Item2, y.Item2);

        public int GetHashCode((AnalyzerConfigOptions, ParseOptions) pair) =>
            (System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(pair.Item1) * 31) ^ System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(pair.Item2);
    }

    private const string AnnotationsAssemblyName = "XenPreempt.Annotations";

    /// <summary>The attribute class names, with and without the suffix: looked up in each reference's type names.</summary>
    private static readonly string[] AttributeTypeNames =
        KernelAttributes.All.SelectMany(a => new[] { a, a + "Attribute" }).ToArray();

    private static bool MayUseKernelApi(Compilation compilation, HashSet<string> configuredNames, IReadOnlyList<IAssemblySymbol> annotatedReferences, CancellationToken cancellationToken)
    {
        // The user named methods for the analyzer in .editorconfig: they may be declared anywhere.
        if (configuredNames.Count > 0)
            return true;

        // Declared in source: a port, or a project that declares its own copies of the API or the attributes.
        if (compilation.ContainsSymbolsWithName(
                name => KernelApi.IsKernelName(name) || IsAttributeName(name),
                SymbolFilter.Member | SymbolFilter.Type,
                cancellationToken))
            return true;

        // Declared in a reference: a consumer of a port, or of a library annotated with our attributes.
        if (annotatedReferences.Count > 0)
            return true;
        return AppliesAttributeInSource(compilation, cancellationToken);
    }

    /// <summary>
    /// The references that can declare the kernel API or carry our attributes: our own assemblies (a port), those
    /// that reference the annotations, and those that declare <c>PerCpu</c> or attribute classes of the same names.
    /// </summary>
    private static IReadOnlyList<IAssemblySymbol> AnnotatedReferences(Compilation compilation)
    {
        var annotated = new List<IAssemblySymbol>();
        foreach (var assembly in compilation.SourceModule.ReferencedAssemblySymbols)
        {
            // Our package adds the annotations to every project that references it: that only makes the
            // attributes available. Whether source applies them is checked last, at the cost of a walk.
            if (assembly.Name == AnnotationsAssemblyName)
                continue;
            if (assembly.Name.StartsWith("XenPreempt.", System.StringComparison.Ordinal) || ReferencesAnnotations(assembly))
            {
                annotated.Add(assembly);
                continue;
            }
            var typeNames = assembly.TypeNames;
            if (typeNames.Contains(KernelApi.PerCpuTypeName) || AttributeTypeNames.Any(typeNames.Contains))
                annotated.Add(assembly);
        }
        return annotated;
    }

    private static bool ReferencesAnnotations(IAssemblySymbol assembly)
    {
        foreach (var module in assembly.Modules)
        {
            foreach (var identity in module.ReferencedAssemblies)
            {
                if (identity.Name == AnnotationsAssemblyName)
                    return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Does source apply one of the attributes to a type or member? Bodies are not entered (an attribute on a
    /// local function alone does not make a project analysed). Only a tree whose text names one of the attributes is
    /// walked, one visit per declaration; the others (nearly all of a project that installs our package and never
    /// applies an attribute) cost one pass over their characters.
    /// </summary>
    private static bool AppliesAttributeInSource(Compilation compilation, CancellationToken cancellationToken)
    {
        foreach (var tree in compilation.SyntaxTrees)
        {
            if (!NameScan.Mentions(tree.GetText(cancellationToken), BodyPrefilter.AttributeNames, cancellationToken))
                continue;
            var declarations = tree.GetRoot(cancellationToken).DescendantNodes(
                node => node is CompilationUnitSyntax or BaseNamespaceDeclarationSyntax or TypeDeclarationSyntax);
            foreach (var node in declarations)
            {
                if (node is MemberDeclarationSyntax member && member.AttributeLists.Any(list => list.Attributes.Any(a => IsAttributeName(SimpleName(a.Name)))))
                    return true;
            }
        }
        return false;
    }

    private static string SimpleName(NameSyntax name) => name switch
    {
        QualifiedNameSyntax qualified => qualified.Right.Identifier.ValueText,
        AliasQualifiedNameSyntax alias => alias.Name.Identifier.ValueText,
        SimpleNameSyntax simple => simple.Identifier.ValueText,
        _ => name.ToString(),
    };

    private static bool IsAttributeName(string name) => System.Array.IndexOf(AttributeTypeNames, name) >= 0;

    public AnalyzerSettings SettingsFor(SyntaxTree tree) =>
        _settings.GetOrAdd(tree, t => AnalyzerSettings.Read(_options.GetOptions(t), t.Options));

    /// <summary>
    /// One syntax tree, after the compiler bound it. Registered per tree, not per code block: a code-block action
    /// makes the driver compute the declaration info of every member of every tree (measured +24–28 % of compile
    /// CPU in-process for an empty one, docs/performance.md), whereas this runs once per tree and walks its
    /// declarations itself. Cheapest first: the tree's text is checked for a name the pre-filter could let a body
    /// through by (most trees of a project name none: then not a token of it is walked); then each method-like body
    /// goes through the syntax pre-filter, and only a body that passes costs a symbol lookup, its operation tree and,
    /// if one of its calls is recognised, its graph.
    /// </summary>
    public void OnSemanticModel(SemanticModelAnalysisContext context)
    {
        var model = context.SemanticModel;
        var tree = model.SyntaxTree;
        var cancellationToken = context.CancellationToken;
        var passes = false;
        AnalyzerGuard.Run("tree text check", null, null, () =>
            passes = _prefilter.TreeMayCallRecognised(tree, cancellationToken));
        _treeCounters.OnTreeSeen(passes);
        if (!passes)
            return;
        var root = tree.GetRoot(cancellationToken);
        foreach (var codeBlock in CodeBlocks.Of(root))
        {
            // The editor asks for one span (a light bulb, a changed member): bodies outside it are not its question.
            if (context.FilterSpan is { } span && !codeBlock.FullSpan.IntersectsWith(span))
                continue;
            cancellationToken.ThrowIfCancellationRequested();
            AnalyzeCodeBlock(codeBlock, model, context.ReportDiagnostic, cancellationToken);
        }
    }

    /// <summary>
    /// One code block (a method, constructor, accessor, operator…): its operations and graph are asked for only
    /// when the syntax pre-filter lets it through and one of its calls is recognised.
    /// </summary>
    private void AnalyzeCodeBlock(SyntaxNode codeBlock, SemanticModel model, System.Action<Diagnostic> report, CancellationToken cancellationToken)
    {
        _counters.OnBodySeen();
        var passes = false;
        AnalyzerGuard.Run("syntax pre-filter", codeBlock, null, () =>
            passes = _prefilter.MayCallRecognised(codeBlock, cancellationToken));
        if (!passes)
            return;
        IMethodSymbol? method = null;
        AnalyzerGuard.Run("declared symbol", codeBlock, null, () =>
            method = CodeBlocks.OwningMethod(codeBlock, model, cancellationToken));
        if (method is null || KernelAttributes.IsExempt(method) || CodeBlocks.IsGeneratedCode(method))
            return;
        _counters.OnOperationTreeRequested();
        IOperation? root = null;
        AnalyzerGuard.Run("operation tree", codeBlock, method, () =>
            root = BodyOperation(codeBlock, model, cancellationToken));
        if (root is null)
            return;
        var settings = SettingsFor(codeBlock.SyntaxTree);

        // Cheap collection first: the flow runs only for bodies that call something recognised.
        var found = false;
        AnalyzerGuard.Run("candidate collection", codeBlock, method, () =>
            found = root.Descendants().OfType<IInvocationOperation>().Any(call => !_classifier.Classify(call.TargetMethod, settings).IsNone));
        if (found)
            AnalyzeBody(root, method, settings, report, cancellationToken);
    }

    /// <summary>The body's root operation (a method or constructor body, or an expression body's block), or null.</summary>
    private static IOperation? BodyOperation(SyntaxNode declaration, SemanticModel model, CancellationToken cancellationToken)
    {
        if (model.GetOperation(declaration, cancellationToken) is { } whole && IsBodyRoot(whole))
            return whole;
        SyntaxNode? body = declaration switch
        {
            BaseMethodDeclarationSyntax m => (SyntaxNode?)m.Body ?? m.ExpressionBody,
            AccessorDeclarationSyntax a => (SyntaxNode?)a.Body ?? a.ExpressionBody,
            _ => null,
        };
        return body is not null && model.GetOperation(body, cancellationToken) is { } part && IsBodyRoot(RootOf(part)) ? RootOf(part) : null;
    }

    private void AnalyzeBody(IOperation root, IMethodSymbol method, AnalyzerSettings settings, System.Action<Diagnostic> report, CancellationToken cancellationToken)
    {
        var graphs = new List<(ControlFlowGraph Graph, IMethodSymbol? Symbol)>();
        AnalyzerGuard.Run("flow engine", root.Syntax, method, () => CollectGraphs(CreateGraph(root, cancellationToken), method, graphs, cancellationToken));
        _counters.OnGraphsBuilt(graphs.Count);

        foreach (var (graph, symbol) in graphs)
        {
            if (symbol is not null && !SymbolEqualityComparer.Default.Equals(symbol, method) && KernelAttributes.IsExempt(symbol))
                continue;
            FlowResult? result = null;
            AnalyzerGuard.Run("flow engine", graph.OriginalOperation.Syntax, symbol, () =>
                result = PreemptFlowEngine.Analyze(graph, symbol, _classifier, settings, cancellationToken));
            _counters.OnGraphAnalyzed(result!);
            if (result!.IsImprecise)
                continue;
            foreach (var rule in PreemptRule.All)
            {
                AnalyzerGuard.Run(rule.Descriptor.Id, graph.OriginalOperation.Syntax, symbol, () =>
                {
                    AnalyzerGuard.BeforeRule?.Invoke(rule.Descriptor.Id, symbol);
                    rule.Report(result, report);
                });
            }
        }
    }

    private static ControlFlowGraph CreateGraph(IOperation root, CancellationToken cancellationToken) => root switch
    {
        IMethodBodyOperation body => ControlFlowGraph.Create(body, cancellationToken),
        IConstructorBodyOperation body => ControlFlowGraph.Create(body, cancellationToken),
        IBlockOperation block => ControlFlowGraph.Create(block, cancellationToken),
        _ => throw new System.ArgumentException($"not a body: {root.Kind}", nameof(root)),
    };

    private static IOperation RootOf(IOperation operation)
    {
        while (operation.Parent is { } parent)
            operation = parent;
        return operation;
    }

    private static bool IsBodyRoot(IOperation operation) =>
        operation.Parent is null && operation.Kind is OperationKind.MethodBody or OperationKind.ConstructorBody or OperationKind.Block;

    /// <summary>The method's graph, then each local function's and lambda's, each analysed on its own.</summary>
    private static void CollectGraphs(ControlFlowGraph graph, IMethodSymbol? symbol, List<(ControlFlowGraph, IMethodSymbol?)> graphs, CancellationToken cancellationToken)
    {
        graphs.Add((graph, symbol));
        foreach (var localFunction in graph.LocalFunctions)
            CollectGraphs(graph.GetLocalFunctionControlFlowGraph(localFunction, cancellationToken), localFunction, graphs, cancellationToken);
        foreach (var lambda in FlowGraphs.AnonymousFunctions(graph))
            CollectGraphs(graph.GetAnonymousFunctionControlFlowGraph(lambda, cancellationToken), lambda.Symbol, graphs, cancellationToken);
    }
}
