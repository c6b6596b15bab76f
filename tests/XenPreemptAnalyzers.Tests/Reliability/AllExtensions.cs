// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using XenPreemptAnalyzers.CodeFixes;

namespace XenPreemptAnalyzers.Tests.Reliability;

/// <summary>
/// Every analyzer and every code-fix provider the package ships, found by reflection in their assemblies (so a
/// new one is covered without touching the tests), and the runs the reliability tests make of them: analysis
/// with an exception handler, and each fix's registration, actions and Fix All.
/// </summary>
internal static class AllExtensions
{
    public static ImmutableArray<DiagnosticAnalyzer> Analyzers { get; } = Instantiate<DiagnosticAnalyzer>(typeof(PreemptContextAnalyzer));

    public static ImmutableArray<CodeFixProvider> CodeFixes { get; } = Instantiate<CodeFixProvider>(typeof(Xpa0001CodeFixProvider));

    private static ImmutableArray<T> Instantiate<T>(Type inAssembly) =>
        inAssembly.Assembly.GetTypes()
            .Where(t => typeof(T).IsAssignableFrom(t) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .Select(t => (T)Activator.CreateInstance(t)!)
            .ToImmutableArray();

    /// <summary>
    /// Runs every analyzer over <paramref name="tree"/>; an analyzer exception (AD0001) fails with the exception,
    /// which names the rule, file and line (<c>AnalyzerGuard</c>).
    /// </summary>
    public static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(Compilation compilation, SyntaxTree tree, AnalyzerConfigOptionsProvider options, CancellationToken cancellationToken)
    {
        var exceptions = new List<Exception>();
        var withAnalyzers = compilation.WithAnalyzers(Analyzers, new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty, options),
            (exception, _, _) => { lock (exceptions) exceptions.Add(exception); },
            concurrentAnalysis: false,
            logAnalyzerExecutionTime: false));
        var diagnostics = await withAnalyzers.GetAnalyzerSemanticDiagnosticsAsync(compilation.GetSemanticModel(tree), null, cancellationToken);
        if (exceptions.Count > 0)
            throw new AggregateException("An analyzer threw (AD0001)", exceptions);
        var reported = diagnostics.Where(d => d.Id is "AD0001" or "AD0002").ToList();
        if (reported.Count > 0)
            throw new InvalidOperationException("The analyzer driver reported: " + string.Join("\n", reported));
        return diagnostics;
    }

    /// <summary>
    /// For each provider that fixes <paramref name="diagnostic"/>'s id: registers its fixes, computes every offered
    /// action's operations and the text of every document they change, then Fix All of each offered equivalence
    /// key in every scope the provider supports. Returns the number of actions computed.
    /// </summary>
    public static async Task<int> FixAsync(Document document, Diagnostic diagnostic, ImmutableArray<Diagnostic> known, CancellationToken cancellationToken)
    {
        var computed = 0;
        foreach (var provider in CodeFixes.Where(p => p.FixableDiagnosticIds.Contains(diagnostic.Id)))
        {
            var actions = new List<CodeAction>();
            await provider.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => { lock (actions) actions.Add(action); }, cancellationToken));
            foreach (var action in actions)
                computed += await ComputeAsync(action, document.Project.Solution, cancellationToken);

            if (provider.GetFixAllProvider() is not { } fixAll)
                continue;
            var diagnostics = new KnownDiagnostics(known);
            foreach (var key in actions.Select(a => a.EquivalenceKey).Distinct())
            {
                foreach (var scope in fixAll.GetSupportedFixAllScopes())
                {
                    var context = scope == FixAllScope.Document
                        ? new FixAllContext(document, provider, scope, key, provider.FixableDiagnosticIds, diagnostics, cancellationToken)
                        : new FixAllContext(document.Project, provider, scope, key, provider.FixableDiagnosticIds, diagnostics, cancellationToken);
                    if (await fixAll.GetFixAsync(context) is { } action)
                        computed += await ComputeAsync(action, document.Project.Solution, cancellationToken);
                }
            }
        }
        return computed;
    }

    /// <summary>The action's operations, and the final text of every document its solution changes (which runs any formatting).</summary>
    private static async Task<int> ComputeAsync(CodeAction action, Solution before, CancellationToken cancellationToken)
    {
        ImmutableArray<CodeActionOperation> operations;
        try
        {
            operations = await action.GetOperationsAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Name the action, as an editor's "fix failed" bar would: the stack alone may end in Roslyn's clean-up pass.
            throw new InvalidOperationException($"The fix '{action.Title}' (equivalence key '{action.EquivalenceKey}') threw while its operations were computed", e);
        }
        foreach (var operation in operations)
        {
            if (operation is not ApplyChangesOperation apply)
                continue;
            foreach (var project in apply.ChangedSolution.GetChanges(before).GetProjectChanges())
            {
                foreach (var id in project.GetChangedDocuments())
                    _ = await apply.ChangedSolution.GetDocument(id)!.GetTextAsync(cancellationToken);
            }
        }
        return 1;
    }

    /// <summary>Fix All's diagnostics: those the test already has, filtered to the document or project asked for.</summary>
    private sealed class KnownDiagnostics : FixAllContext.DiagnosticProvider
    {
        private readonly ImmutableArray<Diagnostic> _diagnostics;

        public KnownDiagnostics(ImmutableArray<Diagnostic> diagnostics) => _diagnostics = diagnostics;

        public override async Task<IEnumerable<Diagnostic>> GetDocumentDiagnosticsAsync(Document document, CancellationToken cancellationToken)
        {
            var tree = await document.GetSyntaxTreeAsync(cancellationToken);
            return _diagnostics.Where(d => d.Location.SourceTree == tree);
        }

        public override Task<IEnumerable<Diagnostic>> GetProjectDiagnosticsAsync(Project project, CancellationToken cancellationToken) =>
            Task.FromResult(Enumerable.Empty<Diagnostic>());

        public override async Task<IEnumerable<Diagnostic>> GetAllDiagnosticsAsync(Project project, CancellationToken cancellationToken)
        {
            var trees = new HashSet<SyntaxTree>();
            foreach (var document in project.Documents)
            {
                if (await document.GetSyntaxTreeAsync(cancellationToken) is { } tree)
                    trees.Add(tree);
            }
            return _diagnostics.Where(d => d.Location.SourceTree is { } tree && trees.Contains(tree));
        }
    }
}

/// <summary>The preemption model (or none) as an <c>.editorconfig</c> would give it, for every tree.</summary>
internal sealed class ModelOptions : AnalyzerConfigOptionsProvider
{
    private readonly Options _options;

    public ModelOptions(string? model) => _options = new Options(model);

    public override AnalyzerConfigOptions GlobalOptions => Options.Empty;

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => _options;

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => _options;

    private sealed class Options : AnalyzerConfigOptions
    {
        public static readonly Options Empty = new(null);

        private readonly string? _model;

        public Options(string? model) => _model = model;

        public override bool TryGetValue(string key, out string value)
        {
            value = _model ?? "";
            return _model is not null && key == "xen_preempt.preemption_model";
        }
    }
}
