// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Xunit;

namespace XenPreempt.EndToEnd.Tests;

/// <summary>
/// The analyzer precompiled per platform (issue 17; docs/performance.md, "Fresh compiler process"): the package carries
/// ReadyToRun images of XenPreemptAnalyzers.dll under r2r/&lt;rid&gt;/ beside the IL in analyzers/dotnet/cs, and its
/// build/ targets hand the compiler the image of the SDK's RID. Checked with real builds in fresh compiler processes
/// (<c>UseSharedCompilation=false</c>), counting with the runtime's own JIT log which of our methods the compiler had to
/// JIT-compile: counts, not time.
/// </summary>
[Collection(PackedFeedCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class ReadyToRunTests(PackedFeed feed)
{
    private static readonly string[] ImageRids = ["linux-x64", "osx-arm64", "win-x64"];

    private static readonly string[] KernelPortFindings =
    [
        "Privcmd.cs:12 warning XPA0001",
        "Privcmd.cs:14 warning XPA0005",
        "Privcmd.cs:23 warning XPA0004",
        "Upcall.cs:12 warning XPA0002",
        "Upcall.cs:21 warning XPA0006",
    ];

    /// <summary>"  123: JIT compiled Namespace.Type:Method(args) [Tier0, IL size=…" (DOTNET_JitDisasmSummary=1).</summary>
    private static readonly Regex JitLine = new(@"^\s*\d+: JIT compiled (?<method>.+) \[(?<tier>[^,\]]+)", RegexOptions.Multiline);

    private string PackageFile => Path.Combine(feed.Feed, "XenPreemptAnalyzers.0.1.0.nupkg");

    private bool PackedWithoutImages => feed.AnalyzerPackOutput.Contains("warning XPA9100", StringComparison.Ordinal);

    [Fact]
    public void The_package_has_an_image_per_rid_of_the_same_assembly_with_the_code_fixes_beside_it()
    {
        using var zip = ZipFile.OpenRead(PackageFile);
        var il = Read(zip, "analyzers/dotnet/cs/XenPreemptAnalyzers.dll");
        var codeFixes = Read(zip, "analyzers/dotnet/cs/XenPreemptAnalyzers.CodeFixes.dll");
        Assert.False(IsReadyToRun(il), "the analyzers/dotnet/cs assembly must stay IL for the hosts that cannot use an image");
        if (PackedWithoutImages)
        {
            // A host whose crossgen2 pack cannot be restored packs IL only, and says so (XPA9100).
            Assert.DoesNotContain(zip.Entries, e => e.FullName.StartsWith("r2r/", StringComparison.Ordinal));
            return;
        }

        Assert.Equal(
            ImageRids.SelectMany(rid => new[] { $"r2r/{rid}/XenPreemptAnalyzers.CodeFixes.dll", $"r2r/{rid}/XenPreemptAnalyzers.dll" }).ToArray(),
            zip.Entries.Select(e => e.FullName).Where(n => n.StartsWith("r2r/", StringComparison.Ordinal)).OrderBy(n => n, StringComparer.Ordinal).ToArray());
        foreach (var rid in ImageRids)
        {
            var image = Read(zip, $"r2r/{rid}/XenPreemptAnalyzers.dll");
            Assert.True(IsReadyToRun(image), $"r2r/{rid}/XenPreemptAnalyzers.dll has no ReadyToRun header");
            // The same assembly (identity and module version id), so a host that ignores the native code runs the same IL.
            Assert.Equal(Identity(il), Identity(image));
            Assert.Equal(codeFixes, Read(zip, $"r2r/{rid}/XenPreemptAnalyzers.CodeFixes.dll"));
        }
    }

    [Fact]
    public void A_fresh_compiler_runs_the_image_and_reports_the_same_warnings_as_the_il_that_the_opt_out_keeps()
    {
        var dir = feed.CopySample("KernelPort");
        var withImage = BuildWithJitLog(dir, "default");
        var optedOut = BuildWithJitLog(dir, "opt-out", "-p:XenPreemptUseReadyToRun=false");

        // (a) the same warnings either way
        Assert.Equal(KernelPortFindings, Dotnet.Findings(withImage.Output));
        Assert.Equal(KernelPortFindings, Dotnet.Findings(optedOut.Output));

        // (c) the opt-out hands the compiler the IL in analyzers/dotnet/cs; by default the image of this RID, if packed
        var package = Path.Combine(feed.Packages, "xenpreemptanalyzers", "0.1.0");
        var ilFolder = Path.Combine(package, "analyzers", "dotnet", "cs");
        var imageFolder = Path.Combine(package, "r2r", RuntimeInformation.RuntimeIdentifier);
        var hasImage = File.Exists(Path.Combine(imageFolder, "XenPreemptAnalyzers.dll"));
        Assert.Equal(!PackedWithoutImages && ImageRids.Contains(RuntimeInformation.RuntimeIdentifier), hasImage);
        Assert.Equal(
            [Path.Combine(hasImage ? imageFolder : ilFolder, "XenPreemptAnalyzers.CodeFixes.dll"), Path.Combine(hasImage ? imageFolder : ilFolder, "XenPreemptAnalyzers.dll")],
            AnalyzersOfThisPackage(withImage.Output, package));
        Assert.Equal(
            [Path.Combine(ilFolder, "XenPreemptAnalyzers.CodeFixes.dll"), Path.Combine(ilFolder, "XenPreemptAnalyzers.dll")],
            AnalyzersOfThisPackage(optedOut.Output, package));

        // (b) the JIT log: the IL analyzer is JIT-compiled method by method on first use (hundreds on this sample);
        // with the image, only what crossgen2 could not precompile is (generic instantiations outside the image's
        // version bubble are declared in System.Collections.Immutable and the like, so they are not counted here).
        Assert.True(optedOut.OurMethods >= 100, $"IL: only {optedOut.OurMethods} of our methods JIT-compiled of {optedOut.AllMethods}");
        if (hasImage)
            Assert.True(withImage.OurMethods * 20 <= optedOut.OurMethods,
                $"with the image {withImage.OurMethods} of our methods were JIT-compiled, with the IL {optedOut.OurMethods}");
        else
            Assert.True(withImage.OurMethods >= 100, $"no image for this RID, yet only {withImage.OurMethods} of our methods were JIT-compiled");
    }

    [Fact]
    public void A_host_that_cannot_restore_the_crossgen2_pack_packs_il_only_and_says_so()
    {
        // No package at all can be restored: the packages folder is empty and the only source is an empty folder
        // (environment variables are MSBuild properties, so RestoreSources reaches the carrier's restore).
        var empty = Path.Combine(feed.Root, "nothing-restorable");
        var output = Path.Combine(feed.Root, "il-only");
        Directory.CreateDirectory(Path.Combine(empty, "packages"));
        Directory.CreateDirectory(Path.Combine(empty, "source"));
        var pack = Dotnet.Exec("dotnet", Dotnet.RepoRoot,
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(empty, "packages"), ["RestoreSources"] = Path.Combine(empty, "source") },
            "pack", Path.Combine("src", "XenPreemptAnalyzers.Package", "XenPreemptAnalyzers.Package.csproj"),
            "--no-build", "-c", Dotnet.Configuration, "-o", output, "-nologo", "-v:q");
        Assert.True(pack.Code == 0, pack.Output);
        Assert.Contains("warning XPA9100: No ReadyToRun images packed", pack.Output);

        using var zip = ZipFile.OpenRead(Path.Combine(output, "XenPreemptAnalyzers.0.1.0.nupkg"));
        var names = zip.Entries.Select(e => e.FullName).ToArray();
        Assert.Contains("analyzers/dotnet/cs/XenPreemptAnalyzers.dll", names);
        Assert.Contains("analyzers/dotnet/cs/XenPreemptAnalyzers.CodeFixes.dll", names);
        Assert.Contains("build/XenPreemptAnalyzers.targets", names);
        Assert.DoesNotContain(names, n => n.StartsWith("r2r/", StringComparison.Ordinal));
    }

    private (string Output, int OurMethods, int AllMethods) BuildWithJitLog(string dir, string name, params string[] extra)
    {
        // CscEnvironment is the Csc task's EnvironmentVariables: only the compiler process logs its JIT, not MSBuild.
        var log = Path.Combine(dir, $"jit-{name}.txt");
        var environment = new Dictionary<string, string> { ["CscEnvironment"] = $"DOTNET_JitStdOutFile={log};DOTNET_JitDisasmSummary=1" };
        var build = feed.Build(dir, environment, [.. extra, "-p:UseSharedCompilation=false", "-v:n"]);
        Assert.True(build.Code == 0, build.Output);
        Assert.True(File.Exists(log), "the compiler wrote no JIT log (DOTNET_JitStdOutFile): " + build.Output);
        var compiled = JitLine.Matches(File.ReadAllText(log)).ToArray();
        Assert.True(compiled.Length > 1_000, $"the JIT log lists {compiled.Length} methods: not the compiler's");
        var ours = compiled
            .Where(m => !m.Groups["tier"].Value.Contains("Tier1", StringComparison.Ordinal)) // re-JIT of hot code, not first use
            .Select(m => m.Groups["method"].Value)
            .Where(m => m.StartsWith("XenPreemptAnalyzers.", StringComparison.Ordinal) && !m.StartsWith("XenPreemptAnalyzers.CodeFixes", StringComparison.Ordinal))
            .Distinct()
            .Count();
        return (build.Output, ours, compiled.Length);
    }

    /// <summary>The /analyzer: paths in the csc command lines of a -v:n build log that lie in <paramref name="package"/>.</summary>
    private static string[] AnalyzersOfThisPackage(string output, string package) =>
        Regex.Matches(output, @"/analyzer:(?:""(?<path>[^""]+)""|(?<path>\S+))")
            .Select(m => Path.GetFullPath(m.Groups["path"].Value))
            .Where(p => p.StartsWith(package + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .Distinct()
            .OrderBy(p => p, StringComparer.Ordinal)
            .ToArray();

    private static byte[] Read(ZipArchive zip, string entry)
    {
        using var stream = zip.GetEntry(entry)?.Open() ?? throw new InvalidOperationException("no " + entry + " in the package");
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return bytes.ToArray();
    }

    /// <summary>A ReadyToRun image has a managed native header in its CLI header (an IL-only assembly has none).</summary>
    private static bool IsReadyToRun(byte[] assembly)
    {
        using var pe = new PEReader(new MemoryStream(assembly));
        return pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0;
    }

    private static string Identity(byte[] assembly)
    {
        using var pe = new PEReader(new MemoryStream(assembly));
        var metadata = pe.GetMetadataReader();
        return metadata.GetAssemblyDefinition().GetAssemblyName().FullName + " mvid " + metadata.GetGuid(metadata.GetModuleDefinition().Mvid);
    }
}
