// SPDX-License-Identifier: MIT
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace XenPreempt.EndToEnd.Tests;

/// <summary>
/// Issue 16: the harness runs a user's own code. samples/MyDriver is built outside the repository against
/// the packed XenPreempt.Kernel (the analyzers come with it and flag the seeded bug), and the installed
/// xen-harness tool explores its two workloads: the buggy one breaks the driver's own invariant (exit 2)
/// with a token that replays in a new process to the same trace hash; the fixed one passes under every model.
/// </summary>
[Collection(PackedFeedCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class YourOwnCodeTests(PackedFeed feed)
{
    private const string Assembly = "bin/Debug/net10.0/MyDriver.dll";

    [Fact]
    public void MyDriver_built_against_the_packages_shows_its_bug_under_the_harness_and_its_fix_passes_under_every_model()
    {
        feed.Pack(Path.Combine("src", "XenPreempt.Kernel", "XenPreempt.Kernel.csproj"));
        feed.Pack(Path.Combine("src", "XenPreempt.Harness", "XenPreempt.Harness.csproj"));
        var dir = feed.CopySample("MyDriver");

        // The user's build: the one seeded bug is the analyzers' one finding.
        var build = feed.Build(dir, "-c", "Debug");
        Assert.True(build.Code == 0, build.Output);
        Assert.Equal(["Driver.cs:41 warning XPA0001"], Dotnet.Findings(build.Output));

        var harness = InstallTool();
        // Its own image cache: the run compiles the port for the user's assembly, as a first run on any machine does.
        var env = new Dictionary<string, string> { ["XEN_HARNESS_CACHE_DIR"] = Path.Combine(feed.Root, "harness-cache") };

        var buggy = Dotnet.Exec(harness, dir, env, "explore", "--assembly", Assembly, "--workload", "buggy",
            "--strategy", "dfs", "--iterations", "150", "--stop-on-first-bug");
        Assert.True(buggy.Code == 2, buggy.Output);
        var violation = Regex.Match(buggy.Output, @"VIOLATION \[mydrv-inflight\] ours / (?<config>\S+) /.*\n.*\n  token   (?<token>xh1\.\S+)\n  replay  (?<replay>.*)\n  trace hash (?<hash>[0-9a-f]{16})");
        Assert.True(violation.Success, buggy.Output);
        Assert.Contains("buggy@MyDriver", violation.Groups["token"].Value);
        Assert.Equal($"xen-harness replay --token {violation.Groups["token"].Value} --assembly {Assembly}", violation.Groups["replay"].Value);

        // A new process, from the token alone and the assembly: the same run.
        var replay = Dotnet.Exec(harness, dir, env, "replay", "--token", violation.Groups["token"].Value, "--assembly", Assembly);
        Assert.True(replay.Code == 2, replay.Output);
        Assert.Contains($"trace hash {violation.Groups["hash"].Value}", replay.Output);
        Assert.Contains("[mydrv-inflight]", replay.Output);
        Assert.Contains("trace: mydrv_batch_end", replay.Output);

        // Without the assembly the token says which one it needs: a usage error.
        var orphan = Dotnet.Exec(harness, dir, env, "replay", "--token", violation.Groups["token"].Value);
        Assert.True(orphan.Code == 1, orphan.Output);
        Assert.Contains("give --assembly <path to MyDriver.dll>", orphan.Output);

        var fixedRun = Dotnet.Exec(harness, dir, env, "explore", "--assembly", Assembly, "--workload", "fixed", "--iterations", "100");
        Assert.True(fixedRun.Code == 0, fixedRun.Output);
        // Every model (the default configurations), with both strategies of the default portfolio.
        var rows = fixedRun.Output.Split('\n').Where(l => l.StartsWith("ours ", System.StringComparison.Ordinal)).ToArray();
        Assert.Equal(16, rows.Length);
        foreach (var model in new[] { "none", "voluntary", "full", "lazy", "dynamic-none", "dynamic-voluntary", "dynamic-full", "dynamic-lazy" })
            Assert.Equal(2, rows.Count(r => r.Split(' ', System.StringSplitOptions.RemoveEmptyEntries)[1] == model));
        Assert.Contains("harness: 16 passed, 0 failed", fixedRun.Output);
    }

    [Fact]
    public void The_readme_section_works_pasted_into_an_empty_folder()
    {
        feed.Pack(Path.Combine("src", "XenPreempt.Kernel", "XenPreempt.Kernel.csproj"));
        feed.Pack(Path.Combine("src", "XenPreempt.Harness", "XenPreempt.Harness.csproj"));
        var readme = File.ReadAllText(Path.Combine(Dotnet.RepoRoot, "README.md")).Replace("\r\n", "\n");
        int start = readme.IndexOf("### Your own code\n", System.StringComparison.Ordinal);
        Assert.True(start >= 0, "README has no '### Your own code'");
        var script = Regex.Match(readme[start..], "```sh\n(?<body>.*?)```", RegexOptions.Singleline).Groups["body"].Value;
        var placeholder = new Regex("^XPA_FEED=.*$", RegexOptions.Multiline);
        Assert.Single(placeholder.Matches(script));
        script = placeholder.Replace(script, "XPA_FEED='" + feed.Feed + "'");

        // An empty folder whose parent's nuget.config clears the machine's sources: the README's own nuget.config is
        // then the only source (the test never reaches the network), and packages go to this run's folder.
        var isolated = Path.Combine(feed.Root, "own-code-" + System.Guid.NewGuid().ToString("N")[..8]);
        var root = Path.Combine(isolated, "empty");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(isolated, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{feed.Packages}" /></config>
              <packageSources><clear /></packageSources>
            </configuration>
            """);
        var env = new Dictionary<string, string> { ["XEN_HARNESS_CACHE_DIR"] = Path.Combine(feed.Root, "harness-cache"), ["NUGET_PACKAGES"] = feed.Packages };
        var run = Dotnet.Exec("bash", root, env, "-e", "-c", script);
        Assert.True(run.Code == 0, run.Output);
        // The warning the README quotes, and the harness's verdict: the bug shown, exit 2.
        Assert.Equal(["Driver.cs:25 warning XPA0001"], Dotnet.Findings(run.Output));
        Assert.Contains("Driver.cs(25,19): warning XPA0001: 'n' holds a per-CPU value from '__this_cpu_read'", run.Output);
        Assert.Contains("VIOLATION [mydrv-balanced]", run.Output);
        Assert.Matches(@"token   xh1\.ours\.[a-z-]+\.buggy@MyDriver~", run.Output);
        Assert.Contains("xen-harness replay --token xh1.", run.Output);
        Assert.Contains("exit 2", run.Output);
    }

    private string InstallTool()
    {
        var tools = Path.Combine(feed.Root, "tools-mydriver");
        var install = Dotnet.Exec("dotnet", feed.Root, new Dictionary<string, string> { ["NUGET_PACKAGES"] = feed.Packages },
            "tool", "install", "--tool-path", tools, "--add-source", feed.Feed, "xen-harness", "--version", "0.1.0", "--ignore-failed-sources");
        Assert.True(install.Code == 0, install.Output);
        return Path.Combine(tools, "xen-harness");
    }
}
