using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace XenPreempt.EndToEnd.Tests;

/// <summary>
/// samples/KernelPort consumes the packed XenPreemptAnalyzers through PackageReference, as a user's port would,
/// and <c>dotnet build</c> reports exactly the classic mistakes; the CLI switches, SARIF, .editorconfig and the
/// presets change that as docs/configuration.md says.
/// </summary>
[Collection(PackedFeedCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class PackageBuildTests(PackedFeed feed)
{
    private static readonly string[] Expected =
    [
        "Privcmd.cs:12 warning XPA0001",
        "Privcmd.cs:14 warning XPA0005",
        "Privcmd.cs:23 warning XPA0004",
        "Upcall.cs:12 warning XPA0002",
        "Upcall.cs:21 warning XPA0006",
    ];

    [Fact]
    public void The_sample_port_gets_exactly_the_expected_warnings()
    {
        var dir = feed.CopySample("KernelPort");
        var build = feed.Build(dir);
        Assert.True(build.Code == 0, build.Output);
        Assert.Equal(Expected, Dotnet.Findings(build.Output));
        // the analyzer assembly came from the package, not from a project reference
        Assert.True(File.Exists(Path.Combine(feed.Packages, "xenpreemptanalyzers", "0.1.0", "analyzers", "dotnet", "cs", "XenPreemptAnalyzers.dll")));
        // the annotations are a compile reference from the XenPreempt.Annotations package the analyzers depend on
        // (the sample's `using XenPreempt.Annotations;` compiles with a plain PackageReference)
        var assets = File.ReadAllText(Path.Combine(dir, "obj", "project.assets.json"));
        Assert.Contains("\"XenPreempt.Annotations/0.1.0\"", assets);
        Assert.Contains("lib/netstandard2.0/XenPreempt.Annotations.dll", assets);
    }

    [Fact]
    public void The_package_is_byte_identical_when_packed_again()
    {
        var again = Path.Combine(feed.Root, "again");
        var pack = Dotnet.Run(Dotnet.RepoRoot, "pack", Path.Combine("src", "XenPreemptAnalyzers.Package", "XenPreemptAnalyzers.Package.csproj"),
            "--no-build", "-c", Dotnet.Configuration, "-o", again, "-nologo", "-v:q");
        Assert.True(pack.Code == 0, pack.Output);
        var name = "XenPreemptAnalyzers.0.1.0.nupkg";
        Assert.Equal(File.ReadAllBytes(Path.Combine(feed.Feed, name)), File.ReadAllBytes(Path.Combine(again, name)));
        using var zip = System.IO.Compression.ZipFile.OpenRead(Path.Combine(again, name));
        Assert.Equal(
            ["analyzers/dotnet/cs/XenPreemptAnalyzers.CodeFixes.dll", "analyzers/dotnet/cs/XenPreemptAnalyzers.dll",
             "buildTransitive/XenPreemptAnalyzers.none.globalconfig", "buildTransitive/XenPreemptAnalyzers.props",
             "buildTransitive/XenPreemptAnalyzers.strict.globalconfig", "buildTransitive/XenPreemptAnalyzers.targets"],
            zip.Entries.Select(e => e.FullName)
                .Where(n => n.StartsWith("analyzers/", StringComparison.Ordinal) || n.StartsWith("buildTransitive/", StringComparison.Ordinal) || n.EndsWith(".dll", StringComparison.Ordinal))
                .Where(n => !n.StartsWith("r2r/", StringComparison.Ordinal)) // the ReadyToRun images: ReadyToRunTests
                .Distinct().OrderBy(n => n, StringComparer.Ordinal).ToArray());
        using var nuspec = new StreamReader(zip.GetEntry("XenPreemptAnalyzers.nuspec")!.Open());
        var text = nuspec.ReadToEnd();
        // An ordinary package (so `dotnet add package` keeps compile assets) whose one dependency carries the attributes.
        Assert.DoesNotContain("developmentDependency", text);
        Assert.Contains("<dependency id=\"XenPreempt.Annotations\" version=\"0.1.0\"", text);
        Assert.Equal(File.ReadAllBytes(Path.Combine(feed.Feed, "XenPreempt.Annotations.0.1.0.nupkg")), File.ReadAllBytes(Path.Combine(again, "XenPreempt.Annotations.0.1.0.nupkg")));
        Assert.Contains("<license type=\"expression\">MIT</license>", text);
        Assert.Contains("<readme>README.md</readme>", text);
    }

    [Fact]
    public void The_fixed_port_builds_clean_with_every_rule_an_error()
    {
        var dir = feed.CopySample("KernelPortFixed");
        var build = feed.Build(dir, "-p:XenPreemptAnalysisMode=strict");
        Assert.True(build.Code == 0, build.Output);
        Assert.Empty(Dotnet.Findings(build.Output));
        Assert.Contains(" 0 Warning(s)", build.Output);
    }

    [Fact]
    public void Warnaserror_for_two_rules_fails_the_build_on_those_two_only()
    {
        var dir = feed.CopySample("KernelPort");
        var build = feed.Build(dir, "-warnaserror:XPA0001,XPA0002");
        Assert.True(build.Code != 0, build.Output);
        Assert.Equal(
            [
                "Privcmd.cs:12 error XPA0001",
                "Privcmd.cs:14 warning XPA0005",
                "Privcmd.cs:23 warning XPA0004",
                "Upcall.cs:12 error XPA0002",
                "Upcall.cs:21 warning XPA0006",
            ],
            Dotnet.Findings(build.Output));
        Assert.Contains("Build FAILED.", build.Output);
    }

    [Fact]
    public void ErrorLog_writes_sarif_2_1_0_with_rule_ids_locations_and_help_uris()
    {
        var dir = feed.CopySample("KernelPort");
        var build = feed.Build(dir, "-p:ErrorLog=out.sarif%2Cversion=2.1");
        Assert.True(build.Code == 0, build.Output);
        var sarif = Path.Combine(dir, "out.sarif");
        Assert.True(File.Exists(sarif), build.Output);

        using var doc = JsonDocument.Parse(File.ReadAllText(sarif));
        Assert.Equal("2.1.0", doc.RootElement.GetProperty("version").GetString());
        var run = doc.RootElement.GetProperty("runs")[0];
        var results = run.GetProperty("results").EnumerateArray()
            .Where(r => r.GetProperty("ruleId").GetString()!.StartsWith("XPA", StringComparison.Ordinal))
            .Select(r =>
            {
                var location = r.GetProperty("locations")[0].GetProperty("physicalLocation");
                var file = Path.GetFileName(new Uri(location.GetProperty("artifactLocation").GetProperty("uri").GetString()!).LocalPath);
                var line = location.GetProperty("region").GetProperty("startLine").GetInt32();
                return $"{file}:{line} {r.GetProperty("level").GetString()} {r.GetProperty("ruleId").GetString()}";
            })
            .OrderBy(s => s, StringComparer.Ordinal)
            .ToArray();
        // XPA0003 is Info: not on the console at normal verbosity, but in the log as a note.
        Assert.Equal(["Irq.cs:12 note XPA0003", .. Expected], results);

        var rules = run.GetProperty("tool").GetProperty("driver").GetProperty("rules").EnumerateArray()
            .Where(r => r.GetProperty("id").GetString()!.StartsWith("XPA", StringComparison.Ordinal))
            .ToDictionary(r => r.GetProperty("id").GetString()!, r => r.GetProperty("helpUri").GetString());
        foreach (var id in new[] { "XPA0001", "XPA0002", "XPA0004", "XPA0005", "XPA0006" })
            Assert.Equal($"https://github.com/XenPreemptAnalyzers/XenPreemptAnalyzers/blob/main/docs/rules/{id}.md", rules[id]);
    }

    [Fact]
    public void Editorconfig_severity_none_removes_that_rule()
    {
        var dir = feed.CopySample("KernelPort");
        File.WriteAllText(Path.Combine(dir, ".editorconfig"), "root = true\n\n[*.cs]\ndotnet_diagnostic.XPA0002.severity = none\n");
        var build = feed.Build(dir);
        Assert.True(build.Code == 0, build.Output);
        Assert.Equal(Expected.Where(e => !e.EndsWith("XPA0002", StringComparison.Ordinal)).ToArray(), Dotnet.Findings(build.Output));
    }

    [Fact]
    public void Editorconfig_voluntary_model_leaves_only_the_model_independent_rules()
    {
        var dir = feed.CopySample("KernelPort");
        File.WriteAllText(Path.Combine(dir, ".editorconfig"), "root = true\n\n[*.cs]\nxen_preempt.preemption_model = voluntary\n");
        var build = feed.Build(dir);
        Assert.True(build.Code == 0, build.Output);
        Assert.Equal(["Privcmd.cs:14 warning XPA0005", "Upcall.cs:21 warning XPA0006"], Dotnet.Findings(build.Output));
    }

    [Fact]
    public void The_editorconfig_sample_does_what_its_comments_say()
    {
        var dir = feed.CopySample("KernelPort");
        File.Copy(Path.Combine(Dotnet.RepoRoot, "samples", "editorconfig", ".editorconfig"), Path.Combine(dir, ".editorconfig"));
        var build = feed.Build(dir);
        Assert.True(build.Code == 0, build.Output);
        Assert.Equal(["Privcmd.cs:14 warning XPA0005", "Upcall.cs:21 warning XPA0006"], Dotnet.Findings(build.Output));
    }

    [Fact]
    public void Strict_preset_makes_every_rule_an_error_and_XPA0003_a_warning()
    {
        var dir = feed.CopySample("KernelPort");
        var build = feed.Build(dir, "-p:XenPreemptAnalysisMode=strict");
        Assert.True(build.Code != 0, build.Output);
        Assert.Equal(
            [
                "Irq.cs:12 warning XPA0003",
                .. Expected.Select(e => e.Replace(" warning ", " error ", StringComparison.Ordinal)),
            ],
            Dotnet.Findings(build.Output));
    }

    [Fact]
    public void None_preset_turns_every_rule_off()
    {
        var dir = feed.CopySample("KernelPort");
        var build = feed.Build(dir, "-p:XenPreemptAnalysisMode=none");
        Assert.True(build.Code == 0, build.Output);
        Assert.Empty(Dotnet.Findings(build.Output));
    }

    [Fact]
    public void An_unknown_preset_warns_and_uses_default()
    {
        var dir = feed.CopySample("KernelPort");
        var build = feed.Build(dir, "-p:XenPreemptAnalysisMode=sometimes");
        Assert.True(build.Code == 0, build.Output);
        Assert.Contains("warning XPA9000: XenPreemptAnalysisMode 'sometimes' is not one of default, strict, none; using default.", build.Output);
        Assert.Equal(Expected, Dotnet.Findings(build.Output));
    }
}
