// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace XenPreempt.Harness.UserWorkloads;

/// <summary>
/// The real-output blocks of docs/harness.md's "Your own code": samples/MyDriver compiled in memory as its
/// project compiles it, then explored, replayed and minimized by the harness's own command line. The path
/// of the compiled .dll is shown as the user's project has it (bin/Debug/net10.0/MyDriver.dll), and the
/// wall-clock figures (seconds, schedules per second), which no two runs share, are left out.
/// </summary>
internal static class YourOwnCodeDocs
{
    public const string ShownPath = "bin/Debug/net10.0/MyDriver.dll";

    private static readonly string[] StoryKinds = { "trace:", "switch:", "migrate:", "preempt:" };

    /// <summary>explore on the buggy workload (one model, DFS), the token's replay and its minimization.</summary>
    public static string Buggy(string root, Func<string[], string> cli) => WithSample(root, dll =>
    {
        string Run(params string[] args) => cli(args).Replace(dll, ShownPath);
        var explore = new[] { "explore", "--assembly", dll, "--workload", "buggy", "--config", "dynamic-full", "--strategy", "dfs", "--iterations", "200", "--stop-on-first-bug" };
        string found = Run(explore);
        var lines = found.Split('\n');
        int start = Array.FindIndex(lines, l => l.StartsWith("VIOLATION ", StringComparison.Ordinal));
        string token = lines.First(l => l.StartsWith("  token   ", StringComparison.Ordinal))["  token   ".Length..];
        var block = new List<string> { "$ " + Shown(explore, dll) };
        block.AddRange(lines.Skip(start).Take(5).Select(l => Regex.Replace(l, @" at \d+\.\d\d s,", ",")));
        block.Add("  ...");
        block.Add(lines.Last(l => l.StartsWith("harness: ", StringComparison.Ordinal)));
        block.Add("");
        var replay = new[] { "replay", "--token", token, "--assembly", dll };
        block.Add("$ " + Shown(replay, dll));
        block.Add(DocBlocks.Abridged(Run(replay), StoryKinds));
        block.Add("");
        var minimize = new[] { "minimize", "--token", token, "--assembly", dll };
        block.Add("$ " + Shown(minimize, dll));
        block.Add(Run(minimize).TrimEnd('\n'));
        return string.Join('\n', block);
    });

    /// <summary>explore on the fixed workload under every model (the default configurations and portfolio), timing columns left out.</summary>
    public static string Fixed(string root, Func<string[], string> cli) => WithSample(root, dll =>
    {
        var explore = new[] { "explore", "--assembly", dll, "--workload", "fixed", "--iterations", "100" };
        var lines = cli(explore).Split('\n');
        var block = new List<string> { "$ " + Shown(explore, dll) };
        var keep = new[] { 0, 1, 2, 3, 6, 7, 8 }; // variant config strategy schedules distinct exhaustive violations
        var table = lines.TakeWhile(l => l.Length > 0).Select(l => Regex.Split(l.TrimEnd(), "  +")).Where(c => c.Length >= 9)
            .Select(c => keep.Select(i => c[i]).ToArray()).ToArray();
        var widths = keep.Select((_, i) => table.Max(r => r[i].Length)).ToArray();
        block.AddRange(table.Select(r => string.Join("  ", r.Select((x, i) => x.PadRight(widths[i]))).TrimEnd()));
        block.Add(lines.Last(l => l.StartsWith("harness: ", StringComparison.Ordinal)));
        return string.Join('\n', block);
    });

    private static string Shown(string[] args, string dll) => "xen-harness " + string.Join(' ', args).Replace(dll, ShownPath);

    private static string WithSample(string root, Func<string, string> body)
    {
        string dir = Path.Combine(Path.GetTempPath(), "xen-harness-docs-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            string dll = UserSourceCompiler.Compile("MyDriver", UserSourceCompiler.SourcesIn(Path.Combine(root, "samples", "MyDriver")), dir);
            return body(dll);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
