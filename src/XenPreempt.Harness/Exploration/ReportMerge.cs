// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace XenPreempt.Harness.Exploration;

/// <summary>Why shard reports cannot be merged: the user's input (exit 1), with a message naming the report.</summary>
public sealed class ReportMergeException(string message) : Exception(message);

/// <summary>
/// Joins the reports of the shards of one run (<c>explore --shard i/n --report-dir …</c>) into the report
/// the unsharded run writes: every shard present once, all of the same run, every cell covered exactly as
/// <see cref="ShardSpec"/> deals them out. A whole cell is taken as its shard wrote it; a strided cell's
/// parts are summed, their trace sets joined, and each invariant's first violation is the smallest
/// schedule index any part found it at.
/// </summary>
public static class ReportMerge
{
    public static ExploreReport Merge(IReadOnlyList<(string Name, ExploreReport Report)> reports)
    {
        if (reports.Count == 0)
            throw new ReportMergeException("no reports to merge");
        var (firstName, first) = reports[0];
        foreach (var (name, r) in reports.Skip(1))
            if (first.Run.FirstDifference(r.Run) is var (field, expected, actual))
                throw new ReportMergeException($"{name} is a report of a different run than {firstName} ({field}: {actual} there, {expected} in {firstName}): merge only the shards of one explore command");

        var shards = reports.Select(r => (r.Name, Shard: ParseShard(r.Name, r.Report))).ToArray();
        int count = shards[0].Shard.Count;
        foreach (var (name, shard) in shards)
            if (shard.Count != count)
                throw new ReportMergeException($"{name} is shard {shard} but {shards[0].Name} is shard {shards[0].Shard}: every report must come from the same --shard i/{count.ToString(CultureInfo.InvariantCulture)}");
        foreach (var dup in shards.GroupBy(s => s.Shard.Index).Where(g => g.Count() > 1))
            throw new ReportMergeException($"shard {dup.First().Shard} is given twice ({string.Join(", ", dup.Select(d => d.Name))})");
        var missing = Enumerable.Range(1, count).Where(i => shards.All(s => s.Shard.Index != i)).ToArray();
        if (missing.Length > 0)
            throw new ReportMergeException($"shard{(missing.Length > 1 ? "s" : "")} {string.Join(", ", missing.Select(i => $"{i.ToString(CultureInfo.InvariantCulture)}/{count.ToString(CultureInfo.InvariantCulture)}"))} missing: give the reports of all {count.ToString(CultureInfo.InvariantCulture)} shards");

        var options = first.Run.ToOptions();
        var byOrdinal = reports.SelectMany(r => r.Report.Cells.Select(c => (r.Name, Cell: c))).GroupBy(x => x.Cell.Ordinal).ToDictionary(g => g.Key, g => g.ToArray());
        foreach (int ordinal in byOrdinal.Keys)
            if (ordinal < 0 || ordinal >= first.Run.Cells)
                throw new ReportMergeException($"{byOrdinal[ordinal][0].Name} has a cell #{ordinal.ToString(CultureInfo.InvariantCulture)}, but the run has {first.Run.Cells.ToString(CultureInfo.InvariantCulture)} cells");
        var cells = new List<CellResult>();
        for (int ordinal = 0; ordinal < first.Run.Cells; ordinal++)
        {
            var parts = byOrdinal.TryGetValue(ordinal, out var p) ? p : Array.Empty<(string Name, ReportCell Cell)>();
            string what = parts.Length > 0 ? $"cell #{ordinal.ToString(CultureInfo.InvariantCulture)} ({parts[0].Cell.Variant}/{parts[0].Cell.Config}/{parts[0].Cell.Strategy})" : $"cell #{ordinal.ToString(CultureInfo.InvariantCulture)}";
            if (parts.Length == 0)
                throw new ReportMergeException($"{what} is in none of the reports");
            bool strided = parts[0].Cell.Skipped is null && Explorer.IsStrided(parts[0].Cell.Strategy, options);
            int expected = strided ? count : 1;
            if (parts.Length != expected || parts.Any(x => (x.Cell.Partial == true) != (strided && count > 1)))
                throw new ReportMergeException($"{what} is in {parts.Length.ToString(CultureInfo.InvariantCulture)} report(s) ({string.Join(", ", parts.Select(x => x.Name))}); " +
                    $"a {(strided ? "strided" : "whole")} cell belongs to {(strided ? "every shard, in part" : "one shard")}: were these reports written by this harness?");
            cells.Add(strided ? JoinParts(parts.Select(x => x.Cell.ToCellResult()).ToArray()) : parts[0].Cell.ToCellResult() with { Partial = false });
        }
        var merged = options with { Shard = ShardSpec.Whole };
        return ExploreReport.FromCells(merged, cells) with { Run = first.Run };
    }

    /// <summary>One strided cell from its shards' parts, as the unsharded run would have counted it.</summary>
    private static CellResult JoinParts(IReadOnlyList<CellResult> parts)
    {
        var hashes = parts.SelectMany(p => p.TraceHashes).Distinct().Order().ToArray();
        // Parts are in shard order and each lists its findings by schedule; a stable sort by schedule
        // keeps two findings of one schedule (always one shard's) in the order the checker reported them.
        var firsts = parts.SelectMany(p => p.Violations).OrderBy(v => v.Schedule)
            .GroupBy(v => v.Violation.Invariant, StringComparer.Ordinal).Select(g => g.First())
            .OrderBy(v => v.Schedule).ToArray();
        var stop = parts.Any(p => p.Stop == CellStop.TimeLimit) ? CellStop.TimeLimit : parts[0].Stop;
        return parts[0] with
        {
            Schedules = parts.Sum(p => p.Schedules),
            Steps = parts.Sum(p => p.Steps),
            DistinctTraces = hashes.Length,
            TraceHashes = hashes,
            Exhaustive = parts.All(p => p.Exhaustive),
            Violations = firsts,
            MaxHypercallLatencyNs = parts.Max(p => p.MaxHypercallLatencyNs),
            Stop = stop,
            Partial = false,
        };
    }

    private static ShardSpec ParseShard(string name, ExploreReport r)
    {
        if (r.Shard is null)
            return ShardSpec.Whole;
        return ShardSpec.TryParse(r.Shard, out var shard, out _) ? shard : throw new ReportMergeException($"{name}: '{r.Shard}' is not a shard (i/n)");
    }

    /// <summary>
    /// The report files the arguments name: a directory stands for its report.json (as explore
    /// --report-dir writes it), a file for itself. A path that is neither is the user's input.
    /// </summary>
    public static IReadOnlyList<string> ReportFiles(IEnumerable<string> arguments)
    {
        var files = new List<string>();
        foreach (string a in arguments)
        {
            if (Directory.Exists(a))
            {
                string f = Path.Combine(a, "report.json");
                if (!File.Exists(f))
                    throw new ReportMergeException($"'{a}' has no report.json (write one with explore --report-dir)");
                files.Add(f);
            }
            else if (File.Exists(a))
                files.Add(a);
            else
                throw new ReportMergeException($"'{a}' is neither a report file nor a directory");
        }
        return files;
    }
}
