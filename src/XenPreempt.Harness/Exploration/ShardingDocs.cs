// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace XenPreempt.Harness.Exploration;

/// <summary>
/// The "sharding" block of docs/harness.md: a small run split into three shards and merged, made by
/// running exactly the commands it shows (in a scratch directory), so the block cannot drift.
/// </summary>
internal static class ShardingDocs
{
    private static readonly string[] Run = { "explore", "--variant", "4624a14f4daa", "ours", "--config", "dynamic-none", "--strategy", "dfs", "pct", "random", "--iterations", "60" };

    public static string Generate()
    {
        var scratch = Directory.CreateTempSubdirectory("xen-harness-docs-");
        try
        {
            // The commands run with the scratch directory's paths and are shown with the names alone
            // (nothing they print names a path).
            string In(string name) => Path.Combine(scratch.FullName, name);
            var sb = new StringBuilder("```\n");
            for (int i = 1; i <= 3; i++)
            {
                var (code, output) = Cli(Run.Concat(new[] { "--shard", $"{i}/3", "--report-dir", In($"shard-{i}") }));
                sb.Append("$ xen-harness ").Append(string.Join(' ', Run)).Append($" --shard {i}/3 --report-dir shard-{i}\n");
                foreach (var line in output.Split('\n').Where(l => l.StartsWith("shard ", StringComparison.Ordinal) || l.StartsWith("harness:", StringComparison.Ordinal)))
                    sb.Append(line).Append('\n');
                sb.Append($"(exit {code})\n");
            }
            var (mergeCode, merged) = Cli(new[] { "merge", In("shard-1"), In("shard-2"), In("shard-3"), "--report-dir", In("merged") });
            sb.Append("$ xen-harness merge shard-1 shard-2 shard-3 --report-dir merged\n");
            // The matrix, each violation's headline and token, and the tally; the trace tables under
            // each violation are what `replay --token` prints.
            foreach (var line in merged.Split('\n').Where(l => !l.StartsWith("  ", StringComparison.Ordinal) || l.StartsWith("  token", StringComparison.Ordinal)))
                sb.Append(line).Append('\n');
            sb.Append($"(exit {mergeCode})\n");
            var (wholeCode, _) = Cli(Run.Concat(new[] { "--report-dir", In("whole") }));
            if (wholeCode != mergeCode)
                throw new InvalidOperationException($"the merge exits {mergeCode}, the unsharded run {wholeCode}");
            bool same = File.ReadAllBytes(Path.Combine(In("merged"), "report.json")).SequenceEqual(File.ReadAllBytes(Path.Combine(In("whole"), "report.json")));
            if (!same)
                throw new InvalidOperationException("the merged report differs from the unsharded run's");
            sb.Append("$ xen-harness ").Append(string.Join(' ', Run)).Append(" --report-dir whole\n").Append($"(exit {wholeCode})\n");
            sb.Append("$ cmp whole/report.json merged/report.json && echo same\n");
            sb.Append("same\n```\n");
            return string.Join('\n', sb.ToString().Split('\n').Select(l => l.TrimEnd()));
        }
        finally
        {
            scratch.Delete(true);
        }
    }

    private static (int Code, string Output) Cli(IEnumerable<string> args)
    {
        var o = new StringWriter { NewLine = "\n" };
        var e = new StringWriter { NewLine = "\n" };
        int code = Program.Run(args.ToArray(), o, e);
        if (code is Program.ExitUsage or Program.ExitInternal)
            throw new InvalidOperationException($"xen-harness {string.Join(' ', args)} exited {code}: {e}");
        return (code, o.ToString().Replace("\r\n", "\n"));
    }
}
