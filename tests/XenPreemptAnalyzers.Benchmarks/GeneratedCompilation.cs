using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using XenPreemptAnalyzers.Performance;
using XenPreemptAnalyzers.Tests.Infrastructure;

namespace XenPreemptAnalyzers.Benchmarks;

/// <summary>Generated code as parsed trees, and fresh compilations of them (as a build or an editor snapshot makes).</summary>
internal sealed class GeneratedCompilation
{
    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private GeneratedCompilation(ImmutableArray<SyntaxTree> trees) => Trees = trees;

    public ImmutableArray<SyntaxTree> Trees { get; }

    public static GeneratedCompilation Parse(IEnumerable<GeneratedSource> sources) =>
        new(sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, ParseOptions, path: s.Path)).ToImmutableArray());

    public static GeneratedCompilation Generate(CodeKind kind, int files) => Parse(KernelCodeGenerator.Generate(kind, files));

    /// <summary>A new compilation of the trees: nothing bound yet.</summary>
    public CSharpCompilation Create() =>
        CSharpCompilation.Create(
            "Generated",
            Trees,
            InstalledReferences.Net.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, concurrentBuild: false));

    /// <summary>The compilation as the compiler sees it with these analyzers attached.</summary>
    public static CompilationWithAnalyzers WithAnalyzers(Compilation compilation, DiagnosticAnalyzer analyzer) =>
        compilation.WithAnalyzers(
            ImmutableArray.Create(analyzer),
            new CompilationWithAnalyzersOptions(
                new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
                onAnalyzerException: null,
                concurrentAnalysis: false,
                logAnalyzerExecutionTime: false));

    /// <summary>Compiler diagnostics (binding every body, as a build does) plus the analyzer's.</summary>
    public static ImmutableArray<Diagnostic> CompileAndAnalyze(Compilation compilation, DiagnosticAnalyzer analyzer) =>
        WithAnalyzers(compilation, analyzer).GetAllDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult();
}

// The baseline analyzer lives only in this benchmark program, never in a compiler (which is also why its reference
// to the harness, and so to Workspaces, does not matter): the rules for shipped
// analyzer assemblies (target framework, extended rules, release tracking) do not apply to it.
// RS1038: the program references Workspaces for lightbulb-latency; no compiler ever loads this analyzer.
#pragma warning disable RS1041, RS1036, RS2008, RS1038

/// <summary>
/// A probe: an analyzer that reports nothing and registers at most one empty action, so a run measures what the driver
/// and the compiler do for that kind of registration alone. The probes differ only in <see cref="Register"/>.
/// </summary>
internal abstract class ProbeAnalyzer : DiagnosticAnalyzer
{
    private readonly DiagnosticDescriptor _unused;
    private readonly GeneratedCodeAnalysisFlags _generatedCode;

    /// <param name="generatedCode">
    /// <see cref="GeneratedCodeAnalysisFlags.None"/> (what most analyzers ask for) makes the driver decide, for every
    /// declared symbol and tree, whether it is generated code; with Analyze | ReportDiagnostics on every analyzer of the
    /// compilation the driver treats all code as non-generated and skips that work.
    /// </param>
    protected ProbeAnalyzer(string id, GeneratedCodeAnalysisFlags generatedCode = GeneratedCodeAnalysisFlags.None)
    {
        _unused = new(id, "Unused", "Unused", "Benchmark", DiagnosticSeverity.Hidden, isEnabledByDefault: true);
        _generatedCode = generatedCode;
    }

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(_unused);

    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(_generatedCode);
        Register(context);
    }

    protected abstract void Register(AnalysisContext context);
}

/// <summary>The baseline: an analyzer that registers nothing, so the driver and the compiler do all the work there is.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
internal sealed class EmptyAnalyzer() : ProbeAnalyzer("EMPTY0001")
{
    protected override void Register(AnalysisContext context) { }
}

/// <summary>
/// Registers an empty code-block action: what the driver does for any analyzer registered on syntax per body
/// (declaration info of every member), our analyzer's registration without its work.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
internal sealed class EmptyCodeBlockAnalyzer() : ProbeAnalyzer("EMPTY0002")
{
    protected override void Register(AnalysisContext context) => context.RegisterCodeBlockAction(_ => { });
}

/// <summary>
/// Registers an empty operation-block action: the driver then builds the operation tree of every body
/// (issue 17's "+133…186 % for an empty analyzer registered the same way"; our registration before the pre-filter).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
internal sealed class EmptyOperationBlockAnalyzer() : ProbeAnalyzer("EMPTY0003")
{
    protected override void Register(AnalysisContext context) => context.RegisterOperationBlockAction(_ => { });
}

/// <summary>
/// Registers an empty semantic-model action: the driver calls it once per tree, after the tree's bodies are bound
/// (our registration since the per-tree change, without its work). With <see cref="GeneratedCodeAnalysisFlags.None"/>
/// the driver still asks, for every declared symbol, whether it is generated code (its attributes and its
/// containers'); with Analyze | ReportDiagnostics it does not.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
internal sealed class EmptySemanticModelAnalyzer(GeneratedCodeAnalysisFlags generatedCode = GeneratedCodeAnalysisFlags.None)
    : ProbeAnalyzer("EMPTY0004", generatedCode)
{
    protected override void Register(AnalysisContext context) => context.RegisterSemanticModelAction(_ => { });
}
#pragma warning restore RS1041, RS1036, RS2008, RS1038
