// SPDX-License-Identifier: MIT
using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.IO;
using System.Linq;
using XenPreempt.Harness.Agreement;

namespace XenPreempt.Harness;

/// <summary>The agreement command: the static ⇄ dynamic matrix, printed and written as docs/agreement.md.</summary>
public static partial class Program
{
    private static Command AgreementCommand(TextWriter stdout, TextWriter stderr)
    {
        var variants = OneOf(new Option<string[]>("--variant") { Description = "Rows (default: every variant and every mutant of our fix).", AllowMultipleArgumentsPerToken = true },
            AgreementCheck.DefaultVariants());
        var configs = OneOf(new Option<string[]>("--config") { Description = "Runtime configurations (default: all; grouped into builds by their Kconfig symbols).", AllowMultipleArgumentsPerToken = true },
            KernelConfigs.All.Select(c => c.Name).ToArray());
        var noFixes = new Option<bool>("--no-fixes") { Description = "Leave out the rows of the historical variants after the analyzers' code fixes." };
        var defaults = new AgreementOptions();
        var bound = IntOption("--preemption-bound", "DFS preemption bound (default 2).", defaults.PreemptionBound, 0, int.MaxValue);
        var injections = IntOption("--max-injections", "Device events and breakpoints the oracle may inject, each (default 1).", defaults.MaxInjections, 0, int.MaxValue);
        var dfs = LongOption("--dfs-iterations", $"DFS schedules per variant and runtime configuration (default {defaults.DfsIterations}).", defaults.DfsIterations, 0);
        var pct = LongOption("--pct-iterations", $"PCT schedules per variant and runtime configuration (default {defaults.PctIterations}).", defaults.PctIterations, 0);
        var depth = IntOption("--pct-depth", "PCT depth d (default 3).", defaults.PctDepth, 1, 100);
        var seed = SeedOption("Seed for pct (default 1).", defaults.Seed);
        var write = new Option<FileInfo?>("--write") { Description = "Write the matrix as Markdown to this file (docs/agreement.md)." };
        var check = new Option<FileInfo?>("--check") { Description = "Compare the matrix with this file (docs/agreement.md); exit 2 if it differs." };

        var cmd = new Command("agreement",
            "Static ⇄ dynamic agreement: the analyzers and the explorer on the same builds of the port; print the matrix " +
            "(variant × build: rules fired, invariants violated, verdict). Exit 2 if a disagreement is unexplained, a pragma " +
            "suppresses nothing, an XPA diagnostic is unsuppressed, or --check finds a difference.");
        foreach (var o in new Option[] { variants, configs, noFixes, bound, injections, dfs, pct, depth, seed, write, check })
            cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            var options = new AgreementOptions
            {
                Variants = pr.GetValue(variants) ?? Array.Empty<string>(),
                Configs = pr.GetValue(configs) is { Length: > 0 } c ? c.Select(n => KernelConfigs.Find(n)!).ToArray() : KernelConfigs.All,
                IncludeFixes = !pr.GetValue(noFixes),
                PreemptionBound = pr.GetValue(bound),
                MaxInjections = pr.GetValue(injections),
                DfsIterations = pr.GetValue(dfs),
                PctIterations = pr.GetValue(pct),
                PctDepth = pr.GetValue(depth),
                Seed = pr.GetValue(seed),
            };
            return RunAgreement(pr, stdout, stderr, options, pr.GetValue(write), pr.GetValue(check));
        });
        return cmd;
    }

    private static int RunAgreement(ParseResult pr, TextWriter o, TextWriter err, AgreementOptions options, FileInfo? write, FileInfo? check)
    {
        if (check is not null && !check.Exists)
            return UsageError(pr, err, $"--check: no such file '{check.FullName}' (the committed matrix, docs/agreement.md)");
        // Refuse a place the file cannot go before spending minutes on the matrix.
        if (write is not null && (Directory.Exists(write.FullName) || (write.Directory is { } parent && File.Exists(parent.FullName))))
            return UsageError(pr, err, $"--write: '{write.FullName}' is not a file path that can be written (a directory, or under a file)");
        var clock = Stopwatch.StartNew();
        AgreementResult result;
        try
        {
            result = AgreementCheck.Run(options, progress: p => err.WriteLine($"[{clock.Elapsed:mm\\:ss}] {p}"));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            err.WriteLine($"xen-harness: internal error: {e.GetType().Name}: {e.Message}");
            return ExitInternal;
        }
        var report = AgreementReport.Evaluate(result);
        AgreementReport.WriteText(o, result, report);
        o.WriteLine($"agreement: {result.Cells.Count(c => !c.Disagrees)} cells agree, {report.Explained.Count} explained disagreements, {report.Problems.Count} problems ({clock.Elapsed.TotalSeconds:F0} s)");
        string markdown = AgreementReport.Markdown(result, report);
        if (write is not null)
        {
            write.Directory?.Create();
            File.WriteAllText(write.FullName, markdown);
            o.WriteLine($"wrote {write.FullName}");
        }
        int exit = report.Problems.Count > 0 ? ExitViolation : ExitOk;
        if (check is not null)
        {
            var committed = File.ReadAllText(check.FullName).Replace("\r\n", "\n");
            if (committed != markdown)
            {
                o.WriteLine($"{check.FullName} differs from the matrix just computed; regenerate it with: xen-harness agreement --write {check.Name}");
                exit = ExitViolation;
            }
            else
                o.WriteLine($"{check.FullName} is up to date");
        }
        return exit;
    }
}
