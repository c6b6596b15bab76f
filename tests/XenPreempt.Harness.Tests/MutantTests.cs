// SPDX-License-Identifier: MIT
using System.Linq;
using XenPreempt.Harness.Exploration;
using Xunit;

namespace XenPreempt.Harness.Tests;

/// <summary>Every seeded mutant of our fix is caught by dfs and by pct, with the invariant it breaks.</summary>
public class MutantTests
{
    [Theory]
    [InlineData("no-clear", "dynamic-full", "dfs")]
    [InlineData("no-clear", "dynamic-full", "pct")]
    [InlineData("wrong-cpu", "voluntary", "dfs")]
    [InlineData("wrong-cpu", "voluntary", "pct")]
    [InlineData("patchable", "dynamic-none", "dfs")]
    [InlineData("patchable", "dynamic-none", "pct")]
    [InlineData("injected-preemption", "dynamic-none", "dfs")]
    [InlineData("injected-preemption", "dynamic-none", "pct")]
    [InlineData("open-region", "dynamic-full", "dfs")]
    [InlineData("open-region", "voluntary", "pct")]
    public void Mutant_IsCaught(string mutant, string config, string strategy)
    {
        var m = Mutants.Find(mutant)!;
        var cell = Explorer.Run(new ExploreOptions
        {
            Variants = new[] { m.Variant },
            Configs = new[] { KernelConfigs.Find(config)! },
            Strategies = new[] { strategy },
            Iterations = 20_000,
            TimeLimitSeconds = 3600, // a hang guard only: the iteration count ends the run
            StopOnFirstBug = true,
        }).Single();
        Assert.Contains(cell.Violations, v => v.Violation.Invariant == m.ExpectedInvariant);
    }

    [Fact]
    public void EveryMutant_ChangesTheSource_ItClaimsTo()
    {
        var ours = PortBuilder.PortSources.Single(s => s.Path == Mutants.File).Text.Replace("\r\n", "\n");
        foreach (var m in Mutants.All)
            Assert.NotEqual(ours, m.Apply(ours));
    }

    [Fact]
    public void OurFix_DfsExhaustsBound2_WithoutInjections_AndFindsNothing()
    {
        foreach (var config in new[] { "voluntary", "dynamic-none", "dynamic-full" })
        {
            var cell = Explorer.Run(new ExploreOptions
            {
                Variants = new[] { "ours" },
                Configs = new[] { KernelConfigs.Find(config)! },
                Strategies = new[] { "dfs" },
                MaxInjections = 0,
                Iterations = 100_000,
                TimeLimitSeconds = 3600, // a hang guard only: the iteration count ends the run
            }).Single();
            Assert.True(cell.Exhaustive, $"{config}: not exhaustive after {cell.Schedules} schedules");
            Assert.Empty(cell.Violations);
        }
    }
}
