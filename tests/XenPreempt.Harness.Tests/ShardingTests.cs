// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using XenPreempt.Harness.Exploration;
using XenPreempt.Machine;
using Xunit;

namespace XenPreempt.Harness.Tests;

/// <summary>
/// Issue 16: explore --shard i/n splits the schedule space so that the shards are disjoint and together
/// exactly the unsharded run (seen schedule by schedule through <see cref="ExploreOptions.OnSchedule"/>),
/// and xen-harness merge joins their reports into the unsharded run's report, byte for byte.
/// </summary>
public class ShardingTests
{
    // A schedule as the tests identify it: the cell, its index in the cell, and its choice list's hash
    // (the schedule itself: shard and whole must not only use the same indexes but run the same choices).
    private readonly record struct Schedule(int Cell, long Index, ulong Choices);

    private static readonly string[] Strategies = { "dfs", "pct", "random" };

    // ---- the toy guest -------------------------------------------------------------------------

    /// <summary>The toy's rows: thread count × steps per thread (each row is a "variant × config" of the toy run).</summary>
    private static readonly (int Threads, int Steps)[] ToyRows = { (2, 3), (3, 2), (2, 4) };

    /// <summary>
    /// Explores the toy rows × strategies with the product's cell loop and shard rule, as
    /// <see cref="Explorer.Run"/> does for the port. The toy's "invariants" are facts about the
    /// interleaving, so that cells have first violations at various schedules to compare.
    /// </summary>
    private static (List<Schedule> Ran, Dictionary<(int Cell, string Invariant), long> FirstAt) RunToy(ShardSpec shard, long budget)
    {
        var ran = new List<Schedule>();
        var firstAt = new Dictionary<(int, string), long>();
        int ordinal = 0;
        for (int row = 0; row < ToyRows.Length; row++)
        {
            var (threads, steps) = ToyRows[row];
            for (int s = 0; s < Strategies.Length; s++, ordinal++)
            {
                string strategy = Strategies[s];
                IStrategy Create(ExplorationLevel level) => strategy switch
                {
                    "dfs" => new DfsStrategy(level.Bound),
                    "pct" => new PctStrategy(7, 2),
                    _ => new RandomStrategy(7, 0),
                };
                var share = shard.ShareOf(row, s, ShardSpec.IsStrided(Create(new ExplorationLevel(0, 2)) is ISeekableStrategy, stopOnFirstBug: false));
                if (share is null)
                    continue;
                var plan = new CellPlan($"toy{threads}x{steps}/{strategy}", ordinal, strategy, budget, 1800, false, 3600) { Share = share.Value, Shard = shard };
                var result = CellLoop.Run(plan, CellLoop.Levels(strategy, 0, 2), Create,
                    _ => oracle => RunToySchedule(threads, steps, oracle),
                    onSchedule: r => ran.Add(new Schedule(r.Cell, r.Schedule, r.ChoicesHash)));
                foreach (var v in result.Violations)
                    firstAt[(ordinal, v.Violation.Invariant)] = v.Schedule;
            }
        }
        return (ran, firstAt);
    }

    private static (ExecutionResult, ReplayToken) RunToySchedule(int threads, int steps, IChoiceOracle oracle)
    {
        var guest = new ToyGuest(steps);
        var recorder = new RecordingOracle(oracle);
        var machine = new Machine.Machine(new MachineConfig { Cpus = threads, TickNs = 1_000_000_000 }, recorder);
        var run = machine.Run(guest);
        var violations = new List<Violation>();
        if (guest.Order.Count > 1 && guest.Order[1] != guest.Order[0])
            violations.Add(new Violation("toy-switch-at-once", "the second step is another thread's", 2, 0));
        if (guest.Order.Count > 0 && guest.Order[^1] == 0)
            violations.Add(new Violation("toy-t0-last", "thread 0 takes the last step", guest.Order.Count, 0));
        return (new ExecutionResult(run, violations, 0, machine.Trace.Hash, machine, recorder.Log),
            new ReplayToken("toy", "toy", $"{threads}x{steps}", recorder.Log.Select(c => c.Index).ToArray()));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void ToyGuest_ShardsAreDisjoint_AndTogetherExactlyTheWholeRun(int n)
    {
        const long budget = 25;
        var (whole, wholeFirst) = RunToy(ShardSpec.Whole, budget);
        var shards = Enumerable.Range(1, n).Select(i => RunToy(new ShardSpec(i, n), budget)).ToArray();

        AssertPartition(whole, shards.Select(s => s.Ran).ToArray());
        // The first violation of every invariant in every cell is the smallest index any shard found it at.
        var merged = shards.SelectMany(s => s.FirstAt).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Min(p => p.Value));
        Assert.NotEmpty(wholeFirst);
        Assert.Equal(wholeFirst.OrderBy(p => p.Key).ToArray(), merged.OrderBy(p => p.Key).ToArray());
    }

    // ---- one port variant ----------------------------------------------------------------------

    private static ExploreOptions PortRun(ShardSpec shard, List<Schedule> ran) => new()
    {
        Variants = new[] { "4624a14f4daa", "ours" },
        Configs = new[] { KernelConfigs.Find("dynamic-none")!, KernelConfigs.Find("dynamic-full")! },
        Strategies = Strategies,
        Iterations = 12,
        TimeLimitSeconds = 1800, // a hang guard only
        Shard = shard,
        OnSchedule = r => ran.Add(new Schedule(r.Cell, r.Schedule, r.ChoicesHash)),
    };

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void PortVariant_ShardsAreDisjoint_TogetherTheWholeRun_AndMergeToItsReportByteForByte(int n)
    {
        var whole = new List<Schedule>();
        var wholeOptions = PortRun(ShardSpec.Whole, whole);
        string wholeReport = ExploreReport.FromCells(wholeOptions, Explorer.Run(wholeOptions).ToList()).ToJson();

        var ran = new List<Schedule>[n];
        var reports = new List<(string, ExploreReport)>();
        for (int i = 1; i <= n; i++)
        {
            ran[i - 1] = new List<Schedule>();
            var o = PortRun(new ShardSpec(i, n), ran[i - 1]);
            // Through the JSON text, as merge reads the shards' files.
            reports.Add(($"shard{i}", ExploreReport.Parse(ExploreReport.FromCells(o, Explorer.Run(o).ToList()).ToJson())));
        }

        AssertPartition(whole, ran);
        Assert.Contains("\"failed\": ", wholeReport);
        Assert.DoesNotContain("\"failed\": 0,", wholeReport); // the run has violations to merge
        Assert.Equal(wholeReport, ReportMerge.Merge(reports).ToJson());
        // Merged in another order: the same bytes.
        Assert.Equal(wholeReport, ReportMerge.Merge(reports.AsEnumerable().Reverse().ToArray()).ToJson());
    }

    /// <summary>
    /// Every schedule of the whole run is run by exactly one shard, with the same index and the same
    /// choices, and the shards run nothing else; every shard does some of the work, and the random
    /// cells really are split (each shard runs part of each).
    /// </summary>
    private static void AssertPartition(IReadOnlyList<Schedule> whole, IReadOnlyList<List<Schedule>> shards)
    {
        Assert.Equal(whole.Count, whole.Distinct().Count());
        var all = shards.SelectMany(s => s).ToList();
        var keys = all.Select(s => (s.Cell, s.Index)).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count()); // ∩ = ∅: no (cell, schedule) twice
        Assert.Equal(whole.OrderBy(s => s.Cell).ThenBy(s => s.Index), all.OrderBy(s => s.Cell).ThenBy(s => s.Index)); // ∪ = whole
        Assert.All(shards, s => Assert.NotEmpty(s));
        int randomCell = Array.IndexOf(Strategies, "random");
        Assert.All(shards, s => Assert.Contains(s, x => x.Cell % Strategies.Length == randomCell));
    }

    [Fact]
    public void RandomStrategy_PreparesScheduleK_AsTheKthNext()
    {
        var sequential = new RandomStrategy(42);
        var seeking = new RandomStrategy(42);
        var choice = new Choice(ChoiceKind.WakeCpu, 1000, 0, 0, "test");
        var seq = Enumerable.Range(1, 9).Select(_ => { sequential.Next(); return sequential.Oracle.Choose(choice); }).ToArray();
        var seek = new[] { 9, 1, 5, 2, 8, 3, 7, 4, 6 }.Select(k => { seeking.PrepareSchedule(k); return (k, seeking.Oracle.Choose(choice)); }).OrderBy(p => p.k).Select(p => p.Item2).ToArray();
        Assert.Equal(seq, seek);
    }

    // ---- the command line ----------------------------------------------------------------------

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter { NewLine = "\n" };
        var e = new StringWriter { NewLine = "\n" };
        return (Program.Run(args, o, e), o.ToString(), e.ToString());
    }

    private static readonly string[] SmallRun = { "explore", "--variant", "4624a14f4daa", "ours", "--config", "dynamic-none", "--strategy", "dfs", "pct", "random", "--iterations", "8" };

    private static string[] With(string[] args, params string[] more) => args.Concat(more).ToArray();

    [Fact]
    public void Merge_OfTheShardsReportDirs_GivesTheWholeRunsReport_ExitCodeAndFindings()
    {
        var dir = Directory.CreateTempSubdirectory("xen-harness-shards-");
        try
        {
            string D(string name) => Path.Combine(dir.FullName, name);
            var (wholeCode, wholeOut, _) = Cli(With(SmallRun, "--report-dir", D("whole")));
            for (int i = 1; i <= 3; i++)
                Assert.Contains(Cli(With(SmallRun, "--shard", $"{i}/3", "--report-dir", D($"s{i}"))).Code, new[] { Program.ExitOk, Program.ExitViolation });
            var (code, output, error) = Cli("merge", D("s3"), D("s1"), Path.Combine(D("s2"), "report.json"), "--out", D("merged.json"), "--report-dir", D("merged"));

            Assert.True(code == wholeCode, error);
            Assert.Equal(Program.ExitViolation, code);
            Assert.Equal(File.ReadAllBytes(Path.Combine(D("whole"), "report.json")), File.ReadAllBytes(D("merged.json")));
            var bugs = Directory.GetFiles(D("whole"), "bug-*.trace.json").Select(Path.GetFileName).Order().ToArray();
            Assert.NotEmpty(bugs);
            Assert.Equal(bugs, Directory.GetFiles(D("merged"), "bug-*.trace.json").Select(Path.GetFileName).Order().ToArray());
            foreach (var bug in bugs)
                Assert.Equal(File.ReadAllText(Path.Combine(D("whole"), bug!)), File.ReadAllText(Path.Combine(D("merged"), bug!)));
            // The matrix: the same findings, tokens and tally (merge prints no rates: reports hold no wall-clock time).
            string Findings(string text) => string.Join('\n', text.Split('\n').Where(l => l.StartsWith("VIOLATION", StringComparison.Ordinal) || l.StartsWith("  token", StringComparison.Ordinal) || l.StartsWith("harness:", StringComparison.Ordinal))
                .Select(l => Regex.Replace(l, @" at \d+\.\d\d s", "")));
            Assert.Equal(Findings(wholeOut), Findings(output));
            Assert.DoesNotMatch(@"\d+\.\d\ds", output);

            // The history: merge writes the file the whole run writes, and judges the shards against it.
            Assert.Equal(Program.ExitOk, Cli(With(SmallRun, "--write-history", D("history.md"))).Code);
            Assert.Equal(Program.ExitOk, Cli("merge", D("s1"), D("s2"), D("s3"), "--write-history", D("merged-history.md")).Code);
            Assert.Equal(File.ReadAllText(D("history.md")), File.ReadAllText(D("merged-history.md")));
            var (checkCode, checkOut, _) = Cli("merge", D("s1"), D("s2"), D("s3"), "--check", D("history.md"));
            Assert.Equal(Program.ExitOk, checkCode);
            Assert.Contains("history matched history.md", checkOut);
            File.WriteAllText(D("history.md"), File.ReadAllText(D("history.md")).Replace("--iterations 8", "--iterations 9"));
            Assert.Equal(Program.ExitUsage, Cli("merge", D("s1"), D("s2"), D("s3"), "--check", D("history.md")).Code);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void CiSample_RunsEveryShardOnce_AndMergesThemAgainstTheHistory()
    {
        string root = GeneratedDocsTests.RepositoryRoot();
        string yml = File.ReadAllText(Path.Combine(root, "samples", "ci", "github-actions.yml"));
        int shards = int.Parse(Regex.Match(yml, @"\n  SHARDS: (\d+)\n").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var matrix = Regex.Match(yml, @"shard: \[([\d, ]+)\]").Groups[1].Value.Split(',').Select(x => int.Parse(x.Trim(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(shards > 1);
        Assert.Equal(Enumerable.Range(1, shards), matrix);
        Assert.Contains("--shard ${{ matrix.shard }}/$SHARDS --report-dir shard-${{ matrix.shard }}", yml);
        Assert.Contains("merge shards/shard-* --check docs/history.md", yml);
        Assert.Contains("needs: explore", yml);
        // The shards repeat the history's own options, taken from its options line as the sed in the sample does.
        var options = Regex.Match(File.ReadAllText(Path.Combine(root, "docs", "history.md")), "(?m)^options: `(.*)`$").Groups[1].Value;
        Assert.Equal(History.Parse(File.ReadAllText(Path.Combine(root, "docs", "history.md"))).Options, options);
        Assert.Contains(@"sed -n 's/^options: `\(.*\)`$/\1/p' docs/history.md", yml);
    }

    [Theory]
    [InlineData("0/2")]
    [InlineData("3/2")]
    [InlineData("a/b")]
    [InlineData("1/0")]
    [InlineData("1/2/3")]
    [InlineData("2")]
    [InlineData("-1/2")]
    public void BadShard_IsAUsageError(string shard)
    {
        var (code, output, error) = Cli(With(SmallRun, "--shard", shard));
        Assert.Equal(Program.ExitUsage, code);
        Assert.Contains("--shard", error);
        Assert.Contains("Usage:", output);
    }

    [Fact]
    public void Shard_WithCheckOrWriteHistory_IsAUsageError()
    {
        var (code, _, error) = Cli(With(SmallRun, "--shard", "1/2", "--check", "docs/history.md"));
        Assert.Equal(Program.ExitUsage, code);
        Assert.Contains("merged reports", error);
    }

    [Fact]
    public void Merge_RefusesMissingDuplicateOrForeignShards_AndWhatIsNotAReport()
    {
        var dir = Directory.CreateTempSubdirectory("xen-harness-shards-");
        try
        {
            string D(string name) => Path.Combine(dir.FullName, name);
            var tiny = new[] { "explore", "--variant", "ours", "--config", "dynamic-none", "--strategy", "dfs", "random", "--iterations", "2" };
            for (int i = 1; i <= 3; i++)
                Cli(With(tiny, "--shard", $"{i}/3", "--report-dir", D($"s{i}")));
            Cli(With(tiny, "--shard", "1/2", "--report-dir", D("half1")));
            Cli(With(tiny.Take(tiny.Length - 1).ToArray(), "3", "--shard", "2/3", "--report-dir", D("other2")));
            File.WriteAllText(D("not-a-report.json"), "{\"schema\": \"something else\"}");
            File.WriteAllText(D("future.json"), "{\"schema\": \"xen-harness-explore-report\", \"version\": 99}");
            File.WriteAllText(D("broken.json"), "{ not json");

            void Refused(string expected, params string[] reports)
            {
                var (code, output, error) = Cli(new[] { "merge" }.Concat(reports.Select(D)).ToArray());
                Assert.True(code == Program.ExitUsage, $"merge {string.Join(' ', reports)}: exit {code}: {error}");
                Assert.Contains(expected, error);
                Assert.Contains("Usage:", output);
            }
            Refused("shard 2/3 missing", "s1", "s3");
            Refused("shards 2/3, 3/3 missing", "s1");
            Refused("shard 1/3 is given twice", "s1", "s2", "s3", "s1");
            Refused("every report must come from the same --shard i/3", "s1", "s2", "s3", "half1");
            Refused("a report of a different run than", "s1", "other2", "s3");
            Refused("(iterations: 3 there, 2 in ", "s1", "other2", "s3");
            Refused("not an explore report", "s1", "not-a-report.json");
            Refused("this harness reads version 1", "future.json");
            Refused("not valid report JSON", "broken.json");
            Refused("neither a report file nor a directory", "s1", "nosuch");
            Refused("has no report.json", "s1", ".");
            Assert.Equal(Program.ExitUsage, Cli("merge").Code);
            // And all three, in any order, merge.
            Assert.Contains(Cli("merge", D("s2"), D("s3"), D("s1")).Code, new[] { Program.ExitOk, Program.ExitViolation });
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
