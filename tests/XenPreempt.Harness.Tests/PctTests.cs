// SPDX-License-Identifier: MIT
using System.Collections.Generic;
using System.Linq;
using XenPreempt.Harness.Exploration;
using XenPreempt.Machine;
using Xunit;

namespace XenPreempt.Harness.Tests;

/// <summary>Issue 13: PCT ranks vCPU ids, not option indexes, on any number of vCPUs.</summary>
public class PctTests
{
    [Theory]
    [InlineData(2, 3, 1)]
    [InlineData(2, 3, 3)]
    [InlineData(3, 2, 1)]
    [InlineData(3, 2, 2)]
    [InlineData(3, 2, 3)]
    [InlineData(4, 2, 1)]
    [InlineData(4, 2, 2)]
    [InlineData(4, 2, 3)]
    public void Pct_OnTheToyGuest_GivesExactlyTheBruteForceInterleavings(int threads, int steps, int depth)
    {
        var (runs, agree, distinct, bruteDistinct) = SelfTest.PctAgainstBruteForce(threads, steps, depth);
        Assert.Equal(runs, agree);
        Assert.Equal(bruteDistinct, distinct);
        Assert.Equal(SelfTest.FrozenPctCounts.Single(c => c.Threads == threads && c.Steps == steps && c.Depth == depth).Distinct, distinct);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public void Pct_WithoutChangePoints_RunsThreadsWholeInPriorityOrder(int threads)
    {
        // Depth 1: the serial orders, one per priority order (n!), each thread run to its end before the next.
        var (_, _, distinct, _) = SelfTest.PctAgainstBruteForce(threads, 2, 1);
        Assert.Equal(Enumerable.Range(1, threads).Aggregate(1, (a, b) => a * b), distinct);
    }

    [Fact]
    public void PctOracle_PicksTheHighestPriorityCandidate_ByVcpuId_NotByOptionIndex()
    {
        // vCPU 1 is halted: the options are vCPUs 0, 2 and 3. vCPU 3 has the highest priority among
        // them; ranking option indexes (0, 1, 2) would pick option 1 (vCPU 1's priority, 40).
        var oracle = new PctOracle(new[] { 10, 40, 20, 30 }, new HashSet<int>(), DefaultOracle.Instance);
        var choice = new Choice(ChoiceKind.NextCpu, 3, 0, 0, "toy", Choice.MaskOf(new[] { 0, 2, 3 }));
        Assert.Equal(2, oracle.Choose(choice));
        Assert.Equal(3, choice.CpuOfOption(2));
    }

    [Fact]
    public void PctOracle_AtAChangePoint_DropsTheSteppingVcpu_BelowEveryOther()
    {
        var oracle = new PctOracle(new[] { 30, 10, 20 }, new HashSet<int> { 2 }, DefaultOracle.Instance);
        var all = new Choice(ChoiceKind.NextCpu, 3, 0, 0, "toy", Choice.MaskOf(new[] { 0, 1, 2 }));
        Assert.Equal(0, oracle.Choose(all));            // choice 1: vCPU 0 (30) runs
        Assert.Equal(2, oracle.Choose(all));            // choice 2, a change point: vCPU 0 drops; vCPU 2 (20) runs
        Assert.Equal(2, oracle.Choose(all with { Cpu = 2 }));
    }
}
