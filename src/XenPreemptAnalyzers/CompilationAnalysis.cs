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
    private readonly ConcurrentDictionary<SyntaxTree, AnalyzerSettings> _settings = new();
    private readonly CallClassifier _classifier;
    private readonly AnalysisCounters _counters;

    private CompilationAnalysis(AnalyzerConfigOptionsProvider options, Compilation compilation, AnalysisCounters counters)
    {
        _options = options;
        _counters = counters;
        _classifier = new CallClassifier(SettingsFor, compilation);
    }

    /// <summary>Null when the compilation can use none of the recognised names or attributes: then nothing is registered.</summary>
    public static CompilationAnalysis? TryCreate(Compilation compilation, AnalyzerConfigOptionsProvider options, AnalysisCounters counters, CancellationToken cancellationToken)
    {
        var analysis = new CompilationAnalysis(options, compilation, counters);
        var configuredNames = new HashSet<string>(System.StringComparer.Ordinal);
        foreach (var tree in compilation.SyntaxTrees)
            configuredNames.UnionWith(analysis.SettingsFor(tree).ConfiguredNames.Keys);
        return MayUseKernelApi(compilation, configuredNames, cancellationToken) ? analysis : null;
    }

    private const string AnnotationsAssemblyName = "XenPreempt.Annotations";

    /// <summary>The attribute class names, with and without the suffix: looked up in each reference's type names.</summary>
    private static readonly string[] AttributeTypeNames =
        KernelAttributes.All.SelectMany(a => new[] { a, a + "Attribute" }).ToArray();

    private static bool MayUseKernelApi(Compilation compilation, HashSet<string> configuredNames, CancellationToken cancellationToken)
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
        foreach (var assembly in compilation.SourceModule.ReferencedAssemblySymbols)
        {
            // Our package adds the annotations to every project that references it: that only makes the
            // attributes available. Whether source applies them is checked last, at the cost of a walk.
            if (assembly.Name == AnnotationsAssemblyName)
                continue;
            if (assembly.Name.StartsWith("XenPreempt.", System.StringComparison.Ordinal) || ReferencesAnnotations(assembly))
                return true;
            var typeNames = assembly.TypeNames;
            if (typeNames.Contains(KernelApi.PerCpuTypeName) || AttributeTypeNames.Any(typeNames.Contains))
                return true;
        }
        return AppliesAttributeInSource(compilation, cancellationToken);
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
    /// local function alone does not make a project analysed): the walk costs one visit per declaration.
    /// </summary>
    private static bool AppliesAttributeInSource(Compilation compilation, CancellationToken cancellationToken)
    {
        foreach (var tree in compilation.SyntaxTrees)
        {
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

    public void OnOperationBlockStart(OperationBlockStartAnalysisContext context)
    {
        if (context.OwningSymbol is not IMethodSymbol method || KernelAttributes.IsExempt(method))
            return;
        var candidates = new CandidateFlag();
        var settings = SettingsFor(context.OperationBlocks[0].Syntax.SyntaxTree);

        // Cheap collection first: the flow runs only for bodies that call something recognised.
        _counters.OnOperationActionRegistered();
        context.RegisterOperationAction(operation => AnalyzerGuard.Run("candidate collection", operation.Operation.Syntax, method, () =>
        {
            if (!candidates.Found && !_classifier.Classify(((IInvocationOperation)operation.Operation).TargetMethod, settings).IsNone)
                candidates.Found = true;
        }), OperationKind.Invocation);

        context.RegisterOperationBlockEndAction(end =>
        {
            if (candidates.Found)
                AnalyzeBody(end, method, settings);
        });
    }

    private void AnalyzeBody(OperationBlockAnalysisContext context, IMethodSymbol method, AnalyzerSettings settings)
    {
        // The blocks handed to us hang under the method body; the context builds (and caches) the body's graph.
        var root = context.OperationBlocks.FirstOrDefault(block => IsBodyRoot(RootOf(block)));
        if (root is null)
            return;
        var graphs = new List<(ControlFlowGraph Graph, IMethodSymbol? Symbol)>();
        AnalyzerGuard.Run("flow engine", root.Syntax, method, () => CollectGraphs(context.GetControlFlowGraph(root), method, graphs, context.CancellationToken));
        _counters.OnGraphsBuilt(graphs.Count);

        // One delegate for every rule and graph: binding the struct context's method anew would box it each time.
        System.Action<Diagnostic> report = context.ReportDiagnostic;
        foreach (var (graph, symbol) in graphs)
        {
            if (symbol is not null && !SymbolEqualityComparer.Default.Equals(symbol, method) && KernelAttributes.IsExempt(symbol))
                continue;
            FlowResult? result = null;
            AnalyzerGuard.Run("flow engine", graph.OriginalOperation.Syntax, symbol, () =>
                result = PreemptFlowEngine.Analyze(graph, symbol, _classifier, settings, context.CancellationToken));
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
        foreach (var block in graph.Blocks)
        {
            var operations = block.BranchValue is null ? block.Operations : block.Operations.Add(block.BranchValue);
            foreach (var lambda in operations.SelectMany(o => o.DescendantsAndSelf()).OfType<IFlowAnonymousFunctionOperation>())
                CollectGraphs(graph.GetAnonymousFunctionControlFlowGraph(lambda, cancellationToken), lambda.Symbol, graphs, cancellationToken);
        }
    }

    /// <summary>Set by operation actions, read at block end.</summary>
    private sealed class CandidateFlag
    {
        private int _found;

        public bool Found
        {
            get => Volatile.Read(ref _found) != 0;
            set => Volatile.Write(ref _found, value ? 1 : 0);
        }
    }
}
