// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using Spectre.Console;
using XenPreempt.Harness.Exploration;
using XenPreempt.Harness.UserWorkloads;
using XenPreempt.Machine;

namespace XenPreempt.Harness;

/// <summary>The explore, replay, minimize and selftest commands.</summary>
public static partial class Program
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static Command ExploreCommand(TextWriter stdout, TextWriter stderr)
    {
        var variants = OneOf(new Option<string[]>("--variant") { Description = "Variant(s) to explore (default: all); ours~<mutant> for a seeded mutant of our fix, <variant>+fixes for a variant after the analyzers' code fixes (names: 'list').", AllowMultipleArgumentsPerToken = true },
            () => VariantNames().Concat(Mutants.All.Select(m => m.Variant)).Concat(VariantNames().Select(v => v + PortBuilder.FixesSuffix)).ToArray(), "variant");
        var configs = OneOf(new Option<string[]>("--config") { Description = "Configuration(s) (default: every model, static-call flavour).", AllowMultipleArgumentsPerToken = true },
            KernelConfigs.All.Select(c => c.Name).ToArray());
        var strategies = OneOf(new Option<string[]>("--strategy") { Description = "dfs, pct, random, or portfolio (= dfs and pct; the default).", AllowMultipleArgumentsPerToken = true },
            new[] { "dfs", "pct", "random", "portfolio" });
        var assembly = AssemblyOption();
        var workload = OneOfUnlessAssembly(new Option<string>("--workload") { Description = "std (default) or a scenario's workload; with --assembly, one of yours.", DefaultValueFactory = _ => Workloads.Standard.Name }, Workloads.Names.ToArray(), assembly);
        var tasks = new Option<string?>("--tasks") { Description = "Replace the workload's tasks: comm:kind:cpu:arg,… (kinds: " + string.Join(", ", TaskKinds) + ").", HelpName = "comm:kind:cpu:arg,…" };
        Check(tasks, v => v is not null && !TaskList.IsMatch(v)
            ? $"--tasks must be comm:kind:cpu:arg[,…] with kind {string.Join(", ", TaskKinds)} and whole-number cpu and arg (got '{v}')" : null);
        var cpus = IntOption("--cpus", $"vCPUs (default {DefaultCpus}).", DefaultCpus, 1, 64);
        var bound = IntOption("--preemption-bound", "DFS preemption bound (default 2).", 2, 0, int.MaxValue);
        var injections = IntOption("--max-injections", "Device events and breakpoints the oracle may inject, each, and faults in all (default 1).", 1, 0, int.MaxValue);
        var depth = IntOption("--pct-depth", "PCT depth d (default 3).", 3, 1, 100);
        var iterations = LongOption("--iterations", $"Schedules per cell and strategy: the budget (default {DefaultIterations.ToString(Inv)}; the same options give the same matrix on any machine).", DefaultIterations, 1);
        var seed = SeedOption("Seed for pct and random (default 1).", 1UL);
        var maxSteps = LongOption("--max-steps", "Steps per schedule at most (default 20000).", 20_000, 1);
        var timeLimit = SecondsOption("--time-limit", $"Wall-clock seconds per cell at most: a hang guard, not a budget (default {ExploreOptions.DefaultHangGuardSeconds.ToString(Inv)}). A cell it stops is marked 'time' and its row depends on the machine's speed.", ExploreOptions.DefaultHangGuardSeconds);
        var stop = new Option<bool>("--stop-on-first-bug") { Description = "Stop a cell at its first violation." };
        var reportDir = new Option<DirectoryInfo?>("--report-dir") { Description = "Write report.json and one bug-NNNN.trace.json per violation here (created if missing; nothing is written elsewhere).", HelpName = "dir" };
        var format = OneOf(new Option<string>("--format") { Description = "text (default) or json.", DefaultValueFactory = _ => "text" }, new[] { "text", "json" });
        var faults = FaultsOption();
        var check = new Option<FileInfo?>("--check") { Description = "Compare the run with a history file (docs/history.md): exit 0 if every documented finding is found and nothing else, 2 if not.", HelpName = "file" };
        var writeHistory = new Option<FileInfo?>("--write-history") { Description = "Write the run's history file (what --check compares with), exit 0.", HelpName = "file" };
        var shard = ShardOption();

        var cmd = new Command("explore", ExploreDescription);
        foreach (var o in new Option[] { assembly, variants, configs, strategies, workload, tasks, cpus, bound, injections, depth, iterations, seed, maxSteps, timeLimit, stop, reportDir, format, faults, check, writeHistory, shard })
            cmd.Options.Add(o);
        cmd.Validators.Add(r =>
        {
            if (r.GetValue(check) is not null && r.GetValue(writeHistory) is not null)
                r.AddError("give at most one of --check <file> and --write-history <file>");
        });
        cmd.Validators.Add(r =>
        {
            // A --shard that did not parse has its own error already (and asking for it would throw).
            ShardSpec? part;
            try { part = r.GetValue(shard); }
            catch (InvalidOperationException) { return; }
            if (part is { IsWhole: false } && (r.GetValue(check) is not null || r.GetValue(writeHistory) is not null))
                r.AddError("--shard runs part of the run: judge or write the history from the merged reports (xen-harness merge <dirs…> --check <file>)");
        });
        // The tasks must fit the machine: found at parse time, so the usage is shown with the message.
        cmd.Validators.Add(r =>
        {
            // An option not given has no result yet while the command is validated: take its default.
            // A value that did not parse has its own error already (and asking for it would throw).
            int n;
            try { n = r.GetResult(cpus) is null ? DefaultCpus : r.GetValue(cpus); }
            catch (InvalidOperationException) { return; }
            if (r.GetValue(tasks) is string t && TaskList.IsMatch(t) && n is >= 1 and <= 64)
                foreach (var task in t.Split(','))
                {
                    var f = task.Split(':');
                    if (!int.TryParse(f[^2], NumberStyles.None, Inv, out int cpu) || cpu >= n)
                    {
                        r.AddError($"--tasks: task {string.Join(':', f[..^3])} is on CPU {f[^2]}, but --cpus {n} has CPUs 0 to {n - 1}");
                        return;
                    }
                }
        });
        cmd.SetAction(pr =>
        {
            if (pr.GetValue(reportDir) is DirectoryInfo dir && !TryCreateReportDir(dir, out string problem))
                return UsageError(pr, stderr, problem);
            if (!TryOpenAssembly(pr.GetValue(assembly), out var user, out string userProblem))
                return UsageError(pr, stderr, userProblem);
            Scenario? userWorkload = null;
            if (user is not null)
            {
                userWorkload = PickUserWorkload(user, pr.GetResult(workload) is { Implicit: false } ? pr.GetValue(workload) : null, out userProblem);
                if (userWorkload is null)
                    return UsageError(pr, stderr, userProblem);
                if (pr.GetValue(tasks) is not null)
                    return UsageError(pr, stderr, "--tasks: a workload of yours says its own tasks (WorkloadBuilder); --tasks replaces the port's workloads' only");
                if (pr.GetValue(variants)?.FirstOrDefault(v => !UserWorkloadCatalog.AcceptsVariant(v)) is string mutant)
                    return UsageError(pr, stderr, $"--variant: '{mutant}' rebuilds the port; with --assembly give the port's own variants (default: ours)");
                if (pr.GetResult(cpus) is { Implicit: false })
                    return UsageError(pr, stderr, $"--cpus: a workload of yours says its own vCPUs ({userWorkload.Machine.Cpus}, WorkloadBuilder.with_cpus)");
            }
            var strategyNames = (pr.GetValue(strategies) is { Length: > 0 } s ? s : new[] { "portfolio" })
                .SelectMany(x => x == "portfolio" ? new[] { "dfs", "pct" } : new[] { x }).Distinct().ToArray();
            var options = new ExploreOptions
            {
                Variants = pr.GetValue(variants) is { Length: > 0 } v ? v : user is not null ? new[] { "ours" } : VariantNames(),
                // By default every model once: the static-key flavour behaves as the static-call one
                // (the scenario tests check that); name it with --config to include it.
                Configs = (pr.GetValue(configs) is { Length: > 0 } c ? c : KernelConfigs.All.Where(k => !k.Name.EndsWith("-key", StringComparison.Ordinal)).Select(k => k.Name).ToArray()).Select(n => KernelConfigs.Find(n)!).ToArray(),
                Strategies = strategyNames,
                Workload = userWorkload?.Name ?? pr.GetValue(workload)!,
                Tasks = pr.GetValue(tasks),
                Cpus = userWorkload?.Machine.Cpus ?? pr.GetValue(cpus),
                PreemptionBound = pr.GetValue(bound),
                MaxInjections = pr.GetValue(injections),
                PctDepth = pr.GetValue(depth),
                Iterations = pr.GetValue(iterations),
                Seed = pr.GetValue(seed),
                MaxSteps = pr.GetValue(maxSteps),
                TimeLimitSeconds = pr.GetValue(timeLimit),
                StopOnFirstBug = pr.GetValue(stop),
                Faults = ParseFaults(pr.GetValue(faults)),
                Shard = pr.GetValue(shard) ?? ShardSpec.Whole,
            };
            // The file is read and its options compared before any schedule runs: a wrong file is the user's input.
            if (!TryReadHistory(pr.GetValue(check), options, out var documented, out string wrong))
                return UsageError(pr, stderr, wrong);
            return RunExplore(pr, stdout, stderr, options, pr.GetValue(format)!, pr.GetValue(reportDir),
                new HistoryMode(pr.GetValue(check), documented, pr.GetValue(writeHistory)));
        });
        return cmd;
    }

    /// <summary>The history file --check names, if any, read and checked to be of a run with these options.</summary>
    private static bool TryReadHistory(FileInfo? file, ExploreOptions options, out History? documented, out string problem)
    {
        documented = null;
        problem = "";
        if (file is null)
            return true;
        try
        {
            documented = History.Parse(File.ReadAllText(file.FullName));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            problem = $"--check: cannot read '{file.FullName}': {OneLine(e.Message)}";
            return false;
        }
        string run = History.CanonicalOptions(options);
        if (documented.Options != run)
        {
            problem = $"--check: '{file.FullName}' was written with `{documented.Options}`, this run uses `{run}`: give the same options";
            return false;
        }
        return true;
    }

    /// <summary>The default schedule budget per cell and strategy: the default matrix takes about a minute in Release on an idle 2-core machine.</summary>
    public const long DefaultIterations = 2_500;

    /// <summary>What explore does with the history: compare with a documented one, write one, or neither.</summary>
    private sealed record HistoryMode(FileInfo? CheckFile, History? Documented, FileInfo? WriteFile);

    private const int DefaultCpus = 2;

    private static readonly string[] TaskKinds = { "hcall", "hog", "kworker", "netwq", "spin" };

    private static readonly System.Text.RegularExpressions.Regex TaskList = new(
        $@"^[^,:]+(:[^,:]+)*:({string.Join('|', TaskKinds)}):\d+:\d+(,[^,:]+(:[^,:]+)*:({string.Join('|', TaskKinds)}):\d+:\d+)*$");

    /// <summary>
    /// Makes sure the report directory can be written before exploring (a file in its place, or a
    /// place that cannot be created, is the user's input, found before any work is done).
    /// </summary>
    private static bool TryCreateReportDir(DirectoryInfo dir, out string problem)
    {
        problem = "";
        if (File.Exists(dir.FullName))
        {
            problem = $"--report-dir: '{dir.FullName}' is a file, not a directory";
            return false;
        }
        try
        {
            dir.Create();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            problem = $"--report-dir: cannot create '{dir.FullName}': {e.Message}";
            return false;
        }
    }

    /// <summary>
    /// Adds a range check. A value that did not even parse already has its own error, and asking
    /// for it would throw, so the check only looks at values that parsed.
    /// </summary>
    internal static Option<T> Check<T>(Option<T> o, Func<T, string?> problem)
    {
        o.Validators.Add(r =>
        {
            T value;
            try { value = r.GetValueOrDefault<T>(); }
            catch (InvalidOperationException) { return; }
            if (problem(value) is string message)
                r.AddError(message);
        });
        return o;
    }

    private static int RunExplore(System.CommandLine.ParseResult pr, TextWriter o, TextWriter err, ExploreOptions options, string format, DirectoryInfo? reportDir, HistoryMode history)
    {
        // Live progress goes to stderr as a plain line every few seconds (redirected output and CI
        // read it as it is); the report itself goes to stdout.
        var cells = new List<CellResult>();
        try
        {
            if (LiveProgress(err))
            {
                // A terminal: a live status line (Spectre.Console), refreshed several times a second.
                // On stderr: stdout carries the report and may well be redirected to a file.
                var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
                console.Status().Start("exploring…", status =>
                {
                    foreach (var cell in Explorer.Run(options with { ProgressIntervalSeconds = 0.25 }, line => status.Status = Markup.Escape(line)))
                    {
                        cells.Add(cell);
                        status.Status = Markup.Escape($"{cells.Count} cell(s) done; last: {cell.Variant}/{cell.Config}/{cell.Strategy} {cell.Schedules:N0} schedules");
                    }
                });
            }
            else
            {
                // Redirected or CI: a plain line every few seconds.
                foreach (var cell in Explorer.Run(options, line => err.WriteLine(line)))
                    cells.Add(cell);
            }
        }
        catch (ArgumentException e)
        {
            // A workload the kernel refuses (a task kind it does not know, say): the user's input.
            return UsageError(pr, err, $"explore: {e.Message}");
        }
        catch (ScheduleFailedException e)
        {
            return InternalError(o, err, e);
        }
        if (format == "json")
            o.WriteLine(JsonSerializer.Serialize(cells.Select(ToJson), new JsonSerializerOptions { WriteIndented = true }));
        else
            PrintMatrix(o, cells);
        if (!options.Shard.IsWhole)
            o.WriteLine(ShardNote(options, cells));
        if (reportDir is not null)
            WriteReport(reportDir, ExploreReport.FromCells(options, cells));
        return Conclude(o, err, options, cells, history);
    }

    /// <summary>The tally, the history's verdict if one was asked for, and the exit code: the same for a run and for a merge of its shards.</summary>
    private static int Conclude(TextWriter o, TextWriter err, ExploreOptions options, IReadOnlyList<CellResult> cells, HistoryMode history)
    {
        int failed = cells.Count(c => c.Skipped is null && c.Violations.Count > 0);
        int passed = cells.Count(c => c.Skipped is null && c.Violations.Count == 0);
        string tally = $"harness: {passed} passed, {failed} failed";
        var timedOut = cells.Where(c => c.Stop == CellStop.TimeLimit).ToArray();
        if (timedOut.Length > 0)
            err.WriteLine($"xen-harness: {timedOut.Length} cell(s) stopped by --time-limit before their {options.Iterations.ToString("N0", Inv)} schedules " +
                $"(first: {timedOut[0].Variant}/{timedOut[0].Config}/{timedOut[0].Strategy} after {timedOut[0].Schedules.ToString("N0", Inv)}): what they found depends on the machine's speed");
        if (history.CheckFile is null && history.WriteFile is null)
        {
            o.WriteLine(tally);
            return failed > 0 ? ExitViolation : ExitOk;
        }
        // A history is only worth comparing or recording if every cell spent its whole budget.
        if (timedOut.Length > 0)
        {
            o.WriteLine($"{tally}; history not judged: {timedOut.Length} cell(s) stopped by --time-limit");
            return ExitInternal;
        }
        var actual = History.FromCells(options, cells);
        if (history.WriteFile is FileInfo target)
        {
            var reasons = cells.Where(c => c.Skipped is not null).GroupBy(c => c.Variant).ToDictionary(g => g.Key, g => g.First().Skipped!);
            File.WriteAllText(target.FullName, actual.Markdown(reasons));
            o.WriteLine($"{tally}; history written to {target.Name} ({actual.Findings.Count().ToString(Inv)} findings)");
            return ExitOk;
        }
        var diff = history.Documented!.Compare(actual);
        o.WriteLine();
        foreach (var line in diff.Lines())
            o.WriteLine($"history: {line}");
        if (diff.Matches)
        {
            o.WriteLine($"{tally}; history matched {history.CheckFile!.Name} ({history.Documented.Findings.Count().ToString(Inv)} documented findings)");
            return ExitOk;
        }
        o.WriteLine($"{tally}; history differs from {history.CheckFile!.Name}: {diff.Missing.Count + diff.RowsMissing.Count} missing, {diff.New.Count + diff.RowsNew.Count} new, {diff.ApplicabilityChanged.Count} changed");
        return ExitViolation;
    }

    /// <summary>A schedule failed inside the simulator or the port: say where, how to replay it, and what ran up to it.</summary>
    private static int InternalError(TextWriter o, TextWriter err, ScheduleFailedException e)
    {
        err.WriteLine($"xen-harness: {e.Message}");
        if (Environment.GetEnvironmentVariable("XEN_HARNESS_DEBUG") == "1" && e.InnerException is not null) err.WriteLine(e.InnerException);
        o.WriteLine($"INTERNAL ERROR {e.Message}");
        o.WriteLine($"  token   {e.Token.Encode()}");
        o.WriteLine($"  replay  {ReplayCommandLine(e.Token)}");
        o.WriteLine("  trace so far:");
        TraceTable.Write(new IndentedWriter(o), e.Result.Machine.Trace.Entries, Array.Empty<long>(), 40);
        return ExitInternal;
    }

    private static bool LiveProgress(TextWriter err) =>
        ReferenceEquals(err, Console.Error) && !Console.IsErrorRedirected
        && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static object ToJson(CellResult c) => new
    {
        variant = c.Variant, config = c.Config, strategy = c.Strategy, bound = c.Bound, schedules = c.Schedules,
        schedulesPerSecond = Math.Round(c.SchedulesPerSecond), stepsPerSecond = Math.Round(c.StepsPerSecond),
        distinctTraces = c.DistinctTraces, exhaustive = c.Exhaustive, stop = c.Stop.ToString().ToLowerInvariant(), skipped = c.Skipped,
        maxHypercallLatencyMs = c.MaxHypercallLatencyNs / 1e6,
        violations = c.Violations.Select(v => new { invariant = v.Violation.Invariant, message = v.Violation.Message, schedule = v.Schedule, seconds = v.Seconds, token = v.Token.Encode() }),
    };

    /// <param name="timed">False for a merge of reports: they hold no wall-clock time, so the rates and times print as '-'.</param>
    private static void PrintMatrix(TextWriter o, IReadOnlyList<CellResult> cells, bool timed = true)
    {
        var header = new[] { "variant", "config", "strategy", "schedules", "sched/s", "steps/s", "distinct", "exhaustive", "violations", "first at", "max latency" };
        var rows = cells.Select(c => c.Skipped is not null
            ? new[] { c.Variant, c.Config, c.Strategy, "-", "-", "-", "-", "-", "n/a", "-", "-" }
            : new[]
            {
                c.Variant, c.Config, $"{c.Strategy}({c.Bound})", c.Schedules.ToString("N0", Inv), timed ? c.SchedulesPerSecond.ToString("N0", Inv) : "-",
                timed ? c.StepsPerSecond.ToString("N0", Inv) : "-", c.DistinctTraces.ToString("N0", Inv), c.Stop == CellStop.TimeLimit ? "time" : c.Exhaustive ? "yes" : "no",
                c.Violations.Count == 0 ? "-" : string.Join(",", c.Violations.Select(v => v.Violation.Invariant)),
                c.Violations.Count == 0 ? "-" : $"#{c.Violations[0].Schedule.ToString(Inv)}{(timed ? $" {c.Violations[0].Seconds.ToString("F2", Inv)}s" : "")}",
                $"{(c.MaxHypercallLatencyNs / 1e6).ToString("F1", Inv)} ms",
            }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        o.WriteLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var r in rows)
            o.WriteLine(string.Join("  ", r.Select((x, i) => x.PadRight(widths[i]))).TrimEnd());
        foreach (var c in cells.Where(c => c.Violations.Count > 0))
            foreach (var v in c.Violations)
            {
                o.WriteLine();
                o.WriteLine($"VIOLATION [{v.Violation.Invariant}] {c.Variant} / {c.Config} / {c.Strategy}({c.Bound}), schedule #{v.Schedule.ToString(Inv)}{(timed ? $" at {v.Seconds.ToString("F2", Inv)} s" : "")}, step {v.Violation.Step.ToString(Inv)}");
                o.WriteLine($"  {v.Violation.Message}");
                // The trace around the violating step, and its hash (what a replay in any process gives), from a replay of the token.
                var (_, _, replay) = Explorer.Replay(v.Token);
                o.WriteLine($"  token   {v.Token.Encode()}");
                o.WriteLine($"  replay  {ReplayCommandLine(v.Token)}");
                o.WriteLine($"  trace hash {replay.TraceHash:x16}");
                var marks = replay.Violations.Where(x => x.Invariant == v.Violation.Invariant).Select(x => x.Step).Take(1).ToHashSet();
                TraceTable.Write(new IndentedWriter(o), replay.Machine.Trace.Entries, marks, 16);
            }
        o.WriteLine();
        foreach (var c in cells.Where(c => c.Skipped is not null).Select(c => (c.Variant, c.Skipped)).Distinct())
            o.WriteLine($"n/a: {c.Variant}: {c.Skipped}");
    }

    /// <summary>
    /// Writes report.json (<see cref="ExploreReport"/>: deterministic, what merge reads) and one
    /// bug-NNNN.trace.json per violation (what replay --trace-file reads).
    /// </summary>
    private static void WriteReport(DirectoryInfo dir, ExploreReport report)
    {
        dir.Create();
        File.WriteAllText(Path.Combine(dir.FullName, "report.json"), report.ToJson());
        int n = 0;
        foreach (var c in report.Cells)
            foreach (var v in c.Violations)
                File.WriteAllText(Path.Combine(dir.FullName, $"bug-{++n:D4}.trace.json"), JsonSerializer.Serialize(new
                {
                    version = 1, token = v.Token, variant = c.Variant, config = c.Config, strategy = c.Strategy,
                    invariant = v.Invariant, step = v.Step, message = v.Message,
                    choices = ReplayToken.TryDecode(v.Token, out var t, out _) ? t!.Choices : Array.Empty<int>(),
                }, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>What a shard ran of the whole: its whole cells, and its share of the strided ones.</summary>
    private static string ShardNote(ExploreOptions o, IReadOnlyList<CellResult> cells)
    {
        int total = o.Variants.Count * o.Configs.Count * o.Strategies.Count;
        int whole = cells.Count(c => !c.Partial), strided = cells.Count(c => c.Partial);
        string note = $"shard {o.Shard}: {whole.ToString(Inv)} of {total.ToString(Inv)} cells whole";
        if (strided > 0)
            note += $", and schedules k ≡ {(o.Shard.Index % o.Shard.Count).ToString(Inv)} (mod {o.Shard.Count.ToString(Inv)}) of {strided.ToString(Inv)} random cell(s)";
        return note + "; join the shards' reports with xen-harness merge";
    }

    private const string ExploreDescription = "Explore schedules of variants under configurations; print the matrix, each violation with its replay token. " +
        "Exit 0: no violation (with --check: the history matched); 1: usage; 2: a violation (with --check: the history differs); 3: internal error, or a cell stopped by --time-limit under --check/--write-history.";
    private const string ReplayDescription = "Re-run one schedule exactly and print its trace table and verdict.";
    private const string MinimizeDescription = "Shrink a failing schedule's choice list while it still breaks the same invariant.";
    private const string SelftestDescription = "Check the harness itself: determinism, replay, and DFS and PCT schedules against brute force.";

    private static Command ReplayCommand(TextWriter stdout, TextWriter stderr)
    {
        var token = new Option<string?>("--token") { Description = "A replay token (xh1.…) from explore.", HelpName = "xh1.…" };
        var file = new Option<FileInfo?>("--trace-file") { Description = "A bug-NNNN.trace.json written by explore --report-dir.", HelpName = "file" };
        var verbose = new Option<bool>("--verbose") { Description = "Print every trace row." };
        var assembly = AssemblyOption();
        var cmd = new Command("replay", ReplayDescription) { token, file, verbose, assembly };
        cmd.Validators.Add(r => ExactlyOneSource(r, token, file));
        cmd.SetAction(pr =>
        {
            if (!TryReadToken(pr.GetValue(token), pr.GetValue(file), out var t, out string problem))
                return UsageError(pr, stderr, problem);
            if (!TryOpenAssembly(pr.GetValue(assembly), out _, out problem))
                return UsageError(pr, stderr, problem);
            return RunReplay(pr, stdout, stderr, t!, TokenSource(pr, file), pr.GetValue(verbose) ? 0 : 40);
        });
        return cmd;
    }

    private static void ExactlyOneSource(System.CommandLine.Parsing.CommandResult r, Option<string?> token, Option<FileInfo?> file)
    {
        if ((r.GetValue(token) is null) == (r.GetValue(file) is null))
            r.AddError("give exactly one of --token <xh1.…> and --trace-file <file>");
    }

    /// <summary>The token given, or read from a trace file; a problem is one line naming the option.</summary>
    private static bool TryReadToken(string? text, FileInfo? file, out ReplayToken? token, out string problem)
    {
        token = null;
        string option = file is null ? "--token" : "--trace-file";
        if (file is not null)
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(file.FullName));
                text = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String
                    ? t.GetString()
                    : throw new InvalidDataException("it has no \"token\" string (expected a bug-NNNN.trace.json written by explore --report-dir)");
            }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or InvalidDataException)
            {
                problem = $"--trace-file: cannot read '{file.FullName}': {OneLine(e.Message)}";
                return false;
            }
        }
        if (!ReplayToken.TryDecode(text ?? "", out token, out string error))
        {
            problem = $"{option}: {error}";
            return false;
        }
        problem = "";
        return true;
    }

    private static string OneLine(string s) => string.Join(' ', s.Split(new[] { '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries));

    // Which option the token came from: what a problem with it names.
    private static string TokenSource(System.CommandLine.ParseResult pr, Option<FileInfo?> file) => pr.GetValue(file) is null ? "--token" : "--trace-file";

    private static int RunReplay(System.CommandLine.ParseResult pr, TextWriter o, TextWriter err, ReplayToken token, string source, int rows)
    {
        (Scenario Workload, KernelConfig Config, ExecutionResult Result) r;
        try
        {
            r = Explorer.Replay(token);
        }
        catch (ArgumentException e)
        {
            return UsageError(pr, err, $"{source}: {e.Message}");
        }
        catch (ReplayDivergenceException e)
        {
            err.WriteLine($"xen-harness: {e.Message}");
            return ExitInternal;
        }
        var x = r.Result;
        var result = new ScenarioResult(r.Workload, token.Variant, r.Config, ScenarioRunner.Cmdline(r.Workload, token.Variant, r.Config),
            x.Run, x.Violations, x.MaxHypercallLatencyNs, x.TraceHash, x.Machine.Trace.Entries, x.Machine.Console, x.Choices) { Faults = Explorer.FaultsOf(token) };
        Print(o, result, rows);
        if (x.Run.Outcome == RunOutcome.InternalError)
            return ExitInternal;
        return x.Violations.Count > 0 ? ExitViolation : ExitOk;
    }

    private static Command MinimizeCommand(TextWriter stdout, TextWriter stderr)
    {
        var token = new Option<string?>("--token") { Description = "The failing schedule's replay token.", HelpName = "xh1.…" };
        var file = new Option<FileInfo?>("--trace-file") { Description = "Or its bug-NNNN.trace.json.", HelpName = "file" };
        var assembly = AssemblyOption();
        var cmd = new Command("minimize", MinimizeDescription) { token, file, assembly };
        cmd.Validators.Add(r => ExactlyOneSource(r, token, file));
        cmd.SetAction(pr =>
        {
            if (!TryReadToken(pr.GetValue(token), pr.GetValue(file), out var t, out string problem))
                return UsageError(pr, stderr, problem);
            if (!TryOpenAssembly(pr.GetValue(assembly), out _, out problem))
                return UsageError(pr, stderr, problem);
            try
            {
                var m = Minimizer.Minimize(t!);
                stdout.WriteLine($"minimized [{m.Invariant}]: {m.Original.Choices.Count.ToString(Inv)} -> {m.Minimal.Choices.Count.ToString(Inv)} choices, " +
                    $"{m.OriginalNonDefault.ToString(Inv)} -> {m.MinimalNonDefault.ToString(Inv)} non-default, {m.Attempts.ToString(Inv)} replays");
                stdout.WriteLine($"token   {m.Minimal.Encode()}");
                stdout.WriteLine($"replay  {ReplayCommandLine(m.Minimal)}");
                return ExitOk;
            }
            catch (ArgumentException e)
            {
                return UsageError(pr, stderr, $"{TokenSource(pr, file)}: {e.Message}");
            }
            catch (ScheduleFailedException e)
            {
                return InternalError(stdout, stderr, e);
            }
        });
        return cmd;
    }

    private static Command SelftestCommand(TextWriter stdout)
    {
        var cmd = new Command("selftest", SelftestDescription);
        cmd.SetAction(_ =>
        {
            var results = SelfTest.Run().ToList();
            foreach (var (name, ok, detail) in results)
                stdout.WriteLine($"selftest: {(ok ? "ok  " : "FAIL")} {name}: {detail}");
            int failed = results.Count(r => !r.Ok);
            stdout.WriteLine($"selftest: {results.Count - failed} passed, {failed} failed");
            return failed == 0 ? ExitOk : ExitInternal;
        });
        return cmd;
    }
}

/// <summary>Writes every line with a two-space indent (trace tables under a violation).</summary>
internal sealed class IndentedWriter(TextWriter inner) : TextWriter
{
    public override System.Text.Encoding Encoding => inner.Encoding;
    public override void WriteLine(string? value) => inner.WriteLine("  " + value);
    public override void Write(char value) => inner.Write(value);
}
