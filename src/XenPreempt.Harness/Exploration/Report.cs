// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace XenPreempt.Harness.Exploration;

/// <summary>
/// The machine-readable report of an explore run (<c>report.json</c> under <c>--report-dir</c>), and of
/// <c>xen-harness merge</c>. Deterministic: it holds what the matrix and the exit code are made of and the
/// options that define the run, never a wall-clock time or a machine name, in a fixed order — so the same
/// options give the same bytes, and merged shard reports give the unsharded run's bytes.
/// </summary>
public sealed record ExploreReport
{
    public const string SchemaName = "xen-harness-explore-report";
    public const int SchemaVersion = 1;

    public string Schema { get; init; } = SchemaName;
    public int Version { get; init; } = SchemaVersion;
    /// <summary>The options that define the run: reports of different runs are never merged.</summary>
    public required ReportRun Run { get; init; }
    /// <summary><c>i/n</c> for a shard's report; absent for a whole run and for a merge.</summary>
    public string? Shard { get; init; }
    public required ReportResult Result { get; init; }
    /// <summary>The cells this report covers, by ordinal.</summary>
    public required IReadOnlyList<ReportCell> Cells { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NewLine = "\n",
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json) + "\n";

    /// <summary>Reads a report; anything that is not one of this schema version is an <see cref="InvalidDataException"/> saying why.</summary>
    public static ExploreReport Parse(string text)
    {
        ExploreReport? report;
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("schema", out var schema) || schema.ValueKind != JsonValueKind.String || schema.GetString() != SchemaName)
                throw new InvalidDataException($"not an explore report (no \"schema\": \"{SchemaName}\"; write one with explore --report-dir)");
            if (!doc.RootElement.TryGetProperty("version", out var version) || !version.TryGetInt32(out int v) || v != SchemaVersion)
                throw new InvalidDataException($"report schema version {(doc.RootElement.TryGetProperty("version", out var x) ? x.ToString() : "missing")}, this harness reads version {SchemaVersion}");
            report = JsonSerializer.Deserialize<ExploreReport>(text, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"not valid report JSON: {e.Message}");
        }
        if (report?.Run is null || report.Cells is null || report.Result is null || report.Cells.Any(c => c is null || c.Violations is null))
            throw new InvalidDataException("the report lacks its run, result or cells");
        return report;
    }

    /// <summary>The report of a run's cells (all of them, or one shard's).</summary>
    public static ExploreReport FromCells(ExploreOptions o, IReadOnlyList<CellResult> cells) => new()
    {
        Run = ReportRun.From(o),
        Shard = o.Shard.IsWhole ? null : o.Shard.ToString(),
        Result = ReportResult.Of(cells),
        Cells = cells.OrderBy(c => c.Ordinal).Select(c => ReportCell.From(c, Explorer.IsStrided(c.Strategy, o) && c.Skipped is null)).ToArray(),
    };
}

/// <summary>The options that define a run, as a report records them (the hang guard is not one: it only says when to give up).</summary>
public sealed record ReportRun
{
    /// <summary>The canonical options (as docs/history.md records them), for people; the fields below are what is compared.</summary>
    public required string Options { get; init; }
    public required IReadOnlyList<string> Variants { get; init; }
    public required IReadOnlyList<string> Configs { get; init; }
    public required IReadOnlyList<string> Strategies { get; init; }
    public required string Workload { get; init; }
    public string? Tasks { get; init; }
    public int Cpus { get; init; }
    public int PreemptionBound { get; init; }
    public int MaxInjections { get; init; }
    public int PctDepth { get; init; }
    public long Iterations { get; init; }
    public ulong Seed { get; init; }
    public long MaxSteps { get; init; }
    public bool StopOnFirstBug { get; init; }
    public required IReadOnlyList<string> Faults { get; init; }
    /// <summary>How many cells the whole run has (variants × configurations × strategies).</summary>
    public int Cells { get; init; }

    public static ReportRun From(ExploreOptions o) => new()
    {
        Options = History.CanonicalOptions(o),
        Variants = o.Variants.ToArray(),
        Configs = o.Configs.Select(c => c.Name).ToArray(),
        Strategies = o.Strategies.ToArray(),
        Workload = o.Workload,
        Tasks = o.Tasks,
        Cpus = o.Cpus,
        PreemptionBound = o.PreemptionBound,
        MaxInjections = o.MaxInjections,
        PctDepth = o.PctDepth,
        Iterations = o.Iterations,
        Seed = o.Seed,
        MaxSteps = o.MaxSteps,
        StopOnFirstBug = o.StopOnFirstBug,
        Faults = o.Faults.ToArray(),
        Cells = o.Variants.Count * o.Configs.Count * o.Strategies.Count,
    };

    /// <summary>The options again (to judge a merged run against a history file, or to know which cells are strided).</summary>
    public ExploreOptions ToOptions() => new()
    {
        Variants = Variants,
        Configs = Configs.Select(n => KernelConfigs.Find(n) ?? throw new InvalidDataException($"the report names an unknown configuration '{n}'")).ToArray(),
        Strategies = Strategies,
        Workload = Workload,
        Tasks = Tasks,
        Cpus = Cpus,
        PreemptionBound = PreemptionBound,
        MaxInjections = MaxInjections,
        PctDepth = PctDepth,
        Iterations = Iterations,
        Seed = Seed,
        MaxSteps = MaxSteps,
        StopOnFirstBug = StopOnFirstBug,
        Faults = Faults,
    };

    /// <summary>The first field in which two runs differ, with this run's value and the other's; null if they are the same run.</summary>
    public (string Field, string Mine, string Theirs)? FirstDifference(ReportRun other)
    {
        var mine = JsonSerializer.SerializeToElement(this, ExploreReport.Json);
        var theirs = JsonSerializer.SerializeToElement(other, ExploreReport.Json);
        // Fields left out (null) in one report and not in the other differ too. The canonical options
        // line differs whenever any field does: it comes last, so the message names the field itself.
        foreach (var name in mine.EnumerateObject().Select(p => p.Name).Union(theirs.EnumerateObject().Select(p => p.Name)).OrderBy(n => n == "options"))
        {
            string a = mine.TryGetProperty(name, out var x) ? x.GetRawText() : "(none)";
            string b = theirs.TryGetProperty(name, out var y) ? y.GetRawText() : "(none)";
            if (a != b)
                return (name, Compact(a), Compact(b));
        }
        return null;

        static string Compact(string json) => string.Join(' ', json.Split(new[] { '\n', '\r' }, StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));
    }
}

/// <summary>The tally and the exit code explore gives without --check (0 clean, 2 a violation).</summary>
public sealed record ReportResult(int Passed, int Failed, int ExitCode)
{
    public static ReportResult Of(IReadOnlyList<CellResult> cells)
    {
        int failed = cells.Count(c => c.Skipped is null && c.Violations.Count > 0);
        int passed = cells.Count(c => c.Skipped is null && c.Violations.Count == 0);
        return new ReportResult(passed, failed, failed > 0 ? Program.ExitViolation : Program.ExitOk);
    }
}

/// <summary>One cell of a report.</summary>
public sealed record ReportCell
{
    public int Ordinal { get; init; }
    public required string Variant { get; init; }
    public required string Config { get; init; }
    public required string Strategy { get; init; }
    public required string Bound { get; init; }
    public long Schedules { get; init; }
    public long Steps { get; init; }
    public int DistinctTraces { get; init; }
    /// <summary>The distinct trace hashes (hex, ascending), for a strided cell only: a merge counts the distinct traces of its parts from them.</summary>
    public IReadOnlyList<string>? TraceHashes { get; init; }
    public bool Exhaustive { get; init; }
    public CellStop Stop { get; init; }
    public string? Skipped { get; init; }
    public long MaxHypercallLatencyNs { get; init; }
    /// <summary>True in a shard's report for a strided cell: the shard ran only its share of the schedules.</summary>
    public bool? Partial { get; init; }
    public required IReadOnlyList<ReportViolation> Violations { get; init; }

    public static ReportCell From(CellResult c, bool strided) => new()
    {
        Ordinal = c.Ordinal,
        Variant = c.Variant,
        Config = c.Config,
        Strategy = c.Strategy,
        Bound = c.Bound,
        Schedules = c.Schedules,
        Steps = c.Steps,
        DistinctTraces = c.DistinctTraces,
        TraceHashes = strided ? c.TraceHashes.Select(h => h.ToString("x16", CultureInfo.InvariantCulture)).ToArray() : null,
        Exhaustive = c.Exhaustive,
        Stop = c.Stop,
        Skipped = c.Skipped,
        MaxHypercallLatencyNs = c.MaxHypercallLatencyNs,
        Partial = c.Partial ? true : null,
        Violations = c.Violations.Select(v => new ReportViolation(v.Violation.Invariant, v.Violation.Message, v.Violation.Step, v.Violation.TimeNs, v.Schedule, v.Token.Encode())).ToArray(),
    };

    /// <summary>The cell as the matrix prints it (no wall-clock time: a report has none).</summary>
    public CellResult ToCellResult()
    {
        var hashes = (TraceHashes ?? Array.Empty<string>()).Select(h => ulong.TryParse(h, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong v)
            ? v : throw new InvalidDataException($"cell {Ordinal}: '{h}' is not a trace hash")).ToArray();
        var violations = Violations.Select(v => new FoundViolation(new Violation(v.Invariant, v.Message, v.Step, v.TimeNs), v.Schedule, 0,
            ReplayToken.TryDecode(v.Token, out var t, out string error) ? t! : throw new InvalidDataException($"cell {Ordinal}: {error}"))).ToArray();
        return new CellResult(Variant, Config, Strategy, Bound, Schedules, Steps, 0, DistinctTraces, Exhaustive, violations, MaxHypercallLatencyNs, Skipped, Stop)
        {
            Ordinal = Ordinal,
            TraceHashes = hashes,
            Partial = Partial == true,
        };
    }
}

/// <summary>The first schedule that broke an invariant in a cell, with the token that replays it.</summary>
public sealed record ReportViolation(string Invariant, string Message, long Step, long TimeNs, long Schedule, string Token);
