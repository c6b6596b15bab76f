// SPDX-License-Identifier: MIT
using System;
using System.IO;
using System.Linq;
using System.Collections.Generic;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
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

    private static SyntaxNode Parse(string path) => CSharpSyntaxTree.ParseText(File.ReadAllText(path)).GetRoot();

    /// <summary>The names of the types declared in <paramref name="files"/>, nested ones included.</summary>
    private static HashSet<string> TypesDeclaredIn(IEnumerable<string> files) =>
        new(files.SelectMany(f => Parse(f).DescendantNodes().OfType<BaseTypeDeclarationSyntax>()).Select(t => t.Identifier.ValueText), StringComparer.Ordinal);

    /// <summary>Every identifier a file's code uses (comments and strings are not code).</summary>
    private static IEnumerable<string> IdentifiersUsedIn(string path) =>
        Parse(path).DescendantNodes().OfType<SimpleNameSyntax>().Select(n => n.Identifier.ValueText);

    private static List<string> Offending(IEnumerable<string> files, ISet<string> forbidden) =>
        files.SelectMany(f => IdentifiersUsedIn(f).Where(forbidden.Contains).Distinct().Select(name => $"{f}: {name}")).ToList();

    [Fact]
    public void The_flow_engine_names_no_rule()
    {
        var files = SourcesUnder(Analyzers + "Flow/");
        Assert.NotEmpty(files);
        var naming = files.Where(f => Regex.IsMatch(File.ReadAllText(f), @"XPA0\d|Xpa0\d")).ToList();
        Assert.Empty(naming);

        // Nor a rule class, a descriptor or a diagnostic property: the engine's facts are named for what they are.
        var ruleVocabulary = TypesDeclaredIn(SourcesUnder(Analyzers + "Rules/"));
        ruleVocabulary.UnionWith(new[] { "Descriptors", "DiagnosticProperties", "Diagnostic", "DiagnosticDescriptor" });
        Assert.Contains("PreemptRule", ruleVocabulary);
        Assert.Empty(Offending(files, ruleVocabulary));
    }

    [Fact]
    public void The_core_knows_no_domain()
    {
        // The generic core (worklist, regions, path sets) names nothing the domains or Recognition declare.
        var core = SourcesUnder(Analyzers + "Flow/Core/");
        Assert.NotEmpty(core);
        var coreTypes = TypesDeclaredIn(core);
        var domainVocabulary = TypesDeclaredIn(SourcesUnder(Analyzers + "Flow/").Except(core).Concat(SourcesUnder(Analyzers + "Recognition/")));
        domainVocabulary.ExceptWith(coreTypes);
        Assert.Contains("ContextState", domainVocabulary);
        Assert.Empty(Offending(core, domainVocabulary));
    }

    [Fact]
    public void Transfer_functions_record_nothing()
    {
        // Observations are read out of the fixed point afterwards (Flow/Observations.cs), never recorded while iterating.
        var iterating = SourcesUnder(Analyzers + "Flow/Core/").Concat(SourcesUnder(Analyzers + "Flow/Domains/")).Append(FullPath(Analyzers + "Flow/BranchRefinement.cs"));
        Assert.Empty(Offending(iterating, new HashSet<string>(StringComparer.Ordinal) { "FlowResult", "Observations", "PreemptFlowEngine" }));
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

        // Of Recognition, a rule may name only the vocabulary a FlowResult carries: the effects (CallEffect.cs) and the model.
        var carried = TypesDeclaredIn(new[] { FullPath(Analyzers + "Recognition/CallEffect.cs"), FullPath(Analyzers + "Recognition/PreemptionModel.cs") });
        var recognition = TypesDeclaredIn(SourcesUnder(Analyzers + "Recognition/"));
        recognition.ExceptWith(carried);
        Assert.Contains("KernelApi", recognition);
        Assert.Empty(Offending(files, recognition));
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
