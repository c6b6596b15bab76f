// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Xunit;

namespace XenPreempt.EndToEnd.Tests;

/// <summary>
/// Nothing surprising at build time (docs/reliability.md): the analyzer package is a deterministic build — two
/// clean <c>dotnet pack</c> runs, each from its own copy of the sources at its own path with fresh obj/ and
/// bin/, give byte-identical analyzer and code-fix DLLs and the same package — and RS1035 (no file, network,
/// process or environment API in an analyzer) stays an error in both analyzer projects.
/// (PackageBuildTests re-packs the already built outputs; this builds them twice.)
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class DeterministicPackTests(DeterministicPackTests.TwoCleanPacks packs) : IClassFixture<DeterministicPackTests.TwoCleanPacks>
{
    private const string PackageFile = "XenPreemptAnalyzers.0.1.0.nupkg";

    [Fact]
    public void The_analyzer_and_code_fix_dlls_of_two_clean_packs_are_byte_identical()
    {
        var dlls = new[] { "analyzers/dotnet/cs/XenPreemptAnalyzers.dll", "analyzers/dotnet/cs/XenPreemptAnalyzers.CodeFixes.dll" }.ToList();
        // The ReadyToRun images too (crossgen2 is deterministic), whenever this host could restore the carrier.
        if (packs.CarrierRestored)
            dlls.AddRange(new[] { "linux-x64", "osx-arm64", "win-x64" }.Select(rid => $"r2r/{rid}/XenPreemptAnalyzers.dll"));
        foreach (var dll in dlls)
        {
            Assert.True(Entries(packs.First.Package).ContainsKey(dll), $"{dll} is not in the package");
            var first = Entries(packs.First.Package)[dll];
            var second = Entries(packs.Second.Package)[dll];
            Assert.True(first.AsSpan().SequenceEqual(second), $"{dll} differs between the two clean packs ({first.Length} and {second.Length} bytes)");
        }
    }

    [Fact]
    public void Two_clean_packs_give_the_same_package_entry_for_entry_and_byte_for_byte()
    {
        var first = Entries(packs.First.Package);
        var second = Entries(packs.Second.Package);
        Assert.Equal(first.Keys.OrderBy(k => k, StringComparer.Ordinal), second.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.DoesNotContain(first.Keys, name => !first[name].AsSpan().SequenceEqual(second[name]));
        Assert.Equal(File.ReadAllBytes(packs.First.Package), File.ReadAllBytes(packs.Second.Package));
    }

    [Fact]
    public void A_file_or_environment_call_in_either_analyzer_project_fails_the_build_with_RS1035()
    {
        // After the packs, in the fixture's second copy. The code fixes first: they build on the analyzers.
        AssertRs1035("XenPreemptAnalyzers.CodeFixes", "public static string? Read() => System.Environment.GetEnvironmentVariable(\"PROBE\");");
        AssertRs1035("XenPreemptAnalyzers", "public static string Read() => System.IO.File.ReadAllText(\"probe\");");
    }

    /// <summary>Adds a class with <paramref name="member"/> to <paramref name="project"/>: its build must fail with RS1035 there.</summary>
    private void AssertRs1035(string project, string member)
    {
        var directory = Path.Combine(packs.Second.Directory, "src", project);
        File.WriteAllText(Path.Combine(directory, "Rs1035Probe.cs"), $"namespace {project} {{ internal static class Rs1035Probe {{ {member} }} }}\n");
        var build = Dotnet.Run(packs.Second.Directory, "build", Path.Combine("src", project, project + ".csproj"),
            "-c", "Release", "--no-restore", "-nologo", "-p:ContinuousIntegrationBuild=true");
        Assert.True(build.Code != 0, build.Output);
        Assert.Matches($@"[/\\]{Regex.Escape(project)}[/\\]Rs1035Probe\.cs\(\d+,\d+\): error RS1035", build.Output);
    }

    private static Dictionary<string, byte[]> Entries(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        return zip.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var stream = e.Open();
            using var bytes = new MemoryStream();
            stream.CopyTo(bytes);
            return bytes.ToArray();
        });
    }

    /// <summary>Two copies of the package's sources at two temporary paths, each packed once from clean, in parallel.</summary>
    public sealed class TwoCleanPacks : IDisposable
    {
        private readonly string _root = Dotnet.NewTempDirectory("xpa-deterministic");

        public TwoCleanPacks()
        {
            First = new SourceCopy(Path.Combine(_root, "first"));
            Second = new SourceCopy(Path.Combine(_root, "second-at-another-path"));
            // The copies restore from the machine's package folder only. The ReadyToRun carrier's packs (the runtime
            // packs of each RID, the host's crossgen2) are put there first from the repository's own sources, restoring
            // the first copy's carrier (never the repository's, which another test may be packing at the same time).
            var restore = Dotnet.Run(First.Directory, "restore", Path.Combine("src", "XenPreemptAnalyzers.ReadyToRun", "XenPreemptAnalyzers.ReadyToRun.csproj"),
                "--configfile", Path.Combine(Dotnet.RepoRoot, "nuget.config"), "-nologo", "-v:q");
            CarrierRestored = restore.Code == 0;
            Task.WaitAll(Task.Run(First.Pack), Task.Run(Second.Pack));
        }

        /// <summary>Whether this host restores the ReadyToRun carrier (and so the packages carry r2r/ images).</summary>
        public bool CarrierRestored { get; }

        public SourceCopy First { get; }

        public SourceCopy Second { get; }

        public void Dispose() => Dotnet.TryDelete(_root);
    }

    /// <summary>
    /// The repository's files the analyzer package builds from (the build props, and the five projects without
    /// bin/ and obj/), with a nuget.config that restores from the machine's package folder only: no source at all.
    /// </summary>
    public sealed class SourceCopy
    {
        private static readonly string[] RootFiles = ["Directory.Build.props", "Directory.Packages.props", "global.json"];

        private static readonly string[] Projects = ["XenPreemptAnalyzers", "XenPreemptAnalyzers.CodeFixes", "XenPreempt.Annotations", "XenPreemptAnalyzers.Package", "XenPreemptAnalyzers.ReadyToRun"];

        public SourceCopy(string directory)
        {
            Directory = directory;
            System.IO.Directory.CreateDirectory(Path.Combine(directory, "no-source"));
            foreach (var file in RootFiles)
                File.Copy(Path.Combine(Dotnet.RepoRoot, file), Path.Combine(directory, file));
            foreach (var project in Projects)
                CopyWithoutBuildOutput(Path.Combine(Dotnet.RepoRoot, "src", project), Path.Combine(directory, "src", project));
            File.WriteAllText(Path.Combine(directory, "nuget.config"), """
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="no-source" value="no-source" />
                  </packageSources>
                </configuration>
                """);
        }

        public string Directory { get; }

        public string Package => Path.Combine(Directory, "feed", PackageFile);

        /// <summary>
        /// A release pack as CI makes it. In a git checkout, ContinuousIntegrationBuild maps the repository root to
        /// /_/ (DeterministicSourcePaths); a plain copy has no repository, so the same map is given explicitly.
        /// </summary>
        public void Pack()
        {
            var pack = Dotnet.Run(Directory, "pack", Path.Combine("src", "XenPreemptAnalyzers.Package", "XenPreemptAnalyzers.Package.csproj"),
                "-c", "Release", "-o", "feed", "-nologo", "-v:q", "-p:ContinuousIntegrationBuild=true", $"-p:PathMap={Directory}{Path.DirectorySeparatorChar}=/_/");
            if (pack.Code != 0 || !File.Exists(Package))
                throw new InvalidOperationException(pack.Output);
        }

        private static void CopyWithoutBuildOutput(string from, string to)
        {
            System.IO.Directory.CreateDirectory(to);
            foreach (var file in System.IO.Directory.GetFiles(from))
                File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
            foreach (var directory in System.IO.Directory.GetDirectories(from).Where(d => Path.GetFileName(d) is not ("bin" or "obj")))
                CopyWithoutBuildOutput(directory, Path.Combine(to, Path.GetFileName(directory)));
        }
    }
}
