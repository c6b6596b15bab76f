// SPDX-License-Identifier: MIT
using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;
using XenPreemptAnalyzers.Tests.Reliability;

namespace XenPreemptAnalyzers.Tests.Meta;

/// <summary>
/// The boundaries docs/design.md draws, checked on the source: the flow engine names no rule, rules read facts
/// only through the flow result, and comments cite documents that are in the repository.
/// </summary>
public sealed class EngineBoundaryTests
{
    private const string Analyzers = "src/XenPreemptAnalyzers/";

    private static string[] SourcesUnder(string folder) =>
        RepositorySources.CSharpFiles.Where(f => f.StartsWith(folder, StringComparison.Ordinal)).ToArray();

    [Fact]
    public void The_flow_engine_names_no_rule()
    {
        var files = SourcesUnder(Analyzers + "Flow/");
        Assert.NotEmpty(files);
        var naming = files.Where(f => Regex.IsMatch(File.ReadAllText(RepositorySources.FullPath(f)), @"XPA0\d|Xpa0\d")).ToList();
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
            .SelectMany(f => forbidden.Where(File.ReadAllText(RepositorySources.FullPath(f)).Contains).Select(token => $"{f}: {token}"))
            .ToList();
        Assert.Empty(offending);
    }

    [Fact]
    public void Comments_cite_documents_in_the_repository()
    {
        var roots = new[] { "src", "tests" }.Select(RepositorySources.FullPath);
        var citing = roots
            .SelectMany(root => Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            .Where(path => !path.Split(Path.DirectorySeparatorChar).Any(s => s is "bin" or "obj" or "TestResults"))
            .Where(path => Path.GetExtension(path) is ".cs" or ".csproj" or ".props" or ".targets" or ".md")
            .Where(path => File.ReadAllText(path).Contains("DESIGN " + "§")) // split so this file does not match itself
            .ToList();
        Assert.Empty(citing);
        Assert.True(File.Exists(RepositorySources.FullPath("docs/design.md")));
    }
}
