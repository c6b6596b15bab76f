using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using Xunit;
using XenPreemptAnalyzers.Flow;
using XenPreemptAnalyzers.Recognition;
using XenPreemptAnalyzers.Tests.Infrastructure;

namespace XenPreemptAnalyzers.Tests.Flow;

/// <summary>The engine on its own: fixpoint, bounded work, the lattice.</summary>
public sealed class EngineTests
{
    private static FlowResult Run(string body)
    {
        var compilation = Compile.WithStubs("class C { " + body + " }");
        var tree = compilation.SyntaxTrees[0];
        var model = compilation.GetSemanticModel(tree);
        var method = tree.GetRoot().DescendantNodes().OfType<MethodDeclarationSyntax>().First();
        var graph = ControlFlowGraph.Create((IMethodBodyOperation)model.GetOperation(method)!);
        var classifier = new CallClassifier(_ => AnalyzerSettings.Default);
        return PreemptFlowEngine.Analyze(graph, (IMethodSymbol?)model.GetDeclaredSymbol(method), classifier, AnalyzerSettings.Default, default);
    }

    [Fact]
    public void Loops_reach_a_fixpoint_in_a_bounded_number_of_block_visits()
    {
        var before = PreemptFlowEngine.TotalBlockVisits;
        var result = Run("[ProcessContext] static void f(int n) { while (n-- > 0) { preempt_disable(); if (n % 3 == 0) preempt_enable(); } }");
        Assert.False(result.IsImprecise);
        Assert.InRange(result.BlockVisits, 1, 40 * result.Graph.Blocks.Length);
        Assert.True(PreemptFlowEngine.TotalBlockVisits - before >= result.BlockVisits);
    }

    [Fact]
    public void Too_many_paths_make_the_graph_imprecise_and_silent()
    {
        var body = string.Concat(Enumerable.Range(0, 12).Select(i => $"if (b{i}) preempt_disable(); "));
        var parameters = string.Join(", ", Enumerable.Range(0, 12).Select(i => $"bool b{i}"));
        var result = Run($"[ProcessContext] static void f({parameters}) {{ {body} __this_cpu_inc(counter); }}");
        Assert.True(result.IsImprecise);
        Assert.Empty(result.Calls);
    }

    [Fact]
    public void Paths_stay_apart_at_merges()
    {
        var result = Run("[ProcessContext] static void f(bool b) { if (b) preempt_disable(); __this_cpu_inc(counter); if (b) preempt_enable(); }");
        var access = result.Calls.Single(c => c.Effect.Name == "__this_cpu_inc");
        Assert.Equal(2, access.Before.Count);
        Assert.Contains(access.Before, s => s.IsProvenPreemptible);
        Assert.Contains(access.Before, s => s.Preempt.IsDisabled);
    }

    [Fact]
    public void Depth_is_capped_and_counts_back()
    {
        var depth = Depth.KnownEntry(0);
        for (var i = 0; i < Depth.Cap + 3; i++)
            depth = depth.Increment();
        Assert.True(depth.IsDisabled);
        Assert.False(depth.IsDeltaKnown);
        Assert.True(Depth.KnownEntry(0).Increment().Decrement().IsZero);
        Assert.False(Depth.UnknownEntry.Increment().Decrement().IsZero);
        Assert.True(Depth.UnknownEntry.Increment().IsDisabled);
    }
}
