// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Linq;
using XenPreempt.Harness.Exploration;

namespace XenPreempt.Harness.Agreement;

/// <summary>How hard the dynamic half looks. Iteration-bounded only (no time limit), so the matrix is the same on any machine.</summary>
public sealed record AgreementOptions
{
    /// <summary>Rows: variants, <c>ours~mutant</c>s; each historical variant also gets a <c>+fixes</c> row when <see cref="IncludeFixes"/>.</summary>
    public IReadOnlyList<string> Variants { get; init; } = Array.Empty<string>();
    public IReadOnlyList<KernelConfig> Configs { get; init; } = KernelConfigs.All;
    public bool IncludeFixes { get; init; } = true;
    public int PreemptionBound { get; init; } = 2;
    public int MaxInjections { get; init; } = 1;
    /// <summary>DFS schedules per variant and runtime configuration, over its levels (injections, then bound).</summary>
    public long DfsIterations { get; init; } = 100;
    /// <summary>PCT schedules per variant and runtime configuration, after dfs.</summary>
    public long PctIterations { get; init; } = 50;
    public int PctDepth { get; init; } = 3;
    public ulong Seed { get; init; } = 1;

    /// <summary>The parameters as the command-line options that reproduce them.</summary>
    public string CommandLine => $"--preemption-bound {PreemptionBound} --max-injections {MaxInjections} --dfs-iterations {DfsIterations} --pct-iterations {PctIterations} --pct-depth {PctDepth} --seed {Seed}";
}

/// <summary>
/// A column of the matrix: one build of the port, i.e. one set of Kconfig symbols. A PREEMPT_DYNAMIC
/// build runs in several modes (<c>preempt=</c> is data, not a symbol), so its runtime half is every
/// runtime configuration with those symbols — the analyzers see the build, and the build runs in all of them.
/// </summary>
public sealed record BuildColumn(string Name, IReadOnlyList<KernelConfig> Runs)
{
    public IReadOnlyList<string> Symbols => Runs[0].Symbols;

    public static IReadOnlyList<BuildColumn> Of(IEnumerable<KernelConfig> configs) =>
        configs.GroupBy(c => string.Join(";", c.Symbols), StringComparer.Ordinal)
            .Select(g => new BuildColumn(NameOf(g.First()), g.ToArray()))
            .ToArray();

    private static string NameOf(KernelConfig c) => !c.IsDynamic ? c.Name
        : c.Symbols.Contains("CONFIG_HAVE_PREEMPT_DYNAMIC_KEY") ? "dynamic-key" : "dynamic";

    /// <summary>The modes one runtime configuration of this build boots in, for the matrix: "full" for dynamic-full.</summary>
    public string ModeOf(KernelConfig run) => Runs.Count == 1 ? run.Name : run.BootPreempt;
}

/// <summary>The first schedule in which one invariant broke, in one runtime configuration.</summary>
public sealed record DynamicFinding(string Invariant, string Config, string Mode, string Strategy, long Schedule, string Message, string Token);

public static class Verdicts
{
    public const string Agree = "agree", StaticOnly = "static-only", DynamicOnly = "dynamic-only", Both = "static-only+dynamic-only", Unsupported = "unsupported";
}

/// <summary>One cell: a row (variant, mutant, or variant after fixes) under one build.</summary>
public sealed record AgreementCell(
    string Row,
    string Build,
    IReadOnlyList<StaticFinding> Findings,
    IReadOnlyList<DynamicFinding> Violations,
    IReadOnlyList<string> StaticOnly,
    IReadOnlyList<string> DynamicOnly,
    long Schedules,
    string? Skipped)
{
    public IReadOnlyList<string> Rules => Findings.Select(f => f.Rule).Distinct().OrderBy(r => r, StringComparer.Ordinal).ToArray();
    public IReadOnlyList<string> Invariants => Violations.Select(v => v.Invariant).Distinct().OrderBy(i => i, StringComparer.Ordinal).ToArray();

    public string Verdict => Skipped is not null ? Verdicts.Unsupported
        : StaticOnly.Count > 0 && DynamicOnly.Count > 0 ? Verdicts.Both
        : StaticOnly.Count > 0 ? Verdicts.StaticOnly
        : DynamicOnly.Count > 0 ? Verdicts.DynamicOnly
        : Verdicts.Agree;

    public bool Disagrees => Verdict is Verdicts.StaticOnly or Verdicts.DynamicOnly or Verdicts.Both;
}

/// <summary>A pragma of the port and the builds in which the analyzers produce the diagnostic it suppresses.</summary>
public sealed record PragmaLiveness(PragmaSpan Pragma, IReadOnlyList<string> LiveIn);

/// <summary>What the code fixes did under one build.</summary>
public sealed record FixSummary(string Build, IReadOnlyList<string> Applied, IReadOnlyCollection<string> WithoutFix);

public sealed record AgreementResult(
    AgreementOptions Options,
    IReadOnlyList<BuildColumn> Columns,
    IReadOnlyList<string> Rows,
    IReadOnlyList<AgreementCell> Cells,
    IReadOnlyList<PragmaLiveness> Pragmas,
    IReadOnlyList<(string Build, StaticFinding Finding)> Unsuppressed,
    IReadOnlyList<FixSummary> Fixes)
{
    public AgreementCell Cell(string row, string build) => Cells.Single(c => c.Row == row && c.Build == build);
}

/// <summary>
/// The static ⇄ dynamic agreement check (issue 7): for each variant × build, the analyzers on the
/// build's compilation and the explorer (dfs to the bound, then pct) on the same build, related by
/// <see cref="Pairing"/>.
/// </summary>
public static class AgreementCheck
{
    /// <summary>
    /// The directed scenario run once per cell beside exploration: c1, whose race needs a breakpoint at one
    /// instruction and an interrupt on the other CPU at once — deep in dfs order (schedule 1,556 of the
    /// standard workload), one scripted run. The other PV scenarios' bugs are found by exploration itself.
    /// </summary>
    public static readonly IReadOnlyList<Scenario> DirectedScenarios = new[] { Scenarios.Find("c1")! };

    public static IReadOnlyList<string> DefaultVariants() =>
        PortBuilder.Get(KernelConfigs.All[0]).Variants.Select(v => v.Name).Concat(Mutants.All.Select(m => m.Variant)).ToArray();

    public static bool IsHistorical(string variant) => variant != "ours" && VariantName.Split(variant).IsPlain;

    public static AgreementResult Run(AgreementOptions o, Action<string>? progress = null)
    {
        var variants = o.Variants.Count > 0 ? o.Variants : DefaultVariants();
        var rows = variants.SelectMany(v => o.IncludeFixes && IsHistorical(v) ? new[] { v, v + PortBuilder.FixesSuffix } : new[] { v }).ToArray();
        var columns = BuildColumn.Of(o.Configs);
        var cells = new List<AgreementCell>();
        var fixes = new List<FixSummary>();
        var allFindings = new List<(string Build, StaticFinding Finding)>();
        IReadOnlyList<PragmaSpan>? pragmas = null;

        foreach (var column in columns)
        {
            var config = column.Runs[0];
            var compilation = PortBuilder.CreateCompilation(config);
            pragmas ??= StaticAnalysis.Pragmas(compilation);
            var findings = StaticAnalysis.AnalyzeAsync(compilation).GetAwaiter().GetResult();
            allFindings.AddRange(findings.Select(f => (column.Name, f)));
            if (o.IncludeFixes)
            {
                var port = PortBuilder.FixedSources(config);
                fixes.Add(new FixSummary(column.Name, port.Applied, port.WithoutFix));
            }
            foreach (var row in rows)
            {
                progress?.Invoke($"{row} / {column.Name}");
                var unfixed = VariantName.Split(row).AfterFixes && FixesLeftCodeAlone(row, config)
                    ? cells.Single(c => c.Build == column.Name && c.Row == Mutants.Parse(row).Variant)
                    : null;
                cells.Add(RunCell(o, row, column, findings, unfixed));
            }
        }

        var liveness = (pragmas ?? Array.Empty<PragmaSpan>())
            .Select(p => new PragmaLiveness(p, allFindings.Where(f => p.Covers(f.Finding)).Select(f => f.Build).Distinct().ToArray()))
            .ToArray();
        var unsuppressed = allFindings.Where(f => !f.Finding.Suppressed).ToArray();
        return new AgreementResult(o, columns, rows, cells, liveness, unsuppressed, fixes);
    }

    /// <summary>
    /// Whether the fixes changed nothing the row runs: its own files and the shared kernel (other variants'
    /// files are reached only through their ops, which this row never selects). Then the fixed row's
    /// schedules are the unfixed row's, and exploring them again would only repeat it.
    /// </summary>
    private static bool FixesLeftCodeAlone(string row, KernelConfig config)
    {
        var original = PortBuilder.Get(config);
        var own = StaticAnalysis.FilesOf(original, original.Compilation, Mutants.Parse(row).Variant);
        var fixedText = PortBuilder.FixedSources(config).Sources.ToDictionary(s => s.Path, s => s.Text, StringComparer.Ordinal);
        return PortBuilder.PortSources
            .Where(s => own.Contains(s.Path) || !CodeFixApplier.IsVariant(s.Path))
            .All(s => fixedText.TryGetValue(s.Path, out var text) && text == (CodeFixApplier.IsVariant(s.Path) ? CodeFixApplier.WithoutPragmas(s.Text) : s.Text));
    }

    private static AgreementCell RunCell(AgreementOptions o, string row, BuildColumn column, IReadOnlyList<StaticFinding> buildFindings, AgreementCell? sameCode)
    {
        var boot = Mutants.Parse(row).Variant;
        var runs = column.Runs.Where(c => KernelConfigs.Supports(boot, c)).ToArray();
        if (runs.Length == 0)
            return new AgreementCell(row, column.Name, Array.Empty<StaticFinding>(), Array.Empty<DynamicFinding>(), Array.Empty<string>(), Array.Empty<string>(), 0,
                KernelConfigs.UnsupportedReason(boot));

        var findings = StaticFindingsOf(row, column, buildFindings);
        var violations = new List<DynamicFinding>(sameCode?.Violations ?? Array.Empty<DynamicFinding>());
        long schedules = sameCode?.Schedules ?? 0;
        foreach (var run in sameCode is null ? runs : Array.Empty<KernelConfig>())
            foreach (var (strategy, iterations) in new[] { ("dfs", o.DfsIterations), ("pct", o.PctIterations) })
            {
                var cell = Explorer.Run(new ExploreOptions
                {
                    Variants = new[] { row },
                    Configs = new[] { run },
                    Strategies = new[] { strategy },
                    PreemptionBound = o.PreemptionBound,
                    MaxInjections = o.MaxInjections,
                    PctDepth = o.PctDepth,
                    Seed = o.Seed,
                    Iterations = iterations,
                    TimeLimitSeconds = double.MaxValue,
                }).Single();
                schedules += cell.Schedules;
                foreach (var f in cell.Violations)
                    if (!violations.Any(v => v.Invariant == f.Violation.Invariant && v.Config == run.Name))
                        violations.Add(new DynamicFinding(f.Violation.Invariant, run.Name, column.ModeOf(run), strategy, f.Schedule, f.Violation.Message, f.Token.Encode()));
            }
        // The directed scenarios too: one scripted run each reaches what exploration's budget may not
        // (c1's race needs a breakpoint at one instruction and an interrupt on the other CPU at once).
        foreach (var run in sameCode is null ? runs : Array.Empty<KernelConfig>())
            foreach (var scenario in DirectedScenarios)
            {
                var r = ScenarioRunner.Run(scenario, boot, run, build: PortBuilder.ForVariant(run, row));
                schedules++;
                foreach (var v in r.Violations)
                    if (!violations.Any(x => x.Invariant == v.Invariant && x.Config == run.Name))
                        violations.Add(new DynamicFinding(v.Invariant, run.Name, column.ModeOf(run), "scenario " + scenario.Name, 1, v.Message,
                            $"scenario {scenario.Name} --variant {boot} --config {run.Name}"));
            }

        var rules = findings.Select(f => f.Rule).Distinct().ToArray();
        var invariants = violations.Select(v => v.Invariant).Distinct().ToArray();
        var staticOnly = rules.Where(r => !Pairing.InvariantsOf(r).Intersect(invariants).Any()).OrderBy(r => r, StringComparer.Ordinal).ToArray();
        var dynamicOnly = invariants.Where(i => !Pairing.RulesOf(i).Intersect(rules).Any()).OrderBy(i => i, StringComparer.Ordinal).ToArray();
        return new AgreementCell(row, column.Name, findings, violations, staticOnly, dynamicOnly, schedules, null);
    }

    /// <summary>
    /// The row's findings: those in the files whose code the variant runs. A mutant or a fixed port is a
    /// different compilation, analysed on its own.
    /// </summary>
    private static IReadOnlyList<StaticFinding> StaticFindingsOf(string row, BuildColumn column, IReadOnlyList<StaticFinding> buildFindings)
    {
        var config = column.Runs[0];
        var boot = Mutants.Parse(row).Variant;
        var build = PortBuilder.ForVariant(config, row);
        var findings = row == boot ? buildFindings : StaticAnalysis.AnalyzeAsync(build.Compilation).GetAwaiter().GetResult();
        var files = StaticAnalysis.FilesOf(build, build.Compilation, boot);
        return findings.Where(f => files.Contains(f.File)).ToArray();
    }
}
