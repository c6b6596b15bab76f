using System;
using System.IO;
using Xunit;

namespace XenPreempt.EndToEnd.Tests;

/// <summary>
/// Once per run: <c>dotnet pack --no-build</c> of the packable projects (this configuration's outputs, built
/// before the tests as project references) into a temporary folder, and a packages folder of its own so a
/// re-packed 0.1.0 never meets a stale cached copy.
/// </summary>
public sealed class PackedFeed : IDisposable
{
    public string Root { get; } = Dotnet.NewTempDirectory("xpa-e2e");
    public string Feed => Path.Combine(Root, "feed");
    public string Packages => Path.Combine(Root, "packages");

    /// <summary>What <c>dotnet pack</c> of XenPreemptAnalyzers printed (warnings such as XPA9100 show at -v:q).</summary>
    public string AnalyzerPackOutput { get; }

    public PackedFeed()
    {
        Directory.CreateDirectory(Feed);
        AnalyzerPackOutput = Pack(Path.Combine("src", "XenPreemptAnalyzers.Package", "XenPreemptAnalyzers.Package.csproj"));
    }

    public string Pack(string project)
    {
        var pack = Dotnet.Run(Dotnet.RepoRoot, "pack", project, "--no-build", "-c", Dotnet.Configuration, "-o", Feed, "-nologo", "-v:q");
        if (pack.Code != 0)
            throw new InvalidOperationException(pack.Output);
        return pack.Output;
    }

    /// <summary>A copy of samples/<paramref name="sample"/> that restores from the feed.</summary>
    public string CopySample(string sample)
    {
        var dir = Path.Combine(Root, sample + "-" + Guid.NewGuid().ToString("N")[..8]);
        Dotnet.CopySample(sample, dir);
        Dotnet.WriteNuGetConfig(dir, Feed, Packages);
        return dir;
    }

    /// <summary><c>dotnet build</c> of a sample copy; restore ignores an unreachable default source.</summary>
    public (int Code, string Output) Build(string dir, params string[] extra) => Build(dir, null, extra);

    /// <summary>The same, with extra environment variables for the build (and so its compiler) process.</summary>
    public (int Code, string Output) Build(string dir, System.Collections.Generic.IReadOnlyDictionary<string, string>? environment, params string[] extra)
    {
        var args = new System.Collections.Generic.List<string> { "build", "-nologo", "--no-incremental", "-p:RestoreIgnoreFailedSources=true" };
        args.AddRange(extra);
        return Dotnet.Exec("dotnet", dir, environment, args.ToArray());
    }

    public void Dispose() => Dotnet.TryDelete(Root);
}

[CollectionDefinition(Name)]
public sealed class PackedFeedCollection : ICollectionFixture<PackedFeed>
{
    public const string Name = "packed feed";
}
