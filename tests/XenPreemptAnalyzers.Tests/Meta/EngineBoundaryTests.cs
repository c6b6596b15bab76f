// SPDX-License-Identifier: MIT
using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace XenPreemptAnalyzers.Tests.Meta;

/// <summary>
/// The boundaries docs/design.md draws, checked on the source: the flow engine names no rule, rules read facts
/// only through the flow result, and comments cite documents that are in the repository.
/// </summary>
public sealed class EngineBoundaryTests
{
    private const string Analyzers = "src/XenPreemptAnalyzers/";

    /// <summary>The folder holding XenPreemptAnalyzers.sln above the test's output (this file also runs in the Roslyn 4.8 project).</summary>
    private static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "XenPreemptAnalyzers.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("XenPreemptAnalyzers.sln not found above " + AppContext.BaseDirectory);
    }

    private static string FullPath(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    private static bool IsBuildOutput(string path) =>
        Path.GetRelativePath(Root, path).Split(Path.DirectorySeparatorChar).Any(s => s is "bin" or "obj" or "TestResults");

    private static string[] SourcesUnder(string folder) =>
        Directory.EnumerateFiles(FullPath(folder), "*.cs", SearchOption.AllDirectories).Where(p => !IsBuildOutput(p)).OrderBy(p => p, StringComparer.Ordinal).ToArray();

    [Fact]
    public void The_flow_engine_names_no_rule()
    {
        var files = SourcesUnder(Analyzers + "Flow/");
        Assert.NotEmpty(files);
        var naming = files.Where(f => Regex.IsMatch(File.ReadAllText(f), @"XPA0\d|Xpa0\d")).ToList();
        Assert.Empty(naming);
    }

    [Fact]
    public void Rules_reach_recognition_only_through_the_flow_result()
    {
        var files = SourcesUnder(Analyzers + "Rules/");
        Assert.NotEmpty(files);
        // Re-deriving facts in a rule (a body test, a name lookup, cutting an accessor's prefix) is the engine's job.
        string[] forbidden = { "MethodBodies.", "KernelApi.Lookup", "\"__this_cpu_", "CallClassifier", "DeclaringSyntaxReferences" };
        var offending = files
            .SelectMany(f => forbidden.Where(File.ReadAllText(f).Contains).Select(token => $"{f}: {token}"))
            .ToList();
        Assert.Empty(offending);
    }

    [Fact]
    public void Comments_cite_documents_in_the_repository()
    {
        var roots = new[] { "src", "tests" }.Select(FullPath);
        var citing = roots
            .SelectMany(root => Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            .Where(path => !IsBuildOutput(path))
            .Where(path => Path.GetExtension(path) is ".cs" or ".csproj" or ".props" or ".targets" or ".md")
            .Where(path => File.ReadAllText(path).Contains("DESIGN " + "§")) // split so this file does not match itself
            .ToList();
        Assert.Empty(citing);
        Assert.True(File.Exists(FullPath("docs/design.md")));
    }
}
