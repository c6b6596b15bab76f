// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using XenPreempt.Machine;

namespace XenPreempt.Harness.Exploration;

/// <summary>One budget level of a cell: how many injections the machine allows and the DFS preemption bound.</summary>
public sealed record ExplorationLevel(int Injections, int Bound);

/// <summary>What a cell should run: its budget, its limits, and the share of its schedules that is this shard's.</summary>
public sealed record CellPlan(string Name, int Cell, string Strategy, long Iterations, double TimeLimitSeconds, bool StopOnFirstBug, double ProgressIntervalSeconds)
{
    public CellShare Share { get; init; } = CellShare.Whole;
    public ShardSpec Shard { get; init; } = ShardSpec.Whole;
}

/// <summary>What a cell (or, for a strided cell, one shard's part of it) ran and found.</summary>
public sealed record CellRun(
    string Bound,
    long Schedules,
    long Steps,
    IReadOnlyList<ulong> TraceHashes,
    bool Exhaustive,
    IReadOnlyList<FoundViolation> Violations,
    long MaxHypercallLatencyNs,
    CellStop Stop,
    double Seconds);

/// <summary>
/// The schedule loop of one cell, whatever the guest: the explorer runs it on the port, the tests on the
/// toy guest. It owns the budget rule (schedules counted from 1 up to the budget, DFS level by level)
/// and the shard's share, so both are the same for every guest.
/// </summary>
public static class CellLoop
{
    /// <summary>
    /// DFS deepens one budget at a time — injections 0, 1, … and within each the preemption bound
    /// 0, 1, … — so the small spaces are covered exhaustively before the large ones are sampled.
    /// Other strategies run once, with the full budgets.
    /// </summary>
    public static IReadOnlyList<ExplorationLevel> Levels(string strategy, int maxInjections, int preemptionBound) =>
        strategy == "dfs"
            ? Enumerable.Range(0, maxInjections + 1).SelectMany(i => Enumerable.Range(0, preemptionBound + 1).Select(b => new ExplorationLevel(i, b))).ToArray()
            : new[] { new ExplorationLevel(maxInjections, preemptionBound) };

    /// <param name="plan">The cell and its share.</param>
    /// <param name="levels">The levels, in order (<see cref="Levels"/>).</param>
    /// <param name="createStrategy">A fresh strategy for a level.</param>
    /// <param name="prepareLevel">For a level, what runs one schedule under an oracle and the token that replays it.</param>
    /// <param name="progress">Progress lines, every <see cref="CellPlan.ProgressIntervalSeconds"/>.</param>
    /// <param name="onSchedule">Told of every schedule run (tests observe the shards' schedule sets with it).</param>
    public static CellRun Run(
        CellPlan plan,
        IReadOnlyList<ExplorationLevel> levels,
        Func<ExplorationLevel, IStrategy> createStrategy,
        Func<ExplorationLevel, Func<IChoiceOracle, (ExecutionResult Result, ReplayToken Token)>> prepareLevel,
        Action<string>? progress = null,
        Action<ScheduleRan>? onSchedule = null)
    {
        var found = new Dictionary<string, FoundViolation>(StringComparer.Ordinal);
        var traces = new HashSet<ulong>();
        long schedules = 0, steps = 0, maxLatency = 0;
        var clock = Stopwatch.StartNew();
        var lastProgress = clock.Elapsed;
        bool exhaustive = false, timedOut = false;
        string bound = "-";

        // Runs schedule k (the index the unsharded run gives it); false when the cell must stop.
        bool RunSchedule(Func<IChoiceOracle, (ExecutionResult Result, ReplayToken Token)> run, IStrategy strategy, long k)
        {
            if (clock.Elapsed.TotalSeconds >= plan.TimeLimitSeconds)
            {
                timedOut = true;
                return false;
            }
            var (x, token) = run(strategy.Oracle);
            schedules++;
            steps += x.Run.Steps;
            traces.Add(x.TraceHash);
            maxLatency = Math.Max(maxLatency, x.MaxHypercallLatencyNs);
            onSchedule?.Invoke(new ScheduleRan(plan.Cell, k, ScheduleRan.HashChoices(token.Choices), x.TraceHash));
            if (x.Run.Outcome == RunOutcome.InternalError)
                throw new ScheduleFailedException($"internal error in {plan.Name} schedule {k}: {x.Run.Message}", token, x);
            foreach (var v in x.Violations)
                if (!found.ContainsKey(v.Invariant))
                    found[v.Invariant] = new FoundViolation(v, k, clock.Elapsed.TotalSeconds, token);
            if (progress is not null && (clock.Elapsed - lastProgress).TotalSeconds >= plan.ProgressIntervalSeconds)
            {
                lastProgress = clock.Elapsed;
                progress($"[{clock.Elapsed:mm\\:ss}] {plan.Name}({bound}) schedules={schedules:N0} ({schedules / clock.Elapsed.TotalSeconds:N0}/s) violations={found.Count}");
            }
            return !(plan.StopOnFirstBug && found.Count > 0);
        }

        foreach (var level in levels)
        {
            var strategy = createStrategy(level);
            var run = prepareLevel(level);
            bound = plan.Strategy == "dfs" ? $"b={level.Bound},i={level.Injections}" : strategy.Bound;
            if (plan.Share == CellShare.Strided)
            {
                // Schedule k of a seekable strategy is a pure function of (seed, k): prepare exactly the
                // indexes this shard owns. Such a strategy never exhausts, so one level is the whole cell.
                var seekable = strategy as ISeekableStrategy
                    ?? throw new InvalidOperationException($"{plan.Name}: strategy '{strategy.Name}' cannot be split by schedule index");
                foreach (long k in plan.Shard.StridedSchedules(plan.Iterations))
                {
                    seekable.PrepareSchedule(k);
                    if (!RunSchedule(run, strategy, k))
                        break;
                }
                break;
            }
            while (schedules < plan.Iterations && strategy.Next())
                if (!RunSchedule(run, strategy, schedules + 1))
                    break;
            exhaustive = strategy.Exhausted;
            if (!exhaustive || timedOut || (plan.StopOnFirstBug && found.Count > 0))
                break;
        }
        var stop = timedOut ? CellStop.TimeLimit
            : plan.StopOnFirstBug && found.Count > 0 ? CellStop.FirstBug
            : exhaustive ? CellStop.Exhausted
            : CellStop.Budget;
        return new CellRun(bound, schedules, steps, traces.Order().ToArray(), exhaustive,
            found.Values.OrderBy(f => f.Schedule).ToArray(), maxLatency, stop, clock.Elapsed.TotalSeconds);
    }
}
