// SPDX-License-Identifier: MIT
using System;
using System.IO;
using System.Linq;
using XenPreempt.Harness.Agreement;
using Xunit;

namespace XenPreempt.Harness.Tests;

/// <summary>The matrix is computed once (with the default, CI-sized budget) and shared by the tests below.</summary>
public sealed class AgreementFixture
{
    public AgreementFixture()
    {
        Result = AgreementCheck.Run(new AgreementOptions());
        Evaluation = AgreementReport.Evaluate(Result);
        Markdown = AgreementReport.Markdown(Result, Evaluation);
    }

    public AgreementResult Result { get; }
    public AgreementEvaluation Evaluation { get; }
    public string Markdown { get; }
}

/// <summary>Issue 7: the static ⇄ dynamic agreement check, on every variant × build.</summary>
public sealed class AgreementTests : IClassFixture<AgreementFixture>
{
    private readonly AgreementFixture _m;

    public AgreementTests(AgreementFixture fixture) => _m = fixture;

    private static string RepositoryFile(params string[] parts)
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "XenPreemptAnalyzers.sln")))
            dir = Path.GetDirectoryName(dir);
        return Path.Combine(new[] { dir ?? throw new InvalidOperationException("XenPreemptAnalyzers.sln not found") }.Concat(parts).ToArray());
    }

    [Fact]
    public void Every_disagreement_is_explained_and_every_explanation_is_used()
    {
        Assert.True(_m.Evaluation.Problems.Count == 0, "agreement problems:\n" + string.Join("\n", _m.Evaluation.Problems));
        Assert.NotEmpty(_m.Evaluation.Explained);
    }

    [Fact]
    public void The_committed_docs_agreement_md_is_what_the_check_computes()
    {
        var committed = File.ReadAllText(RepositoryFile("docs", "agreement.md")).Replace("\r\n", "\n");
        if (committed != _m.Markdown)
        {
            var fresh = Path.Combine(Path.GetTempPath(), "agreement.computed.md");
            File.WriteAllText(fresh, _m.Markdown);
            Assert.Fail($"docs/agreement.md differs from the computed matrix (written to {fresh}); regenerate it: " +
                "dotnet run --project src/XenPreempt.Harness -- agreement --write docs/agreement.md");
        }
    }

    [Fact]
    public void Our_fix_has_no_rule_and_no_violation_in_any_build()
    {
        var ours = _m.Result.Cells.Where(c => c.Row == "ours").ToArray();
        Assert.Equal(_m.Result.Columns.Count, ours.Length);
        Assert.All(ours, c =>
        {
            Assert.Null(c.Skipped);
            Assert.Empty(c.Findings);
            Assert.Empty(c.Violations);
            Assert.True(c.Schedules > 0);
        });
    }

    [Fact]
    public void Every_pragma_suppresses_a_live_diagnostic_in_some_build_and_nothing_is_unsuppressed()
    {
        Assert.NotEmpty(_m.Result.Pragmas);
        Assert.All(_m.Result.Pragmas, p => Assert.True(p.LiveIn.Count > 0, $"{p.Pragma} suppresses nothing in any build"));
        Assert.True(_m.Result.Unsuppressed.Count == 0, "unsuppressed XPA diagnostics:\n" + string.Join("\n", _m.Result.Unsuppressed.Select(u => $"{u.Build}: {u.Finding}")));
    }

    [Fact]
    public void The_fixes_turn_each_historical_row_clean_wherever_a_fix_is_offered()
    {
        // Whatever a +fixes row still shows is a finding no fix was offered for, or a runtime bug in code the
        // fixes cannot reach; both must be explained (Every_disagreement_is_explained…). Here: the fixes did
        // something, and every rule left after them is one no provider offered a fix for.
        Assert.Contains(_m.Result.Fixes, f => f.Applied.Count > 0);
        foreach (var cell in _m.Result.Cells.Where(c => c.Row.EndsWith(PortBuilder.FixesSuffix, StringComparison.Ordinal) && c.Skipped is null))
        {
            var withoutFix = _m.Result.Fixes.Single(f => f.Build == cell.Build).WithoutFix;
            Assert.All(cell.Findings, f => Assert.Contains(withoutFix, w => w.StartsWith(f.File + ": " + f.Rule + ":", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public void Each_historical_bug_is_seen_by_both_halves_somewhere()
    {
        // The check is not vacuous: the known bugs agree where they exist.
        Assert.Equal(Verdicts.Agree, _m.Result.Cell("june2023", "dynamic").Verdict);
        Assert.Contains("XPA0001", _m.Result.Cell("june2023", "dynamic").Rules);
        Assert.Contains("flag-owner", _m.Result.Cell("june2023", "dynamic").Invariants);
        Assert.Contains("sched-context", _m.Result.Cell("fdfd811ddde3", "none").Invariants);
        Assert.Contains("XPA0006", _m.Result.Cell("fdfd811ddde3", "none").Rules);
        Assert.Equal(Verdicts.Agree, _m.Result.Cell("ours~patchable", "dynamic").Verdict);
        Assert.Contains("hcall-latency", _m.Result.Cell("ours~patchable", "dynamic").Invariants);
        Assert.Contains("region-open", _m.Result.Cell("ours~open-region", "full").Invariants);
        Assert.Contains("XPA0005", _m.Result.Cell("ours~open-region", "full").Rules);
    }
}
