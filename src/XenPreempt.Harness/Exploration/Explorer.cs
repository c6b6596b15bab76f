// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using XenPreempt.Machine;

namespace XenPreempt.Harness.Exploration;

/// <summary>The workloads exploration runs: the standard configuration, and each scenario's workload.</summary>
public static class Workloads
{
    /// <summary>
    /// The standard 2-CPU configuration: xl's 40-chunk hypercall on CPU0, a runnable pinned kworker
    /// there (so a reschedule is wanted), a second kworker woken by network work, one device event
    /// and one tracing breakpoint for the oracle to place.
    /// </summary>
    public static readonly Scenario Standard = new("std", "standard 2-CPU configuration",
        "xl: 40 ms hypercall on CPU0; kworker/0:1 runnable on CPU0 (2 ms); kworker/0:2 woken by network work; 1 device event, 1 breakpoint",
        "xl:hcall:0:40,kworker/0:1:kworker:0:2,kworker/0:2:netwq:0:1",
        new MachineConfig { Cpus = 2, MaxTimeNs = 100_000_000, MaxSteps = 20_000, EventBudget = 1, ExceptionBudget = 1 },
        o => o);

    /// <summary>A workload by name: std, a scenario's, or a user's (<c>name@Assembly</c>, once its assembly is opened).</summary>
    public static Scenario? Find(string name) => name == Standard.Name ? Standard : Scenarios.Find(name) ?? UserWorkloads.UserWorkloadCatalog.Find(name);

    public static IEnumerable<string> Names => new[] { Standard.Name }.Concat(Scenarios.All.Select(s => s.Name));
}

public sealed record ExploreOptions
{
    public IReadOnlyList<string> Variants { get; init; } = Array.Empty<string>();
    public IReadOnlyList<KernelConfig> Configs { get; init; } = Array.Empty<KernelConfig>();
    public IReadOnlyList<string> Strategies { get; init; } = new[] { "dfs" };
    public string Workload { get; init; } = Workloads.Standard.Name;
    /// <summary>Replaces the workload's tasks (comm:kind:cpu:arg,…), e.g. to explore with more tasks.</summary>
    public string? Tasks { get; init; }
    public int Cpus { get; init; } = 2;
    public int PreemptionBound { get; init; } = 2;
    public int MaxInjections { get; init; } = 1;
    public int PctDepth { get; init; } = 3;
    public long Iterations { get; init; } = 2_500;
    public ulong Seed { get; init; } = 1;
    public long MaxSteps { get; init; } = 20_000;
    /// <summary>
    /// Wall-clock seconds per cell at most: a hang guard, not a budget. The schedule count
    /// (<see cref="Iterations"/>) decides what a cell covers, so the same options give the same matrix
    /// on any machine at any load; a cell the guard stops says so (<see cref="CellStop.TimeLimit"/>).
    /// </summary>
    public double TimeLimitSeconds { get; init; } = DefaultHangGuardSeconds;

    /// <summary>The hang guard's default: far beyond any default cell (about half a second each on an idle machine).</summary>
    public const double DefaultHangGuardSeconds = 1800;
    public bool StopOnFirstBug { get; init; }
    /// <summary>Faults to inject (names from <see cref="FaultOptions"/>, canonical order); each run may inject up to <see cref="MaxInjections"/>.</summary>
    public IReadOnlyList<string> Faults { get; init; } = Array.Empty<string>();
    /// <summary>How often progress is reported: a live display wants it often, a log every few seconds.</summary>
    public double ProgressIntervalSeconds { get; init; } = 5;
    /// <summary>The part of the run this process does (<c>--shard i/n</c>); see <see cref="ShardSpec"/>.</summary>
    public ShardSpec Shard { get; init; } = ShardSpec.Whole;
    /// <summary>Told of every schedule run: how tests see which schedules a shard ran.</summary>
    public Action<ScheduleRan>? OnSchedule { get; init; }
}

/// <summary>
/// A schedule ended in an internal error (the simulator or the port threw, or a replay diverged):
/// carries the run so far and the token that replays it.
/// </summary>
public sealed class ScheduleFailedException(string message, ReplayToken token, ExecutionResult result)
    : Exception(message, result.Run.Error)
{
    public ReplayToken Token { get; } = token;
    public ExecutionResult Result { get; } = result;
}

/// <summary>The first schedule that broke one invariant, with what replays it.</summary>
public sealed record FoundViolation(Violation Violation, long Schedule, double Seconds, ReplayToken Token);

/// <summary>What ended a cell's exploration.</summary>
public enum CellStop
{
    /// <summary>The schedule budget (<c>--iterations</c>) was spent.</summary>
    Budget,
    /// <summary>The strategy covered its whole space within its bounds.</summary>
    Exhausted,
    /// <summary><c>--stop-on-first-bug</c>, at the first violation.</summary>
    FirstBug,
    /// <summary>The wall-clock limit, before the budget: what the cell covered depends on the machine's speed.</summary>
    TimeLimit,
    /// <summary>Not run: the variant never shipped with the configuration.</summary>
    Skipped,
}

/// <summary>One row of the report: a variant under a configuration with a strategy.</summary>
public sealed record CellResult(
    string Variant,
    string Config,
    string Strategy,
    string Bound,
    long Schedules,
    long Steps,
    double Seconds,
    int DistinctTraces,
    bool Exhaustive,
    IReadOnlyList<FoundViolation> Violations,
    long MaxHypercallLatencyNs,
    string? Skipped,
    CellStop Stop = CellStop.Budget)
{
    /// <summary>The cell's place in the run (variant, then configuration, then strategy order), from 0.</summary>
    public int Ordinal { get; init; }
    /// <summary>The distinct trace hashes, ascending: what a merge of strided shards counts <see cref="DistinctTraces"/> from.</summary>
    public IReadOnlyList<ulong> TraceHashes { get; init; } = Array.Empty<ulong>();
    /// <summary>For a strided cell in a sharded run: this shard ran only its share of the schedules.</summary>
    public bool Partial { get; init; }

    public double SchedulesPerSecond => Seconds > 0 ? Schedules / Seconds : 0;
    public double StepsPerSecond => Seconds > 0 ? Steps / Seconds : 0;
}

/// <summary>Runs strategies over variants × configurations; all nondeterminism comes from the strategy's oracle.</summary>
public static class Explorer
{
    public static IEnumerable<CellResult> Run(ExploreOptions o, Action<string>? progress = null)
    {
        var workload = Workloads.Find(o.Workload) ?? throw new ArgumentException($"unknown workload '{o.Workload}'");
        if (o.Tasks is not null)
            workload = workload with { Tasks = o.Tasks };
        int row = 0, ordinal = 0;
        foreach (var variant in o.Variants)
            foreach (var config in o.Configs)
            {
                for (int s = 0; s < o.Strategies.Count; s++, ordinal++)
                {
                    string strategy = o.Strategies[s];
                    bool supported = KernelConfigs.Supports(Mutants.Parse(variant).Variant, config);
                    var share = o.Shard.ShareOf(row, s, supported && IsStrided(strategy, o));
                    if (share is null)
                        continue; // another shard's
                    if (!supported)
                    {
                        yield return new CellResult(variant, config.Name, strategy, "-", 0, 0, 0, 0, false, Array.Empty<FoundViolation>(), 0, KernelConfigs.UnsupportedReason(variant), CellStop.Skipped) { Ordinal = ordinal };
                        continue;
                    }
                    yield return RunCell(o, workload, variant, config, strategy, progress, ordinal, share.Value);
                }
                row++;
            }
    }

    /// <summary>Whether a strategy's cells are split by schedule index between shards (<see cref="ShardSpec"/>).</summary>
    public static bool IsStrided(string strategy, ExploreOptions o) =>
        ShardSpec.IsStrided(CreateStrategy(strategy, o, o.PreemptionBound) is ISeekableStrategy, o.StopOnFirstBug);

    public static IStrategy CreateStrategy(string name, ExploreOptions o, int bound) => name switch
    {
        "dfs" => new DfsStrategy(bound),
        "random" => new RandomStrategy(o.Seed),
        "pct" => new PctStrategy(o.Seed, o.PctDepth),
        _ => throw new ArgumentException($"unknown strategy '{name}' (dfs, pct, random)"),
    };

    private static CellResult RunCell(ExploreOptions o, Scenario workload, string variant, KernelConfig config, string strategyName, Action<string>? progress, int ordinal, CellShare share)
    {
        var bootVariant = Mutants.Parse(variant).Variant;
        var build = UserWorkloads.UserWorkloadCatalog.BuildFor(workload, config) ?? PortBuilder.ForVariant(config, variant);
        string cmdline = ScenarioRunner.Cmdline(FaultOptions.ApplyToWorkload(workload, o.Faults), bootVariant, config);
        var plan = new CellPlan($"{variant}/{config.Name}/{strategyName}", ordinal, strategyName, o.Iterations, o.TimeLimitSeconds, o.StopOnFirstBug, o.ProgressIntervalSeconds)
        {
            Share = share,
            Shard = o.Shard,
        };
        var r = CellLoop.Run(plan, CellLoop.Levels(strategyName, o.MaxInjections, o.PreemptionBound),
            level => CreateStrategy(strategyName, o, level.Bound),
            level =>
            {
                var machineConfig = MachineFor(workload, o.Cpus, level.Injections, o.MaxSteps, o.Faults);
                string workloadId = WorkloadId(workload, machineConfig, o.Faults);
                return oracle =>
                {
                    var x = Execution.Run(build, cmdline, machineConfig, oracle);
                    return (x, new ReplayToken(variant, config.Name, workloadId, x.Choices.Select(c => c.Index).ToArray()));
                };
            },
            progress, o.OnSchedule);
        return new CellResult(variant, config.Name, strategyName, r.Bound, r.Schedules, r.Steps, r.Seconds, r.TraceHashes.Count,
            r.Exhaustive, r.Violations, r.MaxHypercallLatencyNs, null, r.Stop)
        {
            Ordinal = ordinal,
            TraceHashes = r.TraceHashes,
            Partial = share == CellShare.Strided && !o.Shard.IsWhole,
        };
    }

    /// <summary>
    /// The machine a workload runs on, with exploration's overrides. Faults, if any, may strike
    /// <paramref name="maxInjections"/> times in all.
    /// </summary>
    public static MachineConfig MachineFor(Scenario workload, int cpus, int maxInjections, long maxSteps, IReadOnlyList<string>? faults = null) =>
        FaultOptions.ApplyToMachine(workload.Machine with
        {
            Cpus = cpus,
            MaxSteps = maxSteps,
            EventBudget = Math.Min(workload.Machine.EventBudget, maxInjections),
            ExceptionBudget = Math.Min(workload.Machine.ExceptionBudget, maxInjections),
            RecordCpuViews = true,
        }, faults ?? Array.Empty<string>(), maxInjections);

    // "std~2~1~20000": the workload and the machine overrides, so a token replays on the same machine.
    // A replaced task list travels in the token too (base64url, after a fifth '~'), and the faults
    // after a sixth (the task field then empty if the tasks are the workload's own). The injection
    // field is the budget the run was given: the largest of its event, breakpoint and fault budgets.
    private static string WorkloadId(Scenario w, MachineConfig m, IReadOnlyList<string> faults)
    {
        string id = $"{w.Name}~{m.Cpus}~{Math.Max(Math.Max(m.EventBudget, m.ExceptionBudget), m.FaultBudget)}~{m.MaxSteps}";
        var original = Workloads.Find(w.Name);
        string tasks = original is not null && original.Tasks == w.Tasks
            ? ""
            : Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(w.Tasks)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        if (faults.Count > 0)
            return $"{id}~{tasks}~{FaultOptions.Encode(faults)}";
        return tasks.Length == 0 ? id : $"{id}~{tasks}";
    }

    /// <summary>The faults a token's run was given (none for a token written before faults existed).</summary>
    public static IReadOnlyList<string> FaultsOf(ReplayToken token)
    {
        var f = token.Workload.Split('~');
        if (f.Length != 6)
            return Array.Empty<string>();
        return FaultOptions.TryParse(new[] { f[5] }, out var faults, out string error)
            ? faults
            : throw new ArgumentException($"the token's faults are malformed: {error}");
    }

    /// <summary>Re-runs the schedule a token names, following its choices exactly.</summary>
    public static (Scenario Workload, KernelConfig Config, ExecutionResult Result) Replay(ReplayToken token)
    {
        var f = token.Workload.Split('~');
        if (f.Length is >= 4 and <= 6 && UserWorkloads.UserWorkloadCatalog.IsUser(f[0]) && Workloads.Find(f[0]) is null)
            throw new ArgumentException($"the token comes from the workload {f[0]}: give --assembly <path to {UserWorkloads.UserWorkloadCatalog.AssemblyOf(f[0])}.dll> (the assembly it was explored in)");
        var workload = (f.Length is >= 4 and <= 6 ? Workloads.Find(f[0]) : null) ?? throw new ArgumentException($"the token names an unknown workload '{token.Workload}' (expected <workload>~<cpus>~<injections>~<max-steps>[~<tasks>[~<faults>]], workload one of {string.Join(", ", Workloads.Names)})");
        if (f.Length >= 5 && f[4].Length > 0)
        {
            try
            {
                var b64 = f[4].Replace('-', '+').Replace('_', '/');
                b64 += new string('=', (4 - b64.Length % 4) % 4);
                workload = workload with { Tasks = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(b64)) };
            }
            catch (FormatException)
            {
                throw new ArgumentException("the token's task list is malformed");
            }
        }
        if (!int.TryParse(f[1], out int cpus) || cpus < 1 || cpus > 64 || !int.TryParse(f[2], out int inj) || inj < 0 || !long.TryParse(f[3], out long maxSteps) || maxSteps < 1)
            throw new ArgumentException($"the token's machine parameters are malformed: '{token.Workload}' (cpus 1 to 64, injections 0 or more, max-steps 1 or more)");
        var config = KernelConfigs.Find(token.Config) ?? throw new ArgumentException($"the token names an unknown configuration '{token.Config}' (known: {string.Join(", ", KernelConfigs.All.Select(c => c.Name))})");
        var bootVariant = Mutants.Parse(token.Variant).Variant;
        var build = UserWorkloads.UserWorkloadCatalog.BuildFor(workload, config) ?? PortBuilder.ForVariant(config, token.Variant);
        if (!build.Variants.Any(v => v.Name == bootVariant))
            throw new ArgumentException($"the token names an unknown variant '{token.Variant}' (known: {string.Join(", ", build.Variants.Select(v => v.Name))})");
        var faults = FaultsOf(token);
        var machine = MachineFor(workload, cpus, inj, maxSteps, faults);
        workload = FaultOptions.ApplyToWorkload(workload, faults);
        return (workload, config, Execution.Run(build, ScenarioRunner.Cmdline(workload, bootVariant, config), machine, new ScriptedOracle(token.Choices)));
    }
}
