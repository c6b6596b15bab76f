// SPDX-License-Identifier: MIT
using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using XenPreempt.Harness.Exploration;

namespace XenPreempt.Harness;

/// <summary>explore --shard, and the merge command that joins the shards' reports.</summary>
public static partial class Program
{
    private const string MergeDescription = "Join the reports of explore --shard i/n --report-dir <dir> into the matrix and exit code of the unsharded run " +
        "(0: no violation, or with --check the history matched; 1: usage, or reports that are not all the shards of one run; 2: a violation, or with --check the history differs; " +
        "3: a cell stopped by --time-limit under --check/--write-history). --report-dir/--out write the merged report.json, byte for byte the unsharded run's.";

    /// <summary>--shard i/n: refused at parse time unless 1 ≤ i ≤ n.</summary>
    internal static Option<ShardSpec?> ShardOption()
    {
        var o = new Option<ShardSpec?>("--shard")
        {
            Description = "Run shard i of n (1 ≤ i ≤ n) of the schedule space; the n shards are disjoint and together exactly the unsharded run. Write each shard's --report-dir and join them with 'merge'.",
            HelpName = "i/n",
        };
        o.CustomParser = r =>
        {
            string text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
            if (ShardSpec.TryParse(text, out var shard, out string error))
                return shard;
            r.AddError(error);
            return null;
        };
        return o;
    }

    private static Command MergeCommand(TextWriter stdout, TextWriter stderr)
    {
        var reports = new Argument<string[]>("reports") { Description = "The shards' report directories (each with its report.json) or report files.", Arity = ArgumentArity.OneOrMore };
        var reportDir = new Option<DirectoryInfo?>("--report-dir") { Description = "Write the merged report.json and one bug-NNNN.trace.json per violation here, as explore --report-dir does.", HelpName = "dir" };
        var outFile = new Option<FileInfo?>("--out") { Description = "Write the merged report.json to this file.", HelpName = "file" };
        var check = new Option<FileInfo?>("--check") { Description = "Compare the merged run with a history file (docs/history.md), as explore --check does.", HelpName = "file" };
        var writeHistory = new Option<FileInfo?>("--write-history") { Description = "Write the merged run's history file, as explore --write-history does.", HelpName = "file" };
        var cmd = new Command("merge", MergeDescription) { reports, reportDir, outFile, check, writeHistory };
        cmd.Validators.Add(r =>
        {
            if (r.GetValue(check) is not null && r.GetValue(writeHistory) is not null)
                r.AddError("give at most one of --check <file> and --write-history <file>");
        });
        cmd.SetAction(pr =>
        {
            ExploreReport merged;
            try
            {
                var named = ReportMerge.ReportFiles(pr.GetValue(reports)!).Select(f => (Name: f, Report: ReadReport(f))).ToArray();
                merged = ReportMerge.Merge(named);
            }
            catch (Exception e) when (e is ReportMergeException or InvalidDataException)
            {
                return UsageError(pr, stderr, $"merge: {OneLine(e.Message)}");
            }
            if (pr.GetValue(reportDir) is DirectoryInfo dir && !TryCreateReportDir(dir, out string problem))
                return UsageError(pr, stderr, problem);
            var options = merged.Run.ToOptions();
            if (!TryReadHistory(pr.GetValue(check), options, out var documented, out string wrong))
                return UsageError(pr, stderr, wrong);
            var cells = merged.Cells.Select(c => c.ToCellResult()).ToArray();
            PrintMatrix(stdout, cells, timed: false);
            if (pr.GetValue(reportDir) is DirectoryInfo target)
                WriteReport(target, merged);
            if (pr.GetValue(outFile) is FileInfo file)
                File.WriteAllText(file.FullName, merged.ToJson());
            return Conclude(stdout, stderr, options, cells, new HistoryMode(pr.GetValue(check), documented, pr.GetValue(writeHistory)));
        });
        return cmd;
    }

    /// <summary>One report, or a <see cref="ReportMergeException"/> naming the file and what is wrong with it.</summary>
    private static ExploreReport ReadReport(string file)
    {
        try
        {
            return ExploreReport.Parse(File.ReadAllText(file));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new ReportMergeException($"cannot read '{file}': {OneLine(e.Message)}");
        }
    }
}
