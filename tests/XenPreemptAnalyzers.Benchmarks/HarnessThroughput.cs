using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using XenPreempt.Harness;
using XenPreempt.Harness.Exploration;

namespace XenPreemptAnalyzers.Benchmarks;

/// <summary>
/// <c>harness-throughput</c>: schedules per CPU-second of the exploration loop (machine, port, checker, strategy),
/// for each strategy on one variant and configuration. The port build and the JIT are paid by a warm-up cell
/// first, so the figure is the steady state; the process's CPU time (every simulated stack's OS thread) is
/// the denominator, so it holds on a busy machine where wall-clock rates do not. Strategies are interleaved
/// run by run; min/median/max over the runs, with the load average beside them.
/// </summary>
internal static class HarnessThroughput
{
    public sealed record Options(IReadOnlyList<string> Strategies, string Variant, string Config, int Schedules, int Runs);

    public static int Run(Options o)
    {
        var config = KernelConfigs.Find(o.Config) ?? throw new UsageException($"unknown configuration '{o.Config}'");
        foreach (var strategy in o.Strategies)
        {
            if (strategy is not ("dfs" or "pct" or "random"))
                throw new UsageException($"unknown strategy '{strategy}' (dfs, pct, random)");
        }
        ExploreOptions Cell(string strategy, int schedules) => new()
        {
            Variants = new[] { o.Variant },
            Configs = new[] { config },
            Strategies = new[] { strategy },
            Iterations = schedules,
            TimeLimitSeconds = 3600,
            ProgressIntervalSeconds = double.MaxValue,
        };

        Console.WriteLine($"# load average {LoadAverage()} at start");
        foreach (var strategy in o.Strategies)
            _ = Explorer.Run(Cell(strategy, Math.Max(50, o.Schedules / 10))).ToList(); // port build, JIT, worker pool

        var perCpuSecond = o.Strategies.ToDictionary(s => s, _ => new List<double>());
        var perWallSecond = o.Strategies.ToDictionary(s => s, _ => new List<double>());
        var bytesPerStep = o.Strategies.ToDictionary(s => s, _ => new List<double>());
        var stepsPerSchedule = new Dictionary<string, double>();
        for (var run = 0; run < o.Runs; run++)
        {
            foreach (var strategy in o.Strategies)
            {
                var process = Process.GetCurrentProcess();
                var cpuBefore = process.TotalProcessorTime;
                var bytesBefore = GC.GetTotalAllocatedBytes(precise: false);
                var wall = Stopwatch.StartNew();
                var cell = Explorer.Run(Cell(strategy, o.Schedules)).Single();
                wall.Stop();
                process.Refresh();
                var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
                perCpuSecond[strategy].Add(cell.Schedules / cpu);
                perWallSecond[strategy].Add(cell.Schedules / wall.Elapsed.TotalSeconds);
                bytesPerStep[strategy].Add((GC.GetTotalAllocatedBytes(precise: false) - bytesBefore) / (double)Math.Max(1, cell.Steps));
                stepsPerSchedule[strategy] = cell.Steps / (double)Math.Max(1, cell.Schedules);
            }
        }

        Console.WriteLine($"Exploration throughput, {o.Variant} under {o.Config}, {o.Schedules:N0} schedules per run, {o.Runs} runs per strategy (interleaved):");
        Console.WriteLine("| strategy | schedules per CPU-second min / median / max | per wall-second (median) | steps per schedule | bytes allocated per step (median) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var strategy in o.Strategies)
        {
            var cpu = perCpuSecond[strategy];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {strategy} | {cpu.Min():N0} / {BuildOverhead.Median(cpu):N0} / {cpu.Max():N0} | {BuildOverhead.Median(perWallSecond[strategy]):N0} | {stepsPerSchedule[strategy]:N0} | {BuildOverhead.Median(bytesPerStep[strategy]):N0} |"));
        }
        Console.WriteLine($"# load average {LoadAverage()} at end");
        return 0;
    }

    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
