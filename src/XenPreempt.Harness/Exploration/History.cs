// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace XenPreempt.Harness.Exploration;

/// <summary>One documented finding: a strategy broke an invariant in a cell, first at a schedule.</summary>
public sealed record HistoryFinding(string Variant, string Config, string Strategy, string Invariant, long FirstSchedule)
{
    public string Cell => $"{Variant} / {Config} / {Strategy}";
}

/// <summary>
/// The history matrix as a checked-in file (docs/history.md): for each variant × configuration and
/// strategy, which invariants exploration breaks and where it first breaks each, and the exact options
/// that produce it. Exploration counts its budget in schedules, so the same options reproduce the file
/// on any machine; <c>explore --check</c> compares a run with it, <c>explore --write-history</c> writes it.
/// </summary>
public sealed record History(string Options, IReadOnlyList<string> Strategies, IReadOnlyList<HistoryRow> Rows)
{
    public const string OptionsPrefix = "options: `";
    private const string NotApplicable = "n/a";
    private const string Nothing = "-";

    public IEnumerable<HistoryFinding> Findings => Rows.SelectMany(r => r.Findings);

    /// <summary>The options that decide what a run finds, in one canonical spelling (what the file records).</summary>
    public static string CanonicalOptions(ExploreOptions o)
    {
        var inv = CultureInfo.InvariantCulture;
        var parts = new List<string>
        {
            $"--workload {o.Workload}", $"--cpus {o.Cpus.ToString(inv)}", $"--strategy {string.Join(' ', o.Strategies)}",
            $"--iterations {o.Iterations.ToString(inv)}", $"--preemption-bound {o.PreemptionBound.ToString(inv)}",
            $"--max-injections {o.MaxInjections.ToString(inv)}", $"--pct-depth {o.PctDepth.ToString(inv)}",
            $"--seed {o.Seed.ToString(inv)}", $"--max-steps {o.MaxSteps.ToString(inv)}",
        };
        if (o.Tasks is not null)
            parts.Add($"--tasks {o.Tasks}");
        if (o.Faults.Count > 0)
            parts.Add($"--faults {string.Join(',', o.Faults)}");
        if (o.StopOnFirstBug)
            parts.Add("--stop-on-first-bug");
        return string.Join(' ', parts);
    }

    /// <summary>The history a finished run shows.</summary>
    public static History FromCells(ExploreOptions o, IReadOnlyList<CellResult> cells)
    {
        var rows = cells.GroupBy(c => (c.Variant, c.Config))
            .Select(g => new HistoryRow(g.Key.Variant, g.Key.Config,
                g.All(c => c.Skipped is not null),
                g.Where(c => c.Skipped is null).SelectMany(c => c.Violations.Select(v =>
                    new HistoryFinding(c.Variant, c.Config, c.Strategy, v.Violation.Invariant, v.Schedule))).ToArray()))
            .ToArray();
        return new History(CanonicalOptions(o), o.Strategies.ToArray(), rows);
    }

    /// <summary>The file's text: a short explanation, the options, and one table row per variant × configuration.</summary>
    public string Markdown(IReadOnlyDictionary<string, string>? notApplicableReasons = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("# Exploration history\n\n");
        sb.Append("<!-- Written by `xen-harness explore <the options below> --write-history <this file>`; `explore <the same options> --check <this file>` compares a run with it. Do not edit by hand. -->\n\n");
        sb.Append("What `xen-harness explore` finds with the options below: for every variant under every\n");
        sb.Append("configuration, the invariants each strategy breaks, each with the schedule at which it first broke\n");
        sb.Append("(`#n`). The budget is counted in schedules, not seconds, so the same command gives this table on any\n");
        sb.Append("machine at any load. `-`: nothing broken; `n/a`: the variant never shipped with that configuration.\n");
        sb.Append("What each invariant means, and how to regenerate or check this file: [harness.md](harness.md).\n\n");
        sb.Append(OptionsPrefix).Append(Options).Append("`\n\n");
        sb.Append("| variant | config | ").Append(string.Join(" | ", Strategies)).Append(" |\n");
        sb.Append("|---|---|").Append(string.Concat(Strategies.Select(_ => "---|"))).Append('\n');
        foreach (var r in Rows)
        {
            sb.Append("| ").Append(r.Variant).Append(" | ").Append(r.Config).Append(" | ");
            sb.Append(string.Join(" | ", Strategies.Select(st => r.NotApplicable ? NotApplicable : CellText(r.Findings.Where(f => f.Strategy == st)))));
            sb.Append(" |\n");
        }
        if (notApplicableReasons is { Count: > 0 })
        {
            sb.Append('\n');
            foreach (var (variant, reason) in notApplicableReasons.OrderBy(p => p.Key, StringComparer.Ordinal))
                sb.Append("n/a: ").Append(variant).Append(": ").Append(reason).Append('\n');
        }
        return sb.ToString();

        string CellText(IEnumerable<HistoryFinding> found)
        {
            var list = found.OrderBy(f => f.FirstSchedule).ThenBy(f => f.Invariant, StringComparer.Ordinal)
                .Select(f => $"{f.Invariant} #{f.FirstSchedule.ToString(inv)}").ToArray();
            return list.Length == 0 ? Nothing : string.Join(", ", list);
        }
    }

    /// <summary>Reads a history file; a malformed one is an <see cref="InvalidDataException"/> naming the line.</summary>
    public static History Parse(string text)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        string? options = null;
        string[]? strategies = null;
        var rows = new List<HistoryRow>();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.StartsWith(OptionsPrefix, StringComparison.Ordinal) && line.EndsWith('`'))
            {
                options = line[OptionsPrefix.Length..^1];
                continue;
            }
            if (!line.StartsWith('|'))
                continue;
            var cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            if (strategies is null)
            {
                if (cells.Length < 3 || cells[0] != "variant" || cells[1] != "config")
                    throw new InvalidDataException($"line {i + 1}: expected the table header '| variant | config | <strategy> | … |'");
                strategies = cells[2..];
                continue;
            }
            if (cells.All(c => c.Length > 0 && c.All(ch => ch is '-' or ':')))
                continue; // the header's separator
            if (cells.Length != strategies.Length + 2)
                throw new InvalidDataException($"line {i + 1}: {cells.Length} columns, the header has {strategies.Length + 2}");
            bool na = cells[2..].All(c => c == NotApplicable);
            if (!na && cells[2..].Any(c => c == NotApplicable))
                throw new InvalidDataException($"line {i + 1}: n/a must be in every strategy's column or in none");
            var findings = new List<HistoryFinding>();
            if (!na)
                for (int s = 0; s < strategies.Length; s++)
                {
                    string cell = cells[2 + s];
                    if (cell == Nothing)
                        continue;
                    foreach (var item in cell.Split(',', StringSplitOptions.TrimEntries))
                    {
                        var parts = item.Split(" #");
                        if (parts.Length != 2 || parts[0].Length == 0 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long at))
                            throw new InvalidDataException($"line {i + 1}: '{item}' is not '<invariant> #<schedule>'");
                        findings.Add(new HistoryFinding(cells[0], cells[1], strategies[s], parts[0], at));
                    }
                }
            rows.Add(new HistoryRow(cells[0], cells[1], na, findings));
        }
        if (options is null)
            throw new InvalidDataException("no 'options: `…`' line: which command does this history belong to?");
        if (strategies is null || rows.Count == 0)
            throw new InvalidDataException("no history table ('| variant | config | <strategy> | … |' and its rows)");
        return new History(options, strategies, rows);
    }

    /// <summary>How a run's history differs from a documented one.</summary>
    public HistoryDiff Compare(History actual)
    {
        var documented = Findings.ToDictionary(Key);
        var found = actual.Findings.ToDictionary(Key);
        var missing = documented.Where(d => !found.ContainsKey(d.Key)).Select(d => d.Value).ToArray();
        var added = found.Where(f => !documented.ContainsKey(f.Key)).Select(f => f.Value).ToArray();
        var moved = documented.Where(d => found.TryGetValue(d.Key, out var f) && f.FirstSchedule != d.Value.FirstSchedule)
            .Select(d => (Documented: d.Value, Now: found[d.Key])).ToArray();
        var rowKeys = Rows.Select(r => (r.Variant, r.Config)).ToHashSet();
        var actualKeys = actual.Rows.Select(r => (r.Variant, r.Config)).ToHashSet();
        var rowsMissing = Rows.Where(r => !actualKeys.Contains((r.Variant, r.Config))).Select(r => $"{r.Variant} / {r.Config}").ToArray();
        var rowsAdded = actual.Rows.Where(r => !rowKeys.Contains((r.Variant, r.Config))).Select(r => $"{r.Variant} / {r.Config}").ToArray();
        var applicability = Rows.Join(actual.Rows, r => (r.Variant, r.Config), r => (r.Variant, r.Config), (d, a) => (d, a))
            .Where(p => p.d.NotApplicable != p.a.NotApplicable)
            .Select(p => $"{p.d.Variant} / {p.d.Config}: documented {(p.d.NotApplicable ? "n/a" : "run")}, now {(p.a.NotApplicable ? "n/a" : "run")}").ToArray();
        return new HistoryDiff(missing, added, moved, rowsMissing, rowsAdded, applicability);

        static string Key(HistoryFinding f) => $"{f.Variant}\u0001{f.Config}\u0001{f.Strategy}\u0001{f.Invariant}";
    }
}

/// <summary>One variant under one configuration.</summary>
public sealed record HistoryRow(string Variant, string Config, bool NotApplicable, IReadOnlyList<HistoryFinding> Findings);

/// <summary>
/// The differences between a documented history and a run. A missing or new finding, a row that
/// appears or disappears, or a change between run and n/a means the history did not reproduce; a
/// finding first reached at another schedule is reported but is still the same finding.
/// </summary>
public sealed record HistoryDiff(
    IReadOnlyList<HistoryFinding> Missing,
    IReadOnlyList<HistoryFinding> New,
    IReadOnlyList<(HistoryFinding Documented, HistoryFinding Now)> Moved,
    IReadOnlyList<string> RowsMissing,
    IReadOnlyList<string> RowsNew,
    IReadOnlyList<string> ApplicabilityChanged)
{
    public bool Matches => Missing.Count == 0 && New.Count == 0 && RowsMissing.Count == 0 && RowsNew.Count == 0 && ApplicabilityChanged.Count == 0;

    public IEnumerable<string> Lines()
    {
        var inv = CultureInfo.InvariantCulture;
        foreach (var f in Missing)
            yield return $"missing: {f.Cell}: {f.Invariant} (documented first at #{f.FirstSchedule.ToString(inv)}) was not found";
        foreach (var f in New)
            yield return $"new:     {f.Cell}: {f.Invariant} (first at #{f.FirstSchedule.ToString(inv)}) is not in the history";
        foreach (var r in RowsMissing)
            yield return $"missing: row {r} was not run";
        foreach (var r in RowsNew)
            yield return $"new:     row {r} is not in the history";
        foreach (var a in ApplicabilityChanged)
            yield return $"changed: {a}";
        foreach (var (d, n) in Moved)
            yield return $"moved:   {d.Cell}: {d.Invariant} first at #{n.FirstSchedule.ToString(inv)}, documented #{d.FirstSchedule.ToString(inv)} (same finding; rewrite the file to record it)";
    }
}
