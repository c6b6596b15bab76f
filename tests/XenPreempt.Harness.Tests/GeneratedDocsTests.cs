// SPDX-License-Identifier: MIT
using System;
using System.IO;
using System.Linq;
using Xunit;

namespace XenPreempt.Harness.Tests;

/// <summary>
/// Issue 13: every "real output" block of README.md and docs/harness.md is what the harness prints now.
/// To rewrite them after a change: XEN_HARNESS_REWRITE_DOCS=1 dotnet test tests/XenPreempt.Harness.Tests --filter FullyQualifiedName~GeneratedDocsTests
/// </summary>
public class GeneratedDocsTests
{
    internal static string RepositoryRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "XenPreemptAnalyzers.sln")))
            dir = Path.GetDirectoryName(dir);
        return dir ?? throw new InvalidOperationException("XenPreemptAnalyzers.sln not found");
    }

    [Theory]
    [InlineData("README.md")]
    [InlineData("docs/harness.md")]
    public void GeneratedBlocks_AreWhatTheHarnessPrintsNow(string file)
    {
        string root = RepositoryRoot();
        string path = Path.Combine(root, file);
        string committed = File.ReadAllText(path).Replace("\r\n", "\n");
        Assert.NotEmpty(DocBlocks.Names(committed)); // the check is not vacuous: the file has blocks to compare
        string rendered = DocBlocks.Render(committed, root);
        if (Environment.GetEnvironmentVariable(DocBlocks.RewriteVariable) == "1")
        {
            File.WriteAllText(path, rendered);
            return;
        }
        if (rendered != committed)
        {
            var firstDiff = committed.Zip(rendered).TakeWhile(p => p.First == p.Second).Count();
            int line = committed[..Math.Min(firstDiff, committed.Length)].Count(c => c == '\n') + 1;
            Assert.Fail($"{file}: a generated block differs from what the harness prints now (first difference at line {line}); rewrite them: " +
                $"{DocBlocks.RewriteVariable}=1 dotnet test tests/XenPreempt.Harness.Tests --filter FullyQualifiedName~GeneratedDocsTests");
        }
    }

    [Fact]
    public void Abridged_KeepsTheStoryUpToTheFirstViolation_AndTheVerdict()
    {
        string output = string.Join('\n',
            "scenario c1: x", "",
            "step   time ms  cpu  task  event", "-----  -------", 
            "1      0.001    0    xl    privcmd: xl/1001 IOCTL_PRIVCMD_HYPERCALL op=36",
            "2      0.002    0    xl    hypercall: domctl enter (40 chunks)",
            "!! 3   0.003    0    kw    switch: xl/1001 -> kw/1002 (preempt)",
            "!! 3   0.003    0    kw    sched: kw/1002 starts on cpu0",
            "4      0.004    0    kw    percpu: xen_in_preemptible_hcall[cpu0] = 0 (raw_cpu_write)",
            "", "console:", "", "verdict  VIOLATION (1)", "  [flag-owner] at step 3", "");
        var lines = DocBlocks.Abridged(output).Split('\n');
        Assert.Equal(new[]
        {
            "step   time ms  cpu  task  event",
            "1      0.001    0    xl    privcmd: xl/1001 IOCTL_PRIVCMD_HYPERCALL op=36",
            "!! 3   0.003    0    kw    switch: xl/1001 -> kw/1002 (preempt)",
            "!! 3   0.003    0    kw    sched: kw/1002 starts on cpu0",
            "...",
            "verdict  VIOLATION (1)",
            "  [flag-owner] at step 3",
        }, lines);
    }

    [Fact]
    public void Render_ReplacesOnlyTheBody_AndKeepsBothMarkers()
    {
        string text = "before\n<!-- generated: list -->\nstale\n<!-- end generated -->\nafter\n";
        string rendered = DocBlocks.Render(text, RepositoryRoot());
        Assert.StartsWith("before\n<!-- generated: list -->\n```\nScenarios:", rendered);
        Assert.EndsWith("```\n<!-- end generated -->\nafter\n", rendered);
        Assert.DoesNotContain("stale", rendered);
        Assert.Equal(rendered, DocBlocks.Render(rendered, RepositoryRoot()));
    }

    [Fact]
    public void ABlockWithoutAGenerator_IsAnError_NotLeftAsItIs()
    {
        var e = Assert.Throws<InvalidDataException>(() => DocBlocks.Render("<!-- generated: no-such-block -->\nold\n<!-- end generated -->\n", RepositoryRoot()));
        Assert.Contains("no-such-block", e.Message);
    }
}
