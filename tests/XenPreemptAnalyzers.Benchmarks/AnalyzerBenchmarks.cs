using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using XenPreemptAnalyzers.Performance;

namespace XenPreemptAnalyzers.Benchmarks;

/// <summary>
/// Compiler diagnostics plus analyzers on a fresh compilation of generated code, as a build runs them: the
/// empty analyzer is the baseline, so the Ratio column is the whole cost of adding ours (its callbacks and the
/// operation trees it asks for).
/// </summary>
[MemoryDiagnoser]
public class CodeSizeBenchmarks
{
    /// <summary>Driver files per unit of <see cref="Scale"/>.</summary>
    public const int FilesPerScale = 25;

    private GeneratedCompilation _code = null!;

    [Params(CodeKind.Ordinary, CodeKind.Dense)]
    public CodeKind Kind { get; set; }

    [Params(1, 2, 4)]
    public int Scale { get; set; }

    [GlobalSetup]
    public void Setup() => _code = GeneratedCompilation.Generate(Kind, FilesPerScale * Scale);

    [Benchmark(Baseline = true)]
    public ImmutableArray<Diagnostic> EmptyAnalyzer() => GeneratedCompilation.CompileAndAnalyze(_code.Create(), new EmptyAnalyzer());

    [Benchmark]
    public ImmutableArray<Diagnostic> OurAnalyzers() => GeneratedCompilation.CompileAndAnalyze(_code.Create(), new PreemptContextAnalyzer());
}

/// <summary>One huge method: 2,000 branches and loops, or nesting 100 deep.</summary>
[MemoryDiagnoser]
public class PathologicalMethodBenchmarks
{
    private GeneratedCompilation _code = null!;

    [Params(CodeKind.ManyBranches, CodeKind.DeepNesting)]
    public CodeKind Kind { get; set; }

    [GlobalSetup]
    public void Setup() => _code = GeneratedCompilation.Generate(Kind, 1);

    [Benchmark(Baseline = true)]
    public ImmutableArray<Diagnostic> EmptyAnalyzer() => GeneratedCompilation.CompileAndAnalyze(_code.Create(), new EmptyAnalyzer());

    [Benchmark]
    public ImmutableArray<Diagnostic> OurAnalyzers() => GeneratedCompilation.CompileAndAnalyze(_code.Create(), new PreemptContextAnalyzer());
}
