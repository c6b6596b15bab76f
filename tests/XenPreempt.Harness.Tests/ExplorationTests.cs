// SPDX-License-Identifier: MIT
using System.IO;
using System.Linq;
using XenPreempt.Harness.Exploration;
using Xunit;

namespace XenPreempt.Harness.Tests;

public class ExplorationTests
{
    [Fact]
    public void Selftest_Passes()
    {
        var results = SelfTest.Run().ToList();
        Assert.All(results, r => Assert.True(r.Ok, $"{r.Name}: {r.Detail}"));
    }

    [Theory]
    [InlineData(2, 3, 0, 1)]
    [InlineData(2, 3, 1, 4)]
    [InlineData(2, 3, 2, 10)]
    [InlineData(2, 3, 99, 20)]
    [InlineData(3, 2, 99, 90)]
    public void BruteForce_CountsInterleavings(int threads, int steps, int bound, long expected) =>
        Assert.Equal(expected, ToyGuest.BruteForceCount(threads, steps, bound));

    private static CellResult Explore(string variant, string config, string strategy, long iterations = 300) =>
        Explorer.Run(new ExploreOptions
        {
            Variants = new[] { variant },
            Configs = new[] { KernelConfigs.Find(config)! },
            Strategies = new[] { strategy },
            Iterations = iterations,
            TimeLimitSeconds = 3600, // a hang guard only: the iteration count ends the run
        }).Single();

    [Theory]
    [InlineData("dfs")]
    [InlineData("pct")]
    [InlineData("random")]
    public void Explore_FindsTheNoOpReschedule_InTheMainlineCode_UnderDynamicNone(string strategy)
    {
        var cell = Explore("4624a14f4daa", "dynamic-none", strategy, 20);
        Assert.Contains(cell.Violations, v => v.Violation.Invariant == "hcall-latency");
    }

    [Theory]
    [InlineData("dynamic-none")]
    [InlineData("dynamic-full")]
    [InlineData("voluntary")]
    public void Explore_FindsNothing_InOurFix(string config)
    {
        foreach (var strategy in new[] { "dfs", "pct" })
        {
            var cell = Explore("ours", config, strategy);
            Assert.True(cell.Violations.Count == 0, string.Join("; ", cell.Violations.Select(v => v.Violation.Message)));
            Assert.Equal(300, cell.Schedules);
        }
    }

    [Fact]
    public void Explore_FindsTheDebugPreemptLine_InTheJune2023PatchWithoutItem3_UnderDynamicFull()
    {
        // The mainline __this_cpu_write() compiled into a PREEMPTION build (fdfd811ddde3's code never met one).
        var cell = Explore("june2023~without-item3", "dynamic-full", "dfs", 50);
        Assert.Contains(cell.Violations, v => v.Violation.Invariant == "debug-preempt");
    }

    [Fact]
    public void Dfs_FindsNoMigrationRace_ForJune2023_OnPv_UnderDynamicFull()
    {
        // On a PV dom0 every interrupt goes through the upcall's hand-off and a kernel-mode breakpoint never
        // reschedules: the June 2023 patch has no C1 there (docs/harness.md, routes). The race is on a PVH
        // dom0: scenario c1, ScenarioTests.C1_June2023Proposal_OnAPvhDom0_UnderDynamicFull_LeavesAStaleFlagOnCpu0.
        var cell = Explore("june2023", "dynamic-full", "dfs", 300);
        Assert.True(cell.Schedules > 0);
        Assert.DoesNotContain(cell.Violations, v => v.Violation.Invariant == "flag-owner");
    }

    [Fact]
    public void Tokens_RoundTrip_AndReplayTheSameViolation()
    {
        var found = Explore("4624a14f4daa", "dynamic-none", "random", 5).Violations.First();
        Assert.True(ReplayToken.TryDecode(found.Token.Encode(), out var decoded, out _));
        Assert.Equal(found.Token.Choices, decoded!.Choices);
        var (_, _, replay) = Explorer.Replay(decoded);
        Assert.Contains(replay.Violations, v => v.Invariant == found.Violation.Invariant && v.Step == found.Violation.Step);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello")]
    [InlineData("xh1.ours.none.std~2~1~20000.AAAA.00000000")]
    [InlineData("xh2.ours.none.std~2~1~20000.AAAA.00000000")]
    public void CorruptedTokens_AreRefused(string token) => Assert.False(ReplayToken.TryDecode(token, out _, out _));

    [Fact]
    public void Minimize_KeepsTheInvariant_AndNeverGrows()
    {
        var found = Explore("fdfd811ddde3", "voluntary", "random", 5).Violations.First();
        var m = Minimizer.Minimize(found.Token);
        Assert.True(m.Minimal.Choices.Count <= m.Original.Choices.Count);
        Assert.True(m.MinimalNonDefault <= m.OriginalNonDefault);
        var (_, _, replay) = Explorer.Replay(m.Minimal);
        Assert.Contains(replay.Violations, v => v.Invariant == m.Invariant);
    }
}

public class ExploreCliTests
{
    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        return (Program.Run(args, o, e), o.ToString(), e.ToString());
    }

    [Fact]
    public void Explore_PrintsTheMatrix_TokensAndTheClosingLine()
    {
        var (code, output, _) = Cli("explore", "--variant", "4624a14f4daa", "ours", "--config", "dynamic-none", "--strategy", "dfs", "--iterations", "20");
        Assert.Equal(Program.ExitViolation, code);
        Assert.Contains("sched/s", output);
        Assert.Contains("replay  dotnet run --project src/XenPreempt.Harness -- replay --token xh1.4624a14f4daa.dynamic-none.", output);
        Assert.Contains("harness: 1 passed, 1 failed", output);
    }

    [Fact]
    public void Replay_OfAPrintedToken_ReproducesTheViolation()
    {
        var (_, output, _) = Cli("explore", "--variant", "4624a14f4daa", "--config", "dynamic-none", "--strategy", "random", "--iterations", "3", "--format", "json");
        var token = System.Text.RegularExpressions.Regex.Match(output, "xh1\\.[^\"]+").Value;
        var (code, replay, _) = Cli("replay", "--token", token);
        Assert.Equal(Program.ExitViolation, code);
        Assert.Contains("[hcall-latency]", replay);
    }

    [Fact]
    public void Tasks_ReplaceTheWorkload_AndTravelInTheToken()
    {
        var (_, output, _) = Cli("explore", "--variant", "4624a14f4daa", "--config", "dynamic-none", "--strategy", "random", "--iterations", "2",
            "--tasks", "xl:hcall:0:40,kworker/0:1:kworker:0:5,cc:hog:1:5", "--format", "json");
        var token = System.Text.RegularExpressions.Regex.Match(output, "xh1\\.[^\"]+").Value;
        var (code, replay, _) = Cli("replay", "--token", token);
        Assert.Equal(Program.ExitViolation, code);
        Assert.Contains("tasks=xl:hcall:0:40,kworker/0:1:kworker:0:5,cc:hog:1:5", replay);
    }

    [Fact]
    public void ReportDir_WritesTraceFiles_ThatReplay()
    {
        var dir = Directory.CreateTempSubdirectory("xen-harness-test-");
        try
        {
            Cli("explore", "--variant", "4624a14f4daa", "--config", "dynamic-none", "--strategy", "random", "--iterations", "3", "--report-dir", dir.FullName);
            Assert.True(File.Exists(Path.Combine(dir.FullName, "report.json")));
            var trace = Path.Combine(dir.FullName, "bug-0001.trace.json");
            var (code, _, _) = Cli("replay", "--trace-file", trace);
            Assert.Equal(Program.ExitViolation, code);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Theory]
    [InlineData("explore", "--strategy", "bfs")]
    [InlineData("explore", "--tasks", "xl:hcall")]
    [InlineData("explore", "--tasks", "xl:hcall:7:10", "--iterations", "1")]
    [InlineData("explore", "--cpus", "0")]
    [InlineData("explore", "--iterations", "-5")]
    [InlineData("explore", "--time-limit", "soon")]
    [InlineData("explore", "--time-limit", "0")]
    [InlineData("explore", "--cpus", "two")]
    [InlineData("explore", "--variant", "nosuch")]
    [InlineData("explore", "--format", "xml")]
    [InlineData("replay")]
    [InlineData("replay", "--token", "xh1.garbage")]
    [InlineData("replay", "--token", "xh1.ours.none.std~2~1~20000.AAAA.00000000")]
    [InlineData("replay", "--trace-file", "/nonexistent/bug-0001.trace.json")]
    [InlineData("minimize", "--token", "not-a-token")]
    public void BadOptionsOrTokens_AreUsageErrors(params string[] args)
    {
        var (code, output, error) = Cli(args);
        Assert.Equal(Program.ExitUsage, code);
        Assert.False(string.IsNullOrWhiteSpace(output + error));
    }
}
