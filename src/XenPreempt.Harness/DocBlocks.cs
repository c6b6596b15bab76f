// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using XenPreempt.Harness.Exploration;

namespace XenPreempt.Harness;

/// <summary>
/// The "real output" blocks of README.md and docs/harness.md, made from the harness itself so they
/// cannot drift. A block is the text between <c>&lt;!-- generated: name --&gt;</c> and
/// <c>&lt;!-- end generated --&gt;</c>; <see cref="Render"/> replaces each with what its generator prints
/// now. A test compares the files with their rendering; setting <c>XEN_HARNESS_REWRITE_DOCS=1</c> for that
/// test writes the rendering instead.
/// </summary>
public static class DocBlocks
{
    public const string RewriteVariable = "XEN_HARNESS_REWRITE_DOCS";

    private static readonly Regex Block = new(@"(?<open><!-- generated: (?<name>[a-z0-9-]+) -->\n)(?<body>.*?)(?<close><!-- end generated -->)", RegexOptions.Singleline);

    /// <summary>
    /// The generators by block name. Each gets the repository root (for blocks made from a checked-in
    /// file) and returns the block's Markdown.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, Func<string, string>> Generators = new Dictionary<string, Func<string, string>>(StringComparer.Ordinal)
    {
        ["scenario-c1-june2023"] = _ => Fenced(Abridged(Cli("scenario", "c1", "--variant", "june2023", "--config", "dynamic-full", "--verbose"))),
        ["list"] = _ => Fenced(Cli("list").TrimEnd('\n')),
        ["history-summary"] = root => HistorySummary(History.Parse(File.ReadAllText(Path.Combine(root, "docs", "history.md")))),
        ["sharding"] = _ => ShardingDocs.Generate(),
        ["mydriver-buggy"] = root => Fenced(UserWorkloads.YourOwnCodeDocs.Buggy(root, Cli)),
        ["mydriver-fixed"] = root => Fenced(UserWorkloads.YourOwnCodeDocs.Fixed(root, Cli)),
    };

    /// <summary>The names of the blocks a Markdown text has.</summary>
    public static IReadOnlyList<string> Names(string markdown) =>
        Block.Matches(markdown.Replace("\r\n", "\n")).Select(m => m.Groups["name"].Value).ToArray();

    /// <summary>The text with every generated block made afresh; a block with no generator is an error.</summary>
    public static string Render(string markdown, string repositoryRoot) =>
        Block.Replace(markdown.Replace("\r\n", "\n"), m =>
        {
            string name = m.Groups["name"].Value;
            if (!Generators.TryGetValue(name, out var generate))
                throw new InvalidDataException($"generated block '{name}' has no generator (known: {string.Join(", ", Generators.Keys)})");
            return m.Groups["open"].Value + generate(repositoryRoot).TrimEnd('\n') + "\n" + m.Groups["close"].Value;
        });

    private static string Cli(params string[] args)
    {
        var o = new StringWriter { NewLine = "\n" };
        var e = new StringWriter { NewLine = "\n" };
        int code = Program.Run(args, o, e);
        if (code is Program.ExitUsage or Program.ExitInternal)
            throw new InvalidOperationException($"xen-harness {string.Join(' ', args)} exited {code}: {e}");
        return o.ToString().Replace("\r\n", "\n");
    }

    private static IEnumerable<string> Lines(string text) => text.Split('\n');

    private static string Fenced(string body) => "```\n" + body.TrimEnd('\n') + "\n```\n";

    // Events that tell the story of the preemptible-hypercall state: the ioctl, what the oracle
    // injects, writes of the state, and every way the task leaves the CPU.
    private static readonly string[] StoryKinds = { "privcmd:", "inject:", "percpu:", "tif:", "int3:", "preempt:", "switch:" };

    /// <summary>
    /// A scenario's output cut to its story: the trace table's header, the rows of the state's story up
    /// to the first violation (every row of the first violating step), then the verdict and its lines.
    /// </summary>
    internal static string Abridged(string output) => Abridged(output, StoryKinds);

    /// <summary>As <see cref="Abridged(string)"/>, keeping the rows of <paramref name="storyKinds"/> (a user workload's story is its own).</summary>
    internal static string Abridged(string output, IReadOnlyList<string> storyKinds)
    {
        var lines = Lines(output).ToArray();
        int header = Array.FindIndex(lines, l => l.StartsWith("step ", StringComparison.Ordinal));
        int verdict = Array.FindIndex(lines, l => l.StartsWith("verdict", StringComparison.Ordinal));
        if (header < 0 || verdict < 0)
            throw new InvalidDataException("scenario output without a trace table or a verdict");
        var rows = lines.Skip(header + 2).TakeWhile(l => l.Length > 0).ToArray();
        int firstMark = Array.FindIndex(rows, r => r.StartsWith("!!", StringComparison.Ordinal));
        string? markStep = firstMark < 0 ? null : rows[firstMark].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var kept = new List<string> { lines[header] };
        for (int i = 0; i < rows.Length; i++)
        {
            bool marked = rows[i].StartsWith("!!", StringComparison.Ordinal);
            if (firstMark >= 0 && i > firstMark && !(marked && rows[i].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] == markStep))
                break;
            if (marked || storyKinds.Any(k => rows[i].Contains(" " + k, StringComparison.Ordinal)))
                kept.Add(rows[i].TrimEnd());
        }
        kept.Add("...");
        kept.AddRange(lines.Skip(verdict).TakeWhile(l => l.Length > 0));
        return string.Join('\n', kept);
    }

    /// <summary>The history file as one line per variant: each invariant with the configurations it is found under.</summary>
    internal static string HistorySummary(History history)
    {
        var sb = new StringBuilder();
        sb.Append("| variant | invariants found (configurations; any strategy) | n/a |\n|---|---|---|\n");
        foreach (var variant in history.Rows.Select(r => r.Variant).Distinct())
        {
            var rows = history.Rows.Where(r => r.Variant == variant).ToArray();
            var found = rows.SelectMany(r => r.Findings).GroupBy(f => f.Invariant)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => $"`{g.Key}` ({string.Join(", ", rows.Where(r => g.Any(f => f.Config == r.Config)).Select(r => r.Config))})")
                .ToArray();
            var na = rows.Where(r => r.NotApplicable).Select(r => r.Config).ToArray();
            sb.Append("| `").Append(variant).Append("` | ").Append(found.Length == 0 ? "nothing" : string.Join("; ", found))
              .Append(" | ").Append(na.Length == 0 ? "-" : string.Join(", ", na)).Append(" |\n");
        }
        return sb.ToString();
    }
}
