// SPDX-License-Identifier: MIT
using System.Linq;
using XenPreempt.Machine;
using Xunit;

namespace XenPreempt.Harness.Tests;

public class OracleTests
{
    private static readonly Choice NextCpuOf4 = new(ChoiceKind.NextCpu, 4, 0, 0, "site");

    [Fact]
    public void RandomOracle_IsItsOwnGenerator_SoASeedMeansTheSameSequenceOnEveryRuntime()
    {
        var oracle = new RandomOracle(42);
        var picks = Enumerable.Range(0, 12).Select(_ => oracle.Choose(NextCpuOf4)).ToArray();
        // Frozen: SplitMix64 from seed 42 (checked against an independent implementation). A change here breaks every recorded seed.
        Assert.Equal(new[] { 1, 3, 2, 0, 2, 2, 1, 0, 1, 2, 3, 2 }, picks);
    }

    [Fact]
    public void ScriptedOracle_FollowsTheList_ThenTakesDefaults()
    {
        var oracle = new ScriptedOracle(new[] { 3, 2 });
        Assert.Equal(3, oracle.Choose(NextCpuOf4));
        Assert.Equal(2, oracle.Choose(NextCpuOf4));
        Assert.Equal(0, oracle.Choose(NextCpuOf4));
    }

    [Fact]
    public void ScriptedOracle_ReportsDivergence_WhenTheRunNoLongerOffersTheScriptedChoice()
    {
        var oracle = new ScriptedOracle(new[] { 3 });
        var e = Assert.Throws<ReplayDivergenceException>(() => oracle.Choose(new Choice(ChoiceKind.Migrate, 2, 0, 1, "idle_balance cpu1")));
        Assert.Contains("replay diverged at choice 0", e.Message);
    }

    [Fact]
    public void RuleOracle_FiresEachRuleTheNumberOfTimesAsked_AndFallsBack()
    {
        var oracle = new RuleOracle().When(c => c.Kind == ChoiceKind.NextCpu, _ => 2, times: 2);
        Assert.Equal(2, oracle.Choose(NextCpuOf4));
        Assert.Equal(2, oracle.Choose(NextCpuOf4));
        Assert.Equal(0, oracle.Choose(NextCpuOf4));
    }
}
