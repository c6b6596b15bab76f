// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace XenPreempt.Harness.Agreement;

/// <summary>
/// One thing the matrix shows that is not plain agreement — a rule with no runtime twin in a cell
/// (static-only), an invariant with no rule (dynamic-only), or what remains after the code fixes —
/// and the explanation it needs.
/// </summary>
public sealed record Discrepancy(string Row, string Build, string Kind, string What)
{
    public const string StaticOnly = "static-only", DynamicOnly = "dynamic-only", RemainsAfterFixes = "remains after fixes";
}

/// <summary>The verdict on the whole matrix: which discrepancies are explained, and what is wrong.</summary>
public sealed record AgreementEvaluation(
    IReadOnlyList<(Discrepancy Discrepancy, KnownDisagreement Explanation)> Explained,
    IReadOnlyList<string> Problems);

/// <summary>Evaluates the matrix against <see cref="KnownDisagreements"/> and renders it as text and Markdown.</summary>
public static class AgreementReport
{
    public static IEnumerable<Discrepancy> Discrepancies(AgreementResult r)
    {
        foreach (var cell in r.Cells.Where(c => c.Skipped is null))
        {
            foreach (var rule in cell.StaticOnly)
                yield return new Discrepancy(cell.Row, cell.Build, Discrepancy.StaticOnly, rule);
            foreach (var invariant in cell.DynamicOnly)
                yield return new Discrepancy(cell.Row, cell.Build, Discrepancy.DynamicOnly, invariant);
            // After the fixes a row should show nothing at all; what is left, paired or not, needs a reason.
            if (Exploration.VariantName.Split(cell.Row).AfterFixes)
                foreach (var what in cell.Rules.Where(x => !cell.StaticOnly.Contains(x)).Concat(cell.Invariants.Where(x => !cell.DynamicOnly.Contains(x))))
                    yield return new Discrepancy(cell.Row, cell.Build, Discrepancy.RemainsAfterFixes, what);
        }
    }

    public static AgreementEvaluation Evaluate(AgreementResult r)
    {
        var explained = new List<(Discrepancy, KnownDisagreement)>();
        var problems = new List<string>();
        var used = new HashSet<KnownDisagreement>();
        foreach (var d in Discrepancies(r))
        {
            var known = KnownDisagreements.All.FirstOrDefault(k => k.Matches(d));
            if (known is null)
                problems.Add($"unexplained: {d.Row} under {d.Build}: {d.Kind} {d.What}");
            else
            {
                explained.Add((d, known));
                used.Add(known);
            }
        }
        // A full run (every row and build) must use every explanation: a stale one hides nothing but misleads.
        bool fullMatrix = r.Rows.Count == AgreementCheck.DefaultVariants().Count * 2 - AgreementCheck.DefaultVariants().Count(v => !AgreementCheck.IsHistorical(v))
            && r.Columns.Sum(c => c.Runs.Count) == KernelConfigs.All.Count;
        if (fullMatrix)
            foreach (var k in KnownDisagreements.All.Where(k => !used.Contains(k)))
                problems.Add($"stale explanation (matches nothing): {k.Title}");
        foreach (var cell in r.Cells.Where(c => c.Row == "ours" && c.Skipped is null && (c.Findings.Count > 0 || c.Violations.Count > 0)))
            problems.Add($"our fix under {cell.Build}: {string.Join(", ", cell.Rules.Concat(cell.Invariants))}");
        foreach (var p in r.Pragmas.Where(p => p.LiveIn.Count == 0))
            problems.Add($"pragma suppresses nothing in any build: {p.Pragma}");
        foreach (var (build, f) in r.Unsuppressed)
            problems.Add($"unsuppressed diagnostic under {build}: {f}");
        return new AgreementEvaluation(explained, problems);
    }

    private static string Mark(string verdict) => verdict switch
    {
        Verdicts.Agree => "agree",
        Verdicts.Unsupported => "n/a",
        _ => verdict,
    };

    /// <summary>A cell in one line: rules fired / invariants violated (with the modes of a dynamic build) → verdict.</summary>
    public static string CellText(AgreementCell c)
    {
        if (c.Skipped is not null)
            return "n/a";
        string rules = c.Rules.Count == 0 ? "–" : string.Join(" ", c.Rules);
        string invariants = c.Invariants.Count == 0 ? "–" : string.Join(" ", c.Invariants.Select(i =>
        {
            var modes = c.Violations.Where(v => v.Invariant == i).OrderBy(v => ConfigOrder(v.Config)).Select(v => v.Mode).Distinct().ToArray();
            return c.Violations.Select(v => v.Mode).Distinct().Count() > 0 && modes.Length > 0 && modes[0] != c.Build ? $"{i}({string.Join(",", modes)})" : i;
        }));
        return $"{rules} / {invariants} → {Mark(c.Verdict)}";
    }

    public static void WriteText(TextWriter o, AgreementResult r, AgreementEvaluation e)
    {
        o.WriteLine("rules fired / invariants violated → verdict, per variant (rows) and build (columns)");
        foreach (var column in r.Columns)
        {
            o.WriteLine();
            o.WriteLine("build " + DescribeBuild(column).Replace("`", "", StringComparison.Ordinal));
            foreach (var row in r.Rows)
                o.WriteLine($"  {row,-30} {CellText(r.Cell(row, column.Name))}");
        }
        o.WriteLine();
        foreach (var p in e.Problems)
            o.WriteLine("PROBLEM " + p);
    }

    public static string Markdown(AgreementResult r, AgreementEvaluation e)
    {
        var inv = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.Append("# Static ⇄ dynamic agreement\n\n");
        s.Append("<!-- Generated by `xen-harness agreement --write docs/agreement.md`; a test regenerates it and fails if this file differs. Edit the explanations in src/XenPreempt.Harness/Agreement/, not here. -->\n\n");
        s.Append("The port's variants are both the analyzers' input and the harness's program. For each variant and each **build** ");
        s.Append("(one set of Kconfig symbols), the analyzers run in memory on the exact compilation the harness loads, suppressed diagnostics ");
        s.Append("included; the explorer runs the same build (dfs to the preemption bound, then pct) in every runtime configuration of that ");
        s.Append("build — a PREEMPT_DYNAMIC build runs in every `preempt=` mode, which is data, not a symbol. A rule and an invariant agree ");
        s.Append("when they are twins (the pairing below): a rule that fires predicts its invariant broken in some schedule of the build, and ");
        s.Append("a broken invariant predicts its rule on the variant's code.\n\n");
        s.Append($"Parameters: `{r.Options.CommandLine}` (schedules are counted, not timed: the matrix is the same on any machine).\n\n");

        s.Append("## Matrix\n\n");
        s.Append("Each cell: rules fired / invariants violated (modes of a dynamic build in which it broke) → verdict. ");
        s.Append("`name+fixes` is the variant after every code fix the analyzers offer under that build; `ours~name` a seeded mutant of our fix.\n\n");
        s.Append("| variant | " + string.Join(" | ", r.Columns.Select(c => c.Name)) + " |\n");
        s.Append("|---|" + string.Concat(r.Columns.Select(_ => "---|")) + "\n");
        foreach (var row in r.Rows)
            s.Append($"| `{row}` | " + string.Join(" | ", r.Columns.Select(c => CellText(r.Cell(row, c.Name)))) + " |\n");
        s.Append('\n');
        s.Append("Builds: " + string.Join("; ", r.Columns.Select(DescribeBuild)) + ". Every build also has CONFIG_XEN_PV, CONFIG_XEN_DOM0 and " +
            "CONFIG_DEBUG_ATOMIC_SLEEP; the preemptible ones CONFIG_PREEMPTION and CONFIG_DEBUG_PREEMPT.\n\n");

        s.Append("## Disagreements, explained\n\n");
        if (e.Explained.Count == 0)
            s.Append("None.\n\n");
        foreach (var group in e.Explained.GroupBy(x => x.Explanation))
        {
            var k = group.Key;
            s.Append($"### {k.Title}\n\n");
            s.Append("Cells: " + string.Join(", ", group.Select(x => $"`{x.Discrepancy.Row}` × `{x.Discrepancy.Build}` ({x.Discrepancy.Kind} {x.Discrepancy.What})")) + ".\n\n");
            s.Append($"**Why.** {k.Reason}\n\n");
            s.Append($"**What would close it.** {k.WouldClose}\n\n");
        }
        if (e.Problems.Count > 0)
        {
            s.Append("## Problems\n\n");
            foreach (var p in e.Problems)
                s.Append($"- {p}\n");
            s.Append('\n');
        }

        s.Append("## Pairing of rules and invariants\n\n| rule | invariant | why they are twins |\n|---|---|---|\n");
        foreach (var p in Pairing.Pairs)
            s.Append($"| {p.Rule} | `{p.Invariant}` | {p.Reason} |\n");
        s.Append('\n');
        foreach (var u in Pairing.UnpairedInvariants)
            s.Append($"- Invariant `{u.Name}`, unpaired: {u.Reason}\n");
        s.Append(Pairing.UnpairedRules.Count == 0 ? "- Every rule has at least one twin.\n\n" : string.Concat(Pairing.UnpairedRules.Select(u => $"- Rule {u.Name}, unpaired: {u.Reason}\n")) + "\n");

        s.Append("## Pragma liveness\n\nEvery `#pragma warning disable XPA…` in the port, and the builds in which the analyzers produce the diagnostic it suppresses ");
        s.Append($"(no XPA diagnostic is unsuppressed in any build: {(r.Unsuppressed.Count == 0 ? "none found" : r.Unsuppressed.Count.ToString(inv) + " found")}).\n\n");
        s.Append("| pragma | live in |\n|---|---|\n");
        foreach (var p in r.Pragmas)
            s.Append($"| `{p.Pragma.File}({p.Pragma.Line})` {p.Pragma.Rule} | {(p.LiveIn.Count == 0 ? "**nowhere**" : string.Join(", ", p.LiveIn))} |\n");
        s.Append('\n');

        if (r.Fixes.Count > 0)
        {
            s.Append("## The code fixes applied, per build\n\n");
            foreach (var f in r.Fixes)
            {
                s.Append($"- `{f.Build}`: {(f.Applied.Count == 0 ? "nothing to fix" : f.Applied.Count.ToString(inv) + " fixes")}" +
                    (f.WithoutFix.Count == 0 ? "" : $"; no fix offered for {f.WithoutFix.Count.ToString(inv)}") + "\n");
                foreach (var a in f.Applied)
                    s.Append($"  - {Trim(a)}\n");
                foreach (var w in f.WithoutFix)
                    s.Append($"  - no fix: {Trim(w)}\n");
            }
            s.Append('\n');
        }
        return s.ToString();
    }

    private static int ConfigOrder(string name) => KernelConfigs.All.Select(c => c.Name).ToList().IndexOf(name);

    private static string ModelSymbols(BuildColumn c) =>
        string.Join(" ", c.Symbols.Where(x => x.StartsWith("CONFIG_PREEMPT", StringComparison.Ordinal) || x.Contains("DYNAMIC", StringComparison.Ordinal)));

    private static string DescribeBuild(BuildColumn c) =>
        $"`{c.Name}` = {ModelSymbols(c)}" + (c.Runs.Count > 1 ? " (runs " + string.Join(", ", c.Runs.Select(x => x.Name)) + ")" : "");

    private static string Trim(string line) => line.Replace("|", "\\|", StringComparison.Ordinal);
}
