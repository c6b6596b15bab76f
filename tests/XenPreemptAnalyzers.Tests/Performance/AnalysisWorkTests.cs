using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;
using XenPreemptAnalyzers.Flow;
using XenPreemptAnalyzers.Infrastructure;
using XenPreemptAnalyzers.Performance;
using XenPreemptAnalyzers.Recognition;
using XenPreemptAnalyzers.Tests.Infrastructure;

namespace XenPreemptAnalyzers.Tests.Performance;

/// <summary>
/// Deterministic performance guards (no timing): the work the analyzer does, counted by its own counters
/// on generated code. The figures themselves come from tests/XenPreemptAnalyzers.Benchmarks (docs/performance.md).
/// </summary>
public sealed class AnalysisWorkTests
{
    /// <summary>
    /// In theory a block is visited once per growth of its path set (at most <see cref="PreemptFlowEngine.MaxPathsPerBlock"/>
    /// times, then top); observations are read out of the fixed point, with no second pass. On these shapes, measured:
    /// 0.9 visits per block on the dense code, 1.0 on the pathological methods (one visit, loops converging at once;
    /// the exit block, which nothing runs, is never visited). Before the observations were derived afterwards a
    /// recording pass visited every block once more (1.8 and 2.0).
    /// </summary>
    private const int MaxVisitsPerBlock = 1;

    /// <summary>Every block but the exit is reached in this generated code, so is visited at least once.</summary>
    private static bool VisitsAreBounded(AnalysisCounters counters) =>
        counters.BlockVisits >= counters.BlocksAnalyzed - counters.GraphsBuilt && counters.BlockVisits <= MaxVisitsPerBlock * counters.BlocksAnalyzed;

    [Fact]
    public void Generated_code_compiles_without_errors()
    {
        foreach (var kind in new[] { CodeKind.Ordinary, CodeKind.Dense, CodeKind.ManyBranches, CodeKind.DeepNesting })
        {
            var errors = Create(KernelCodeGenerator.Generate(kind, 3)).GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error);
            Assert.True(!errors.Any(), $"{kind}: {string.Join("\n", errors)}");
        }
    }

    [Fact]
    public void Ordinary_code_names_nothing_the_analyzers_recognise()
    {
        var identifiers = KernelCodeGenerator.Generate(CodeKind.Ordinary, 2)
            .SelectMany(s => CSharpSyntaxTree.ParseText(s.Text).GetRoot().DescendantTokens())
            .Where(t => t.IsKind(SyntaxKind.IdentifierToken))
            .Select(t => t.ValueText)
            .ToHashSet();

        Assert.Contains("enter_scope", identifiers);
        Assert.DoesNotContain(identifiers, KernelApi.IsKernelName);
        Assert.DoesNotContain(identifiers, id => KernelAttributes.All.Any(a => id == a || id == a + "Attribute"));
    }

    [Fact]
    public async Task Ordinary_code_registers_no_operation_actions()
    {
        var (counters, diagnostics) = await AnalyzeAsync(KernelCodeGenerator.Generate(CodeKind.Ordinary, 20));

        Assert.Empty(diagnostics);
        Assert.Equal(1, counters.CompilationStarts);
        Assert.Equal(0, counters.CompilationsAnalyzed);
        Assert.Equal(0, counters.BodiesSeen);
        Assert.Equal(0, counters.OperationTreesRequested);
        Assert.Equal(0, counters.GraphsBuilt);
    }

    [Fact]
    public async Task Ordinary_code_referencing_the_annotations_registers_nothing_until_it_applies_one()
    {
        // Our package references XenPreempt.Annotations from every project that installs it.
        var annotations = Annotations;
        var ordinary = KernelCodeGenerator.Generate(CodeKind.Ordinary, 5);
        var annotated = new GeneratedSource("Annotated.cs", "static class Annotated { [XenPreempt.Annotations.ProcessContext] static void f() { } }");

        var (plain, _) = await AnalyzeAsync(ordinary, annotations);
        var (applied, _) = await AnalyzeAsync(ordinary.Append(annotated), annotations);

        Assert.Equal(0, plain.CompilationsAnalyzed);
        Assert.Equal(0, plain.BodiesSeen);
        Assert.Equal(1, applied.CompilationsAnalyzed);
        Assert.True(applied.BodiesSeen > 0);
    }

    [Fact]
    public async Task Bodies_without_candidate_calls_never_get_a_control_flow_graph()
    {
        var dense = KernelCodeGenerator.Generate(CodeKind.Dense, 3);
        var ordinary = KernelCodeGenerator.Generate(CodeKind.Ordinary, 20);

        var (alone, _, aloneTrees) = await AnalyzeWithTreesAsync(dense);
        var (mixed, _, mixedTrees) = await AnalyzeWithTreesAsync(dense.Concat(ordinary));

        // Per driver file: eight bodies call something recognised (or a helper that does) plus one local
        // function; probe_N and describe_N and the API stubs call nothing recognised.
        Assert.Equal(9 * 3, alone.GraphsBuilt);
        // The 21 ordinary files (their API file and 20 drivers) are shown to the analysis; the text check lets through the three whose find_0..2 call
        // stats_lock_0..2 — the names of the dense files' helpers (which call preempt_disable) — and not a token of the
        // other eighteen is walked. The pre-filter goes by name: it asks for the operations of those three find_N
        // only, which show no recognised call: no graph.
        Assert.Equal(aloneTrees.TreesSeen + ordinary.Count, mixedTrees.TreesSeen);
        Assert.Equal(aloneTrees.TreesPassingTextCheck + 3, mixedTrees.TreesPassingTextCheck);
        Assert.True(mixed.BodiesSeen >= alone.BodiesSeen + (3 * 10), $"{mixed.BodiesSeen} bodies seen with the ordinary code, {alone.BodiesSeen} without");
        Assert.True(mixed.BodiesSeen < alone.BodiesSeen + (4 * 10), $"{mixed.BodiesSeen} bodies seen with the ordinary code, {alone.BodiesSeen} without");
        Assert.Equal(alone.OperationTreesRequested + 3, mixed.OperationTreesRequested);
        Assert.Equal(alone.GraphsBuilt, mixed.GraphsBuilt);
        Assert.Equal(alone.BlockVisits, mixed.BlockVisits);
    }

    /// <summary>
    /// The Go-runtime case of issue 17: one method named <c>schedule</c> in a large ordinary project switched the
    /// analysis on for the whole compilation, and Roslyn built operation trees for every body. Now only the body
    /// that calls it has its operations asked for (the declaration of <c>schedule</c> itself names nothing).
    /// </summary>
    [Fact]
    public async Task One_recognised_call_in_one_body_asks_for_the_operations_of_that_body_only()
    {
        var ordinary = KernelCodeGenerator.Generate(CodeKind.Ordinary, 20);
        var scheduler = new GeneratedSource("Runtime/Proc.cs", """
            static class Proc
            {
                static int ticks;
                public static void schedule() { ticks++; }
                public static void park() { ticks--; schedule(); }
                public static void ready() { ticks += 2; }
            }
            """);

        var (counters, diagnostics, trees) = await AnalyzeWithTreesAsync(ordinary.Append(scheduler));

        Assert.Empty(diagnostics);
        Assert.Equal(1, counters.CompilationsAnalyzed);
        // Every tree is handed to the analysis (the ordinary API file, 20 drivers, Proc.cs); only Proc.cs names anything,
        // so only its three bodies are walked.
        Assert.Equal(22, trees.TreesSeen);
        Assert.Equal(1, trees.TreesPassingTextCheck);
        Assert.Equal(3, counters.BodiesSeen);
        Assert.Equal(1, counters.OperationTreesRequested);
        Assert.Equal(1, counters.GraphsBuilt);
    }

    /// <summary>
    /// The per-tree text check: a tree whose text names no kernel, configured or attribute name and calls no helper is
    /// ruled out before a token of its bodies is walked; a tree that only calls a source helper (which calls a kernel
    /// name) is let through by the helper's name, and its body analysed.
    /// </summary>
    [Fact]
    public async Task A_tree_with_no_candidate_name_has_none_of_its_bodies_walked()
    {
        var ordinary = KernelCodeGenerator.Generate(CodeKind.Ordinary, 20);
        var kernel = new GeneratedSource("Kernel/Preempt.cs", """
            static class Preempt
            {
                public static void preempt_disable() { }
                public static void preempt_enable() { }
                public static void enter() { preempt_disable(); }
                public static void leave() { preempt_enable(); }
            }
            """);
        var caller = new GeneratedSource("Driver/Caller.cs", """
            static class Caller
            {
                static int depth;
                static void guarded() { Preempt.enter(); depth++; Preempt.leave(); }
                static void plain() { depth--; }
            }
            """);

        var (counters, diagnostics, trees) = await AnalyzeWithTreesAsync(ordinary.Append(kernel).Append(caller));

        Assert.Empty(diagnostics);
        Assert.Equal(23, trees.TreesSeen);
        Assert.Equal(2, trees.TreesPassingTextCheck);
        // Preempt.cs's four bodies and Caller.cs's two; none of the 20 ordinary files' 200-odd bodies.
        Assert.Equal(6, counters.BodiesSeen);
        // enter, leave (kernel names) and guarded (calls the helpers): three operation trees, three graphs.
        Assert.Equal(3, counters.OperationTreesRequested);
        Assert.Equal(3, counters.GraphsBuilt);
    }

    /// <summary>
    /// The pre-filter must never stop a body the classifier would act on: a call to a source helper seen through as
    /// a summary, to a source method or a referenced one that carries a contract attribute, or to an attributed
    /// local function. Each such body (and the helper, which calls a kernel name) gets its operations and a graph.
    /// </summary>
    [Fact]
    public async Task Bodies_that_call_helpers_or_attributed_members_pass_the_prefilter()
    {
        var library = CSharpCompilation.Create(
                "AnnotatedLibrary",
                new[] { CSharpSyntaxTree.ParseText("public static class Locks { [XenPreempt.Annotations.DisablesPreemption] public static void grab() { } [XenPreempt.Annotations.EnablesPreemption] public static void drop() { } }") },
                InstalledReferences.Net.Value.Add(Annotations),
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var libraryImage = new System.IO.MemoryStream();
        Assert.True(library.Emit(libraryImage).Success);
        var code = new GeneratedSource("Uses.cs", """
            using XenPreempt.Annotations;
            static class Uses
            {
                static void preempt_disable() { }
                static void preempt_enable() { }
                static void enter() { preempt_disable(); }
                static void leave() { preempt_enable(); }
                [DisablesPreemption] static void hold() { }
                [EnablesPreemption] static void release() { }
                static void through_helpers() { enter(); leave(); }
                static void through_source_attributes() { hold(); release(); }
                static void through_referenced_attributes() { Locks.grab(); Locks.drop(); }
                static void through_local_function()
                {
                    block();
                    unblock();
                    [DisablesPreemption] static void block() { }
                    [EnablesPreemption] static void unblock() { }
                }
                static void plain() { int x = 1; x++; }
            }
            """);

        var (counters, diagnostics) = await AnalyzeAsync(new[] { code }, Annotations, MetadataReference.CreateFromImage(libraryImage.ToArray()));

        Assert.DoesNotContain(diagnostics, d => d.Id == "AD0001");
        // enter and leave (kernel names), the four callers; not the stubs, the attributed empty methods or plain.
        Assert.Equal(6, counters.OperationTreesRequested);
        // The four callers' bodies, the two local functions, and the two helpers (each calls a recognised name).
        Assert.Equal(8, counters.GraphsBuilt);
    }

    [Fact]
    public async Task Dense_code_is_analysed_with_few_visits_per_block_and_reports_nothing()
    {
        var (counters, diagnostics) = await AnalyzeAsync(KernelCodeGenerator.Generate(CodeKind.Dense, 10));

        Assert.Empty(diagnostics);
        Assert.Equal(9 * 10, counters.GraphsBuilt);
        Assert.True(VisitsAreBounded(counters), $"{counters.BlockVisits} visits of {counters.BlocksAnalyzed} blocks");
    }

    [Theory]
    [InlineData(CodeKind.ManyBranches)]
    [InlineData(CodeKind.DeepNesting)]
    public async Task Pathological_methods_visit_each_block_a_bounded_number_of_times(CodeKind kind)
    {
        var (counters, diagnostics) = await AnalyzeAsync(KernelCodeGenerator.Generate(kind, 1));

        Assert.DoesNotContain(diagnostics, d => d.Id == "AD0001");
        Assert.Equal(1, counters.GraphsBuilt);
        Assert.True(counters.BlocksAnalyzed > (kind == CodeKind.ManyBranches ? KernelCodeGenerator.ManyBranchesCount : KernelCodeGenerator.DeepNestingDepth));
        Assert.True(VisitsAreBounded(counters), $"{counters.BlockVisits} visits of {counters.BlocksAnalyzed} blocks");
    }

    private static MetadataReference Annotations =>
        MetadataReference.CreateFromFile(typeof(XenPreempt.Annotations.ProcessContextAttribute).Assembly.Location);

    private static CSharpCompilation Create(IEnumerable<GeneratedSource> sources, params MetadataReference[] extraReferences) =>
        CSharpCompilation.Create(
            "Generated",
            sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, new CSharpParseOptions(LanguageVersion.Latest), path: s.Path)),
            InstalledReferences.Net.Value.AddRange(extraReferences),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

    /// <summary>Runs a fresh analyzer instance, so its counters see this compilation only (tests run in parallel).</summary>
    private static async Task<(AnalysisCounters Counters, ImmutableArray<Diagnostic> Diagnostics)> AnalyzeAsync(IEnumerable<GeneratedSource> sources, params MetadataReference[] extraReferences)
    {
        var (counters, diagnostics, _) = await AnalyzeWithTreesAsync(sources, extraReferences);
        return (counters, diagnostics);
    }

    private static async Task<(AnalysisCounters Counters, ImmutableArray<Diagnostic> Diagnostics, TreeCounters Trees)> AnalyzeWithTreesAsync(IEnumerable<GeneratedSource> sources, params MetadataReference[] extraReferences)
    {
        var analyzer = new PreemptContextAnalyzer();
        var diagnostics = await Create(sources, extraReferences)
            .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(analyzer))
            .GetAnalyzerDiagnosticsAsync();
        return (analyzer.Counters, diagnostics, analyzer.TreeCounters);
    }
}
