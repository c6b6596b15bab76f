// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace XenPreempt.EndToEnd.Tests;

/// <summary>
/// README.md's "From an empty folder", run as written by bash outside the repository (only the documented
/// <c>XPA_FEED=</c> line is set to a freshly packed feed): <c>dotnet new classlib</c>, the feed as a package source,
/// <c>dotnet add package XenPreemptAnalyzers</c>, <c>dotnet build</c> prints the pasted warning. Then each way of
/// changing the analysis (preset and model by MSBuild property, model and severity by <c>.editorconfig</c>, and
/// removing that file) is applied by a plain incremental <c>dotnet build</c>, which recompiles exactly when a setting
/// changed.
/// </summary>
[Collection(PackedFeedCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class UsingThePackageTests(PackedFeed feed)
{
    private const string Warning = "Upcall.cs:10 warning XPA0002";
    private const string Error = "Upcall.cs:10 error XPA0002";

    [Fact]
    public void The_readme_commands_work_from_an_empty_folder_and_every_setting_change_applies_incrementally()
    {
        var readme = File.ReadAllText(Path.Combine(Dotnet.RepoRoot, "README.md")).Replace("\r\n", "\n");
        var section = Section(readme, "### From an empty folder");
        var blocks = Regex.Matches(section, "```(?<lang>[a-z]*)\n(?<body>.*?)```", RegexOptions.Singleline);
        var script = blocks.First(b => b.Groups["lang"].Value == "sh").Groups["body"].Value;
        var pasted = blocks.First(b => b.Groups["lang"].Value == "").Groups["body"].Value;
        Assert.Equal([Warning], Dotnet.Findings(pasted));
        Assert.Contains("\ndotnet add package XenPreemptAnalyzers\n", script);
        var placeholder = new Regex("^XPA_FEED=.*$", RegexOptions.Multiline);
        Assert.Single(placeholder.Matches(script));
        script = placeholder.Replace(script, "XPA_FEED='" + feed.Feed + "'");

        // An empty folder whose parent's nuget.config clears the machine's sources: the README's own nuget.config is
        // then the only source (the test never reaches the network), and packages go to this run's folder.
        var isolated = Path.Combine(feed.Root, "outside-" + Guid.NewGuid().ToString("N")[..8]);
        var root = Path.Combine(isolated, "empty");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(isolated, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{feed.Packages}" /></config>
              <packageSources><clear /></packageSources>
            </configuration>
            """);
        var run = Dotnet.Exec("bash", root, null, "-e", "-c", script);
        Assert.True(run.Code == 0, run.Output);
        Assert.Equal([Warning], Dotnet.Findings(run.Output));
        var project = Path.Combine(root, "MyPort");
        Assert.Contains("<PackageReference Include=\"XenPreemptAnalyzers\" Version=\"0.1.0\" />", File.ReadAllText(Path.Combine(project, "MyPort.csproj")));

        var builds = new IncrementalBuilds(project);
        builds.Expect("nothing changed", recompiles: false, findings: []);
        builds.Expect("strict preset by property", recompiles: null, findings: [Error], "-p:XenPreemptAnalysisMode=strict");
        builds.Expect("none preset by property", recompiles: true, findings: [], "-p:XenPreemptAnalysisMode=none");
        builds.Expect("back to the default", recompiles: true, findings: [Warning]);
        builds.Expect("model by property", recompiles: true, findings: [], "-p:XenPreemptPreemptionModel=full");
        builds.Expect("back to the default model", recompiles: true, findings: [Warning]);
        var editorconfig = Path.Combine(project, ".editorconfig");
        File.WriteAllText(editorconfig, "root = true\n\n[*.cs]\nxen_preempt.preemption_model = full\n");
        builds.Expect("model by .editorconfig", recompiles: true, findings: []);
        builds.Expect(".editorconfig beats the model property", recompiles: true, findings: [], "-p:XenPreemptPreemptionModel=dynamic");
        File.WriteAllText(editorconfig, "root = true\n\n[*.cs]\ndotnet_diagnostic.XPA0002.severity = error\n");
        builds.Expect("severity by .editorconfig", recompiles: null, findings: [Error]);
        File.WriteAllText(editorconfig, "root = true\n\n[*.cs]\nxen_preempt.preemption_model = volutnary\n");
        var misspelled = builds.Expect("a misspelled model", recompiles: true, findings: [Warning]);
        Assert.Contains("warning XPA9000: 'xen_preempt.preemption_model = volutnary' is not recognised and is ignored; xen_preempt.preemption_model takes none, voluntary, full, lazy, dynamic", misspelled);
        File.Delete(editorconfig);
        builds.Expect(".editorconfig removed", recompiles: true, findings: [Warning]);
        builds.Expect("nothing changed again", recompiles: false, findings: []);
    }

    /// <summary>Plain <c>dotnet build</c>s of one project, each judged by its findings and by whether csc wrote the assembly again.</summary>
    private sealed class IncrementalBuilds(string project)
    {
        private readonly string _assembly = Path.Combine(project, "obj", "Debug", "net10.0", "MyPort.dll");
        private DateTime _written = File.GetLastWriteTimeUtc(Path.Combine(project, "obj", "Debug", "net10.0", "MyPort.dll"));

        /// <param name="recompiles">Whether csc must (true) or must not (false) write the assembly; null for a failing build, which writes none.</param>
        /// <returns>The build's output.</returns>
        public string Expect(string change, bool? recompiles, string[] findings, params string[] properties)
        {
            var build = Dotnet.Run(project, ["build", "-nologo", .. properties]);
            var failed = findings.Any(f => f.Contains(" error ", StringComparison.Ordinal));
            Assert.True(failed ? build.Code != 0 : build.Code == 0, change + ":\n" + build.Output);
            Assert.True(findings.SequenceEqual(Dotnet.Findings(build.Output)), $"{change}: expected [{string.Join(", ", findings)}]\n{build.Output}");
            var written = File.GetLastWriteTimeUtc(_assembly);
            if (recompiles is { } expected)
                Assert.True(expected == (written != _written), $"{change}: the assembly was {(written != _written ? "" : "not ")}compiled again\n{build.Output}");
            _written = written;
            return build.Output;
        }
    }

    private static string Section(string markdown, string heading)
    {
        var start = markdown.IndexOf(heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "README has no '" + heading + "'");
        var rest = markdown[(start + heading.Length + 1)..];
        var next = Regex.Match(rest, @"^#{2,3} |^\*\*", RegexOptions.Multiline);
        return next.Success ? rest[..next.Index] : rest;
    }
}
