// SPDX-License-Identifier: MIT
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Xunit;
using XenPreemptAnalyzers.Infrastructure;
using XenPreemptAnalyzers.Performance;
using XenPreemptAnalyzers.Recognition;
using XenPreemptAnalyzers.Tests.Infrastructure;

namespace XenPreemptAnalyzers.Tests.Performance;

/// <summary>
/// The per-tree text check (<see cref="BodyPrefilter.TreeMayCallRecognised"/>, <see cref="NameScan"/>) is a pre-check of
/// the body pre-filter: it may let a tree through whose bodies all fail the filter, never stop one with a body that passes.
/// </summary>
public sealed class TreeTextCheckTests
{
    private static readonly NameSet KernelNames = new(KernelApi.Names.Append(KernelApi.HypercallStateName), BodyPrefilter.HypercallNamePrefixes);

    [Fact]
    public void The_hypercall_prefixes_are_the_kernel_tables()
    {
        var table = (string[])typeof(KernelApi).GetField("HypercallPrefixes", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!;
        Assert.Equal(table, BodyPrefilter.HypercallNamePrefixes);
    }

    [Theory]
    [InlineData("class C { void f() { schedule(); } }", true)]
    [InlineData("class C { void f() { my_schedule(); schedule_it(); xschedule(); } }", false)]
    [InlineData("class C { void f() { HYPERVISOR_sched_op(1, 2); } }", true)] // a hypercall prefix
    [InlineData("class C { void f() { HYPERVISOR(); _hypercal(); } }", false)]
    [InlineData("class C { void @schedule() { } }", true)] // a verbatim identifier's value has no '@'
    [InlineData("class C { void f() { \\u0073chedule(); } }", true)] // an escape can spell any name: ruled in
    [InlineData("class C { void f() { sche\u200Bdule(); } }", true)] // the lexer drops formatting characters from the value
    [InlineData("class C { void f() { int x = 1schedule; } }", true)] // a number ends where the identifier begins
    [InlineData("class C { void f() { int x = 0xcond_resched; } }", true)]
    [InlineData("class C { void f() { éschedule(); } }", false)] // a letter: one identifier
    [InlineData("class C { void f() { «schedule»(); } }", true)] // not identifier characters: schedule stands alone
    [InlineData("// calls schedule\nclass C { }", true)] // comments count: more trees, never fewer
    [InlineData("class C { string s = \"\\\\user\"; }", true)] // a backslash-u anywhere rules the text in
    [InlineData("class C { void f() { var t = \"a\"; } } /* 𝒳 */", true)] // a surrogate pair too
    public void Scan_finds_every_identifier_the_lexer_would(string source, bool expected)
    {
        Assert.Equal(expected, NameScan.Mentions(SourceText.From(source), KernelNames, CancellationToken.None));
        if (!expected)
            return;
        // Wherever the text falls in the scan's 4096-character chunks, the answer is the same.
        foreach (var padding in new[] { 4090, 4093, 4096, 8190 })
            Assert.True(NameScan.Mentions(SourceText.From(new string(' ', padding) + source), KernelNames, CancellationToken.None), $"padding {padding}");
    }

    [Fact]
    public void Scan_collects_the_names_in_call_position()
    {
        const string source = """
            class C
            {
                void f()
                {
                    a(); b<int>(); c /* why */ (); d
                    // on the next line
                    (); e + 1; x.g = 2; h
                    (1); 2k(); @m();
                }
            }
            """;
        var called = new CalledNames();

        Assert.False(NameScan.Scan(SourceText.From(source), new TextSpan(0, source.Length), KernelNames, called, CancellationToken.None));

        Assert.Superset(new HashSet<string> { "a", "b", "c", "d", "h", "k", "m", "f" }, called.Names.ToHashSet());
        Assert.DoesNotContain("e", called.Names);
        Assert.DoesNotContain("g", called.Names);
        Assert.Equal(called.Names.Count, called.Names.Distinct().Count());
    }

    /// <summary>
    /// Over the port, the generated dense and ordinary code and the edge cases above: every tree with a body that the
    /// pre-filter lets through passes the text check, and the check rules out the trees that name nothing.
    /// </summary>
    [Fact]
    public void The_text_check_never_stops_a_tree_whose_body_passes_the_prefilter()
    {
        List<(string Path, string Text)> sources = KernelCodeGenerator.Generate(CodeKind.Dense, 3)
            .Concat(KernelCodeGenerator.Generate(CodeKind.Ordinary, 10))
            .Select(s => (Path: s.Path, Text: s.Text))
            .Concat(PortSources())
            .Append((Path: "Helpers.cs", Text: """
                static class Helpers
                {
                    static void preempt_disable() { }
                    static void enter() { preempt_disable(); }
                    static void outer() { enter(); }
                }
                """))
            .Append(("ThroughHelpers.cs", "static class Through { static void f() { Helpers.outer(); } static void g() { } }"))
            .Append(("Attributed.cs", "static class Attributed { [DisablesPreemption] static void hold() { } } class DisablesPreemptionAttribute : System.Attribute { }"))
            .Append(("CallsAttributed.cs", "static class CallsAttributed { static void f() { hold(); } static void hold() { } }"))
            .ToList();
        var compilation = CSharpCompilation.Create(
            "TextCheck",
            sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, new CSharpParseOptions(LanguageVersion.Latest), path: s.Path)),
            InstalledReferences.Net.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var prefilter = new BodyPrefilter(compilation, new HashSet<string>(), new List<IAssemblySymbol>(), new TreeCounters());

        var ruledOut = 0;
        foreach (var tree in compilation.SyntaxTrees)
        {
            var passingBodies = CodeBlocks.Of(tree.GetRoot()).Where(block => prefilter.MayCallRecognised(block, CancellationToken.None)).ToList();
            var treePasses = prefilter.TreeMayCallRecognised(tree, CancellationToken.None);
            Assert.True(treePasses || passingBodies.Count == 0, $"{tree.FilePath}: the text check stops a tree whose body passes the pre-filter");
            if (!treePasses)
                ruledOut++;
        }
        Assert.True(compilation.SyntaxTrees.Count() > 20, "the port was not found");
        // The ordinary files (but those calling the dense helpers' names) are ruled out without a token walk.
        Assert.True(ruledOut >= 7, $"{ruledOut} trees ruled out");
    }

    /// <summary>The port's sources (src/XenPreempt.Kernel), found from the test's output folder upwards.</summary>
    private static IEnumerable<(string Path, string Text)> PortSources()
    {
        for (var dir = new DirectoryInfo(System.AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var port = Path.Combine(dir.FullName, "src", "XenPreempt.Kernel");
            if (!Directory.Exists(port))
                continue;
            return Directory.EnumerateFiles(port, "*.cs", SearchOption.AllDirectories)
                .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
                .OrderBy(path => path, System.StringComparer.Ordinal)
                .Select(path => (Path.GetRelativePath(port, path), File.ReadAllText(path)))
                .ToList();
        }
        return Enumerable.Empty<(string Path, string Text)>();
    }
}
