// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using XenPreemptAnalyzers.Recognition;
using XenPreemptAnalyzers.Tests.Infrastructure;

namespace XenPreemptAnalyzers.Tests.Reliability;

/// <summary>
/// The repository's own C# — the port, the machine, the harness, the samples, the analyzers, the tests — found
/// at run time (the folder holding XenPreemptAnalyzers.sln above the test's output), and the kernel-code
/// snippets the analyzer tests feed the analyzers: the seeds of the typing simulation.
/// </summary>
internal static class RepositorySources
{
    public static string Root { get; } = FindRoot();

    /// <summary>Every tracked-looking .cs file, relative to the root with '/' separators, in ordinal order.</summary>
    public static IReadOnlyList<string> CSharpFiles { get; } = EnumerateCSharpFiles();

    public static string FullPath(string relativePath) => Path.Combine(Root, relativePath.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The folder of the nearest .csproj above <paramref name="relativePath"/> (the file's own folder if none).</summary>
    public static string ProjectDirectoryOf(string relativePath) => ProjectOfFile.Value[relativePath];

    private static readonly Lazy<Dictionary<string, string>> ProjectOfFile =
        new(() => CSharpFiles.ToDictionary(f => f, FindProjectDirectory, StringComparer.Ordinal));

    private static string FindProjectDirectory(string relativePath)
    {
        var start = Path.GetDirectoryName(FullPath(relativePath))!;
        for (var dir = new DirectoryInfo(start); dir is not null && dir.FullName.Length >= Root.Length; dir = dir.Parent)
        {
            if (dir.EnumerateFiles("*.csproj").Any())
                return dir.FullName;
        }
        return start;
    }

    /// <summary>The .cs files of a project folder, as <see cref="CSharpFiles"/> lists them.</summary>
    public static IReadOnlyList<string> FilesOfProject(string projectDirectory) =>
        CSharpFiles.Where(f => ProjectDirectoryOf(f) == projectDirectory).ToList();

    /// <summary>
    /// The string literals of a test file that hold kernel-style C# (a type or method that uses a recognised
    /// name), with the testing library's markup (<c>[|…|]</c>, <c>{|XPA0001:…|}</c>) removed. Interpolated
    /// strings are not literals and are skipped.
    /// </summary>
    public static IReadOnlyList<string> KernelSnippets(string source)
    {
        var root = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest)).GetRoot();
        var snippets = new List<string>();
        foreach (var token in root.DescendantTokens())
        {
            if (!token.IsKind(SyntaxKind.StringLiteralToken) && !token.IsKind(SyntaxKind.MultiLineRawStringLiteralToken)
                && !token.IsKind(SyntaxKind.SingleLineRawStringLiteralToken))
                continue;
            var text = Markup.Replace(token.ValueText, "");
            if (LooksLikeKernelCode(text) && !snippets.Contains(text, StringComparer.Ordinal))
                snippets.Add(text);
        }
        return snippets;
    }

    /// <summary>The testing library's span and diagnostic markup.</summary>
    private static readonly Regex Markup = new(@"\[\||\|\]|\{\|[A-Za-z0-9]+:|\|\}", RegexOptions.CultureInvariant);

    private static bool LooksLikeKernelCode(string text)
    {
        if (!text.Contains('{') || !(text.Contains("class ", StringComparison.Ordinal) || text.Contains("static ", StringComparison.Ordinal) || text.Contains("void ", StringComparison.Ordinal)))
            return false;
        return CSharpSyntaxTree.ParseText(text).GetRoot().DescendantTokens()
            .Any(t => t.IsKind(SyntaxKind.IdentifierToken) && KernelApi.IsKernelName(t.ValueText));
    }

    private static IReadOnlyList<string> EnumerateCSharpFiles() =>
        Directory.EnumerateFiles(Root, "*.cs", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(path => !path.Split('/').Any(IsBuildOrHiddenFolder))
            .OrderBy(path => path, StringComparer.Ordinal)
            .ToList();

    /// <summary>Build outputs, restored packages (samples/.packages) and result folders are not the repository's code.</summary>
    private static bool IsBuildOrHiddenFolder(string segment) =>
        segment is "bin" or "obj" or "TestResults" || segment.StartsWith('.');

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "XenPreemptAnalyzers.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("XenPreemptAnalyzers.sln not found above " + AppContext.BaseDirectory);
    }
}
