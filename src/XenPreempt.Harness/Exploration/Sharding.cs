// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Globalization;

namespace XenPreempt.Harness.Exploration;

/// <summary>
/// A strategy whose schedule k is a pure function of its seed and k: it can start at any schedule, so
/// the schedules of one cell can be dealt out between shards and each shard still runs exactly the
/// schedules the whole run would have run under those indexes.
/// </summary>
public interface ISeekableStrategy : IStrategy
{
    /// <summary>Prepares schedule <paramref name="schedule"/> (from 1) as the whole run's k-th <see cref="IStrategy.Next"/> would.</summary>
    void PrepareSchedule(long schedule);
}

/// <summary>How much of one cell a shard runs.</summary>
public enum CellShare
{
    /// <summary>The whole cell: its schedules 1..budget in the strategy's own order.</summary>
    Whole,
    /// <summary>The schedules k of the cell with k ≡ shard index (mod shard count).</summary>
    Strided,
}

/// <summary>
/// <c>explore --shard i/n</c>: which part of a run's schedule space shard i of n runs. The shards are
/// disjoint and together they are exactly the unsharded run, schedule for schedule:
/// <list type="bullet">
/// <item>A cell whose strategy is seekable (random: schedule k uses seed+k−1) is split by schedule
/// index: shard i runs k = i, i+n, i+2n, … up to the budget. The union over the shards is 1..budget, and
/// the first violation of each invariant is the smallest k any shard found it at.</item>
/// <item>Every other cell is one unit that a single shard runs whole. DFS cannot be split by index:
/// schedule k is found by backtracking from schedule k−1's run, and the budget cuts the depth-first
/// order at a point no shard can know without running everything before it. PCT cannot either: its
/// change points are drawn in [1, longest schedule seen so far], so schedule k depends on the runs
/// before it (making it independent would change every documented PCT finding).</item>
/// <item>With <c>--stop-on-first-bug</c> every cell is a unit: where a cell stops depends on all its
/// schedules before the first bug.</item>
/// </list>
/// Whole cells are dealt round-robin along each strategy's rows (variant × configuration), the
/// strategies starting one shard apart, so that with the default dfs+pct portfolio each shard gets a
/// like number of each.
/// </summary>
public sealed record ShardSpec(int Index, int Count)
{
    /// <summary>The unsharded run: one shard that runs everything.</summary>
    public static readonly ShardSpec Whole = new(1, 1);

    public bool IsWhole => Count == 1;

    /// <summary>The spelling <c>i/n</c>, as given to <c>--shard</c>.</summary>
    public override string ToString() => $"{Index.ToString(CultureInfo.InvariantCulture)}/{Count.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses <c>i/n</c> with 1 ≤ i ≤ n; a message says what is wrong otherwise.</summary>
    public static bool TryParse(string? text, out ShardSpec shard, out string error)
    {
        shard = Whole;
        error = "";
        var parts = (text ?? "").Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count))
        {
            error = $"--shard must be i/n with whole numbers, e.g. 1/4 (got '{text}')";
            return false;
        }
        if (count < 1 || index < 1 || index > count)
        {
            error = $"--shard {text}: the shard index must be from 1 to the shard count (1/{count.ToString(CultureInfo.InvariantCulture)} … {count.ToString(CultureInfo.InvariantCulture)}/{count.ToString(CultureInfo.InvariantCulture)})";
            return false;
        }
        shard = new ShardSpec(index, count);
        return true;
    }

    /// <summary>Whether a cell is split by schedule index (in every run with these options, sharded or not).</summary>
    public static bool IsStrided(bool seekableStrategy, bool stopOnFirstBug) => seekableStrategy && !stopOnFirstBug;

    /// <summary>
    /// This shard's share of a cell: null if another shard runs it. <paramref name="row"/> counts the
    /// variant × configuration rows from 0, <paramref name="strategy"/> the run's strategies from 0.
    /// </summary>
    public CellShare? ShareOf(int row, int strategy, bool strided)
    {
        if (IsWhole)
            return CellShare.Whole;
        if (strided)
            return CellShare.Strided;
        return (row + strategy) % Count == Index - 1 ? CellShare.Whole : null;
    }

    /// <summary>The schedules (from 1) of a budget of <paramref name="budget"/> that this shard runs of a strided cell.</summary>
    public IEnumerable<long> StridedSchedules(long budget)
    {
        for (long k = Index; k <= budget; k += Count)
            yield return k;
    }
}

/// <summary>One schedule a cell ran (the hook tests use to see exactly which schedules each shard ran).</summary>
/// <param name="Cell">The cell's ordinal in the run (variant, then configuration, then strategy order), from 0.</param>
/// <param name="Schedule">The schedule's index in its cell, from 1: the same index the unsharded run gives it.</param>
/// <param name="ChoicesHash">FNV-1a of the schedule's choice list: the schedule itself, whatever its index.</param>
/// <param name="TraceHash">The run's trace hash.</param>
public sealed record ScheduleRan(int Cell, long Schedule, ulong ChoicesHash, ulong TraceHash)
{
    public static ulong HashChoices(IEnumerable<int> choices)
    {
        ulong h = 14695981039346656037UL;
        foreach (int c in choices)
        {
            for (int b = 0; b < 32; b += 8)
            {
                h ^= (byte)(c >> b);
                h *= 1099511628211UL;
            }
        }
        return h;
    }
}
