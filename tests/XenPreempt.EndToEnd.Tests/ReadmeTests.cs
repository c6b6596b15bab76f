using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace XenPreempt.EndToEnd.Tests;

/// <summary>
/// The README's main job, run as written on a copy of the repository's tracked files (a clean clone, with the
/// working tree's edits): its build prints exactly the warnings pasted under "What you should see"; then
/// samples/ci/build-and-check.sh passes on samples/KernelPortFixed and fails on samples/KernelPort.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class ReadmeTests
{
    [Fact]
    public void The_readme_main_job_prints_the_pasted_warnings_and_the_ci_sample_gates_on_them()
    {
        var readme = File.ReadAllText(Path.Combine(Dotnet.RepoRoot, "README.md"));
        var commands = Section(readme, "## The two commands");
        var mainJob = commands.Split('\n').Single(l => l.StartsWith("dotnet pack ", StringComparison.Ordinal)).Trim();
        var pasted = Section(readme, "### What you should see");
        var expected = Dotnet.Findings(pasted);
        Assert.Equal(5, expected.Length);

        var clone = Dotnet.NewTempDirectory("xpa-readme");
        try
        {
            var list = Dotnet.Exec("git", Dotnet.RepoRoot, null, "ls-files", "-z");
            Assert.True(list.Code == 0, list.Output);
            // Exec's output starts with one line naming the command; the NUL-separated paths follow.
            foreach (var relative in list.Output[(list.Output.IndexOf('\n') + 1)..].Split('\0', StringSplitOptions.RemoveEmptyEntries))
            {
                var source = Path.Combine(Dotnet.RepoRoot, relative.Trim('\r', '\n'));
                if (!File.Exists(source))
                    continue; // deleted in the working tree
                var target = Path.Combine(clone, relative.Trim('\r', '\n'));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(source, target);
            }

            var output = "";
            foreach (var command in mainJob.Split(" && "))
            {
                var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                Assert.Equal("dotnet", words[0]);
                var run = Dotnet.Run(clone, [.. words.Skip(1), "-p:RestoreIgnoreFailedSources=true"]);
                Assert.True(run.Code == 0, run.Output);
                output += run.Output;
            }
            Assert.Equal(expected, Dotnet.Findings(output));
            Assert.Contains("    5 Warning(s)", output);

            // The CI sample, on the same copy: clean on the fixed port (SARIF written), exit 1 on the port with the mistakes.
            var clean = Dotnet.Exec("bash", clone, null, Path.Combine("samples", "ci", "build-and-check.sh"));
            Assert.True(clean.Code == 0, clean.Output);
            Assert.True(File.Exists(Path.Combine(clone, "samples", "KernelPortFixed", "xpa.sarif")), clean.Output);
            var failing = Dotnet.Exec("bash", clone, null, Path.Combine("samples", "ci", "build-and-check.sh"), Path.Combine("samples", "KernelPort"));
            Assert.True(failing.Code == 1, failing.Output);
            Assert.Equal(expected.Select(e => e.Replace(" warning ", " error ", StringComparison.Ordinal)).ToArray(), Dotnet.Findings(failing.Output));
            Assert.Contains("\"ruleId\": \"XPA0002\"", File.ReadAllText(Path.Combine(clone, "samples", "KernelPort", "xpa.sarif")));
        }
        finally
        {
            Dotnet.TryDelete(clone);
        }
    }

    private static string Section(string markdown, string heading)
    {
        var start = markdown.IndexOf(heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "README has no '" + heading + "'");
        var rest = markdown[(start + heading.Length + 1)..];
        var next = Regex.Match(rest, @"^#{2,3} ", RegexOptions.Multiline);
        return next.Success ? rest[..next.Index] : rest;
    }
}
