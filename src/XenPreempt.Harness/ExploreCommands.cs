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
using XenPreempt.Machine;

namespace XenPreempt.Harness;

/// <summary>The explore, replay, minimize and selftest commands.</summary>
public static partial class Program
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static Command ExploreCommand(TextWriter stdout, TextWriter stderr)
    {
        var variants = new Option<string[]>("--variant") { Description = "Variant(s) to explore (default: all); ours~<mutant> for a seeded mutant of our fix (see 'list').", AllowMultipleArgumentsPerToken = true };
        variants.AcceptOnlyFromAmong(VariantNames().Concat(Mutants.All.Select(m => m.Variant)).ToArray());
        var configs = new Option<string[]>("--config") { Description = "Configuration(s) (default: every model, static-call flavour).", AllowMultipleArgumentsPerToken = true };
        configs.AcceptOnlyFromAmong(KernelConfigs.All.Select(c => c.Name).ToArray());
        var strategies = new Option<string[]>("--strategy") { Description = "dfs, pct, random, or portfolio (= dfs and pct; the default).", AllowMultipleArgumentsPerToken = true };
        strategies.AcceptOnlyFromAmong("dfs", "pct", "random", "portfolio");
        var workload = new Option<string>("--workload") { Description = "std (default) or a scenario's workload.", DefaultValueFactory = _ => Workloads.Standard.Name };
        workload.AcceptOnlyFromAmong(Workloads.Names.ToArray());
        var tasks = new Option<string?>("--tasks") { Description = "Replace the workload's tasks: comm:kind:cpu:arg,… (kinds: hcall, hog, kworker, netwq)." };
        Check(tasks, v => v is not null && !System.Text.RegularExpressions.Regex.IsMatch(v, @"^([^,:]+(:[^,:]+)*:(hcall|hog|kworker|netwq):\d+:\d+)(,[^,:]+(:[^,:]+)*:(hcall|hog|kworker|netwq):\d+:\d+)*$")
            ? "--tasks must be comm:kind:cpu:arg[,…] with kind hcall, hog, kworker or netwq" : null);
        var cpus = Positive(new Option<int>("--cpus") { Description = "vCPUs (default 2).", DefaultValueFactory = _ => 2 }, 64);
        var bound = NonNegative(new Option<int>("--preemption-bound") { Description = "DFS preemption bound (default 2).", DefaultValueFactory = _ => 2 });
        var injections = NonNegative(new Option<int>("--max-injections") { Description = "Device events and breakpoints the oracle may inject, each (default 1).", DefaultValueFactory = _ => 1 });
        var depth = Positive(new Option<int>("--pct-depth") { Description = "PCT depth d (default 3).", DefaultValueFactory = _ => 3 }, 100);
        var iterations = new Option<long>("--iterations") { Description = "Schedules per cell at most (default 2500).", DefaultValueFactory = _ => 2500 };
        Check(iterations, v => v < 1 ? "--iterations must be at least 1" : null);
        var seed = new Option<ulong>("--seed") { Description = "Seed for pct and random (default 1).", DefaultValueFactory = _ => 1UL };
        var maxSteps = new Option<long>("--max-steps") { Description = "Steps per schedule at most (default 20000).", DefaultValueFactory = _ => 20_000 };
        Check(maxSteps, v => v < 1 ? "--max-steps must be at least 1" : null);
        var timeLimit = new Option<double>("--time-limit") { Description = "Seconds per cell at most (default: 0.55, so that the default matrix takes about a minute in a Release build).", DefaultValueFactory = _ => 0.55 };
        Check(timeLimit, v => !(v > 0) || double.IsInfinity(v) ? "--time-limit must be a positive number of seconds" : null);
        var stop = new Option<bool>("--stop-on-first-bug") { Description = "Stop a cell at its first violation." };
        var reportDir = new Option<DirectoryInfo?>("--report-dir") { Description = "Write report.json and one bug-NNNN.trace.json per violation here." };
        var format = new Option<string>("--format") { Description = "text (default) or json.", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");

        var cmd = new Command("explore", "Explore schedules of variants under configurations; print the matrix, each violation with its replay token.");
        foreach (var o in new Option[] { variants, configs, strategies, workload, tasks, cpus, bound, injections, depth, iterations, seed, maxSteps, timeLimit, stop, reportDir, format })
            cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            var strategyNames = (pr.GetValue(strategies) is { Length: > 0 } s ? s : new[] { "portfolio" })
                .SelectMany(x => x == "portfolio" ? new[] { "dfs", "pct" } : new[] { x }).Distinct().ToArray();
            var options = new ExploreOptions
            {
                Variants = pr.GetValue(variants) is { Length: > 0 } v ? v : VariantNames(),
                // By default every model once: the static-key flavour behaves as the static-call one
                // (the scenario tests check that); name it with --config to include it.
                Configs = (pr.GetValue(configs) is { Length: > 0 } c ? c : KernelConfigs.All.Where(k => !k.Name.EndsWith("-key", StringComparison.Ordinal)).Select(k => k.Name).ToArray()).Select(n => KernelConfigs.Find(n)!).ToArray(),
                Strategies = strategyNames,
                Workload = pr.GetValue(workload)!,
                Tasks = pr.GetValue(tasks),
                Cpus = pr.GetValue(cpus),
                PreemptionBound = pr.GetValue(bound),
                MaxInjections = pr.GetValue(injections),
                PctDepth = pr.GetValue(depth),
                Iterations = pr.GetValue(iterations),
                Seed = pr.GetValue(seed),
                MaxSteps = pr.GetValue(maxSteps),
                TimeLimitSeconds = pr.GetValue(timeLimit),
                StopOnFirstBug = pr.GetValue(stop),
            };
            return RunExplore(stdout, stderr, options, pr.GetValue(format)!, pr.GetValue(reportDir));
        });
        return cmd;
    }

    private static Option<int> Positive(Option<int> o, int max) => Check(o, v => v < 1 || v > max ? $"{o.Name} must be between 1 and {max}" : null);

    private static Option<int> NonNegative(Option<int> o) => Check(o, v => v < 0 ? $"{o.Name} must not be negative" : null);

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

    private static int RunExplore(TextWriter o, TextWriter err, ExploreOptions options, string format, DirectoryInfo? reportDir)
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
            // A workload the kernel refuses (a task on a CPU that does not exist, say): the user's input.
            err.WriteLine($"xen-harness: {e.Message}");
            return ExitUsage;
        }
        catch (Exception e) when (e is InvalidOperationException or ReplayDivergenceException)
        {
            err.WriteLine($"xen-harness: {e.Message}");
            return ExitInternal;
        }
        if (format == "json")
            o.WriteLine(JsonSerializer.Serialize(cells.Select(ToJson), new JsonSerializerOptions { WriteIndented = true }));
        else
            PrintMatrix(o, cells);
        if (reportDir is not null)
            WriteReport(reportDir, cells);
        int failed = cells.Count(c => c.Skipped is null && c.Violations.Count > 0);
        int passed = cells.Count(c => c.Skipped is null && c.Violations.Count == 0);
        o.WriteLine($"harness: {passed} passed, {failed} failed");
        return failed > 0 ? ExitViolation : ExitOk;
    }

    private static bool LiveProgress(TextWriter err) =>
        ReferenceEquals(err, Console.Error) && !Console.IsErrorRedirected
        && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static object ToJson(CellResult c) => new
    {
        variant = c.Variant, config = c.Config, strategy = c.Strategy, bound = c.Bound, schedules = c.Schedules,
        schedulesPerSecond = Math.Round(c.SchedulesPerSecond), stepsPerSecond = Math.Round(c.StepsPerSecond),
        distinctTraces = c.DistinctTraces, exhaustive = c.Exhaustive, skipped = c.Skipped,
        maxHypercallLatencyMs = c.MaxHypercallLatencyNs / 1e6,
        violations = c.Violations.Select(v => new { invariant = v.Violation.Invariant, message = v.Violation.Message, schedule = v.Schedule, seconds = v.Seconds, token = v.Token.Encode() }),
    };

    private static void PrintMatrix(TextWriter o, IReadOnlyList<CellResult> cells)
    {
        var header = new[] { "variant", "config", "strategy", "schedules", "sched/s", "steps/s", "distinct", "exhaustive", "violations", "first at", "max latency" };
        var rows = cells.Select(c => c.Skipped is not null
            ? new[] { c.Variant, c.Config, c.Strategy, "-", "-", "-", "-", "-", "n/a", "-", "-" }
            : new[]
            {
                c.Variant, c.Config, $"{c.Strategy}({c.Bound})", c.Schedules.ToString("N0", Inv), c.SchedulesPerSecond.ToString("N0", Inv),
                c.StepsPerSecond.ToString("N0", Inv), c.DistinctTraces.ToString("N0", Inv), c.Exhaustive ? "yes" : "no",
                c.Violations.Count == 0 ? "-" : string.Join(",", c.Violations.Select(v => v.Violation.Invariant)),
                c.Violations.Count == 0 ? "-" : $"#{c.Violations[0].Schedule.ToString(Inv)} {c.Violations[0].Seconds.ToString("F2", Inv)}s",
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
                o.WriteLine($"VIOLATION [{v.Violation.Invariant}] {c.Variant} / {c.Config} / {c.Strategy}({c.Bound}), schedule #{v.Schedule.ToString(Inv)} at {v.Seconds.ToString("F2", Inv)} s, step {v.Violation.Step.ToString(Inv)}");
                o.WriteLine($"  {v.Violation.Message}");
                o.WriteLine($"  token   {v.Token.Encode()}");
                o.WriteLine($"  replay  dotnet run --project src/XenPreempt.Harness -- replay --token {v.Token.Encode()}");
                // The trace around the violating step, from a replay of the token.
                var (_, _, replay) = Explorer.Replay(v.Token);
                var marks = replay.Violations.Where(x => x.Invariant == v.Violation.Invariant).Select(x => x.Step).Take(1).ToHashSet();
                TraceTable.Write(new IndentedWriter(o), replay.Machine.Trace.Entries, marks, 16);
            }
        o.WriteLine();
        foreach (var c in cells.Where(c => c.Skipped is not null).Select(c => (c.Variant, c.Skipped)).Distinct())
            o.WriteLine($"n/a: {c.Variant}: {c.Skipped}");
    }

    private static void WriteReport(DirectoryInfo dir, IReadOnlyList<CellResult> cells)
    {
        dir.Create();
        File.WriteAllText(Path.Combine(dir.FullName, "report.json"), JsonSerializer.Serialize(cells.Select(ToJson), new JsonSerializerOptions { WriteIndented = true }));
        int n = 0;
        foreach (var c in cells)
            foreach (var v in c.Violations)
                File.WriteAllText(Path.Combine(dir.FullName, $"bug-{++n:D4}.trace.json"), JsonSerializer.Serialize(new
                {
                    version = 1, token = v.Token.Encode(), variant = c.Variant, config = c.Config, strategy = c.Strategy,
                    invariant = v.Violation.Invariant, step = v.Violation.Step, message = v.Violation.Message, choices = v.Token.Choices,
                }, new JsonSerializerOptions { WriteIndented = true }));
    }

    private static Command ReplayCommand(TextWriter stdout, TextWriter stderr)
    {
        var token = new Option<string?>("--token") { Description = "A replay token (xh1.…) from explore." };
        var file = new Option<FileInfo?>("--trace-file") { Description = "A bug-NNNN.trace.json written by explore --report-dir." };
        var verbose = new Option<bool>("--verbose") { Description = "Print every trace row." };
        var cmd = new Command("replay", "Re-run one schedule exactly and print its trace table and verdict.") { token, file, verbose };
        cmd.Validators.Add(r =>
        {
            if ((r.GetValue(token) is null) == (r.GetValue(file) is null))
                r.AddError("give exactly one of --token and --trace-file");
        });
        cmd.SetAction(pr =>
        {
            if (!TryReadToken(pr.GetValue(token), pr.GetValue(file), stderr, out var t))
                return ExitUsage;
            return RunReplay(stdout, stderr, t!, pr.GetValue(verbose) ? 0 : 40);
        });
        return cmd;
    }

    private static bool TryReadToken(string? text, FileInfo? file, TextWriter err, out ReplayToken? token)
    {
        token = null;
        if (file is not null)
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(file.FullName));
                text = doc.RootElement.GetProperty("token").GetString();
            }
            catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException or UnauthorizedAccessException)
            {
                err.WriteLine($"xen-harness: cannot read trace file '{file.Name}': {e.Message}");
                return false;
            }
        }
        if (!ReplayToken.TryDecode(text ?? "", out token, out string error))
        {
            err.WriteLine($"xen-harness: {error}");
            return false;
        }
        return true;
    }

    private static int RunReplay(TextWriter o, TextWriter err, ReplayToken token, int rows)
    {
        (Scenario Workload, KernelConfig Config, ExecutionResult Result) r;
        try
        {
            r = Explorer.Replay(token);
        }
        catch (ArgumentException e)
        {
            err.WriteLine($"xen-harness: {e.Message}");
            return ExitUsage;
        }
        catch (ReplayDivergenceException e)
        {
            err.WriteLine($"xen-harness: {e.Message}");
            return ExitInternal;
        }
        var x = r.Result;
        var result = new ScenarioResult(r.Workload, token.Variant, r.Config, ScenarioRunner.Cmdline(r.Workload, token.Variant, r.Config),
            x.Run, x.Violations, x.MaxHypercallLatencyNs, x.TraceHash, x.Machine.Trace.Entries, x.Machine.Console, x.Choices);
        Print(o, result, rows);
        if (x.Run.Outcome == RunOutcome.InternalError)
            return ExitInternal;
        return x.Violations.Count > 0 ? ExitViolation : ExitOk;
    }

    private static Command MinimizeCommand(TextWriter stdout, TextWriter stderr)
    {
        var token = new Option<string?>("--token") { Description = "The failing schedule's replay token." };
        var file = new Option<FileInfo?>("--trace-file") { Description = "Or its bug-NNNN.trace.json." };
        var cmd = new Command("minimize", "Shrink a failing schedule's choice list while it still breaks the same invariant.") { token, file };
        cmd.Validators.Add(r =>
        {
            if ((r.GetValue(token) is null) == (r.GetValue(file) is null))
                r.AddError("give exactly one of --token and --trace-file");
        });
        cmd.SetAction(pr =>
        {
            if (!TryReadToken(pr.GetValue(token), pr.GetValue(file), stderr, out var t))
                return ExitUsage;
            try
            {
                var m = Minimizer.Minimize(t!);
                stdout.WriteLine($"minimized [{m.Invariant}]: {m.Original.Choices.Count.ToString(Inv)} -> {m.Minimal.Choices.Count.ToString(Inv)} choices, " +
                    $"{m.OriginalNonDefault.ToString(Inv)} -> {m.MinimalNonDefault.ToString(Inv)} non-default, {m.Attempts.ToString(Inv)} replays");
                stdout.WriteLine($"token   {m.Minimal.Encode()}");
                stdout.WriteLine($"replay  dotnet run --project src/XenPreempt.Harness -- replay --token {m.Minimal.Encode()}");
                return ExitOk;
            }
            catch (ArgumentException e)
            {
                stderr.WriteLine($"xen-harness: {e.Message}");
                return ExitUsage;
            }
        });
        return cmd;
    }

    private static Command SelftestCommand(TextWriter stdout)
    {
        var cmd = new Command("selftest", "Check the harness itself: determinism, replay, and DFS schedule counts against brute force.");
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
