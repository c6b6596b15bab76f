// SPDX-License-Identifier: MIT
using System.IO;
using System.Linq;
using XenPreempt.Harness.Exploration;
using Xunit;

namespace XenPreempt.Harness.Tests;

/// <summary>Issue 13: a deterministic history, checked in and compared by the real explorer.</summary>
public class HistoryTests
{
    /// <summary>The CI budget: the real explorer, every variant under every default configuration, dfs and pct, fewer schedules.</summary>
    public const string CiIterations = "200";

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        return (Program.Run(args, o, e), o.ToString(), e.ToString());
    }

    [Fact]
    public void Explore_AtTheCiBudget_ReproducesTheCheckedInHistory()
    {
        // Regenerate after a change that moves the history (and say why in the commit):
        //   dotnet run -c Release --project src/XenPreempt.Harness -- explore --iterations 200 --write-history docs/history-ci.md
        string file = Path.Combine(GeneratedDocsTests.RepositoryRoot(), "docs", "history-ci.md");
        var (code, output, error) = Cli("explore", "--iterations", CiIterations, "--check", file);
        var closing = output.TrimEnd().Split('\n').Last();
        Assert.True(code == Program.ExitOk, $"exit {code}: {closing}\n{string.Join('\n', output.Split('\n').Where(l => l.StartsWith("history:")))}\n{error}" +
            "\nIf the change is intended: dotnet run -c Release --project src/XenPreempt.Harness -- explore --iterations 200 --write-history docs/history-ci.md");
        Assert.Contains("history matched", closing);
    }

    private static History Run(string variant, string config, long iterations) =>
        History.FromCells(Options(variant, config, iterations), Explorer.Run(Options(variant, config, iterations)).ToList());

    private static ExploreOptions Options(string variant, string config, long iterations) => new()
    {
        Variants = new[] { variant },
        Configs = new[] { KernelConfigs.Find(config)! },
        Strategies = new[] { "dfs", "pct" },
        Iterations = iterations,
    };

    [Fact]
    public void TheSameOptions_GiveTheSameHistory_AndItsFileReadsBack()
    {
        var a = Run("4624a14f4daa", "dynamic-none", 30);
        var b = Run("4624a14f4daa", "dynamic-none", 30);
        Assert.Equal(a.Markdown(), b.Markdown());
        Assert.NotEmpty(a.Findings);
        var parsed = History.Parse(a.Markdown());
        Assert.True(parsed.Compare(a).Matches);
        Assert.Equal(a.Options, parsed.Options);
        Assert.Equal(a.Findings.Select(f => (f.Cell, f.Invariant, f.FirstSchedule)), parsed.Findings.Select(f => (f.Cell, f.Invariant, f.FirstSchedule)));
    }

    [Fact]
    public void Compare_NamesAMissingFinding_AndANewOne()
    {
        var run = Run("4624a14f4daa", "dynamic-none", 30);
        var documented = History.Parse(run.Markdown().Replace("| hcall-latency #1 |", "| sched-context #7 |"));
        var diff = documented.Compare(run);
        Assert.False(diff.Matches);
        Assert.Contains(diff.Missing, f => f.Invariant == "sched-context" && f.FirstSchedule == 7);
        Assert.Contains(diff.New, f => f.Invariant == "hcall-latency");
    }

    [Fact]
    public void ExploreCheck_ExitsTwo_WhenTheHistoryDiffers_AndOne_ForAFileOfOtherOptions()
    {
        var dir = Directory.CreateTempSubdirectory("xen-harness-history-");
        try
        {
            string file = Path.Combine(dir.FullName, "history.md");
            var args = new[] { "explore", "--variant", "4624a14f4daa", "--config", "dynamic-none", "--iterations", "20" };
            var (written, _, _) = Cli(args.Append("--write-history").Append(file).ToArray());
            Assert.Equal(Program.ExitOk, written);
            var (same, output, _) = Cli(args.Append("--check").Append(file).ToArray());
            Assert.Equal(Program.ExitOk, same);
            Assert.Contains("history matched", output);

            File.WriteAllText(file, File.ReadAllText(file).Replace("hcall-latency #1 |", "- |"));
            var (differs, diffOutput, _) = Cli(args.Append("--check").Append(file).ToArray());
            Assert.Equal(Program.ExitViolation, differs);
            Assert.Contains("history: new:", diffOutput);
            Assert.Contains("history differs", diffOutput);

            // A cell the hang guard stops covered what the machine's speed allowed: the history is not judged.
            var (guarded, guardedOutput, _) = Cli(args.Append("--time-limit").Append("0.000001").Append("--check").Append(file).ToArray());
            Assert.Equal(Program.ExitInternal, guarded);
            Assert.Contains("history not judged", guardedOutput);

            var (other, _, error) = Cli(new[] { "explore", "--variant", "4624a14f4daa", "--config", "dynamic-none", "--iterations", "21", "--check", file });
            Assert.Equal(Program.ExitUsage, other);
            Assert.Contains("give the same options", error);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void AHistoryFileWithoutItsOptions_IsRefused()
    {
        var e = Assert.Throws<InvalidDataException>(() => History.Parse("| variant | config | dfs |\n|---|---|---|\n| ours | none | - |\n"));
        Assert.Contains("options", e.Message);
    }
}
