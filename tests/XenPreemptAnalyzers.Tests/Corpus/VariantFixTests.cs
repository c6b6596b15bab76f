using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Xunit;
using Xunit.Abstractions;
using XenPreemptAnalyzers.CodeFixes;

namespace XenPreemptAnalyzers.Tests.Corpus;

/// <summary>
/// Issue 4, last bullet (analyzer half): every offered fix applied to the port's historical variants leaves
/// them analyzer-clean. In memory: the port (default configuration) goes into an AdhocWorkspace with the
/// <c>#pragma warning disable/restore XPA…</c> lines of variants/*.cs removed (they hide the deliberate
/// bugs); the first code action any of our providers offers for an XPA diagnostic in variants/ is applied,
/// again and again until none is left that has a fix (bounded); then the analyzers run once more. The files
/// on disk are not touched. Whether the fixed variants no longer show their bug in the simulated machine is
/// the harness's half and is not checked here.
/// </summary>
public sealed class VariantFixTests
{
    private readonly ITestOutputHelper _output;

    public VariantFixTests(ITestOutputHelper output) => _output = output;

    /// <summary>
    /// The diagnostics for which no fix is offered, as "file: id: why". Empty: every deliberate bug of the
    /// historical variants in the default configuration has a fix.
    /// </summary>
    private static readonly string[] ExpectedWithoutFix = Array.Empty<string>();

    private static readonly Regex XpaPragma = new(@"^\s*#pragma\s+warning\s+(disable|restore)\s+XPA\d{4}\b.*$", RegexOptions.Multiline);

    private static ImmutableArray<CodeFixProvider> Providers() =>
        typeof(Xpa0001CodeFixProvider).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(CodeFixProvider).IsAssignableFrom(t) && t.GetCustomAttributes(typeof(ExportCodeFixProviderAttribute), false).Length > 0)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => (CodeFixProvider)Activator.CreateInstance(t)!)
            .ToImmutableArray();

    private static Solution PortSolution(AdhocWorkspace workspace, out int pragmasRemoved)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest, preprocessorSymbols: ReferencePortTests.DefaultSymbols());
        var project = workspace.AddProject(ProjectInfo.Create(ProjectId.CreateNewId(), VersionStamp.Create(), "XenPreempt.Kernel", "XenPreempt.Kernel",
            LanguageNames.CSharp, compilationOptions: ReferencePortTests.PortCompilationOptions, parseOptions: parse,
            metadataReferences: ReferencePortTests.PortReferences()));
        var solution = project.Solution;
        pragmasRemoved = 0;
        foreach (var path in ReferencePortTests.PortFiles())
        {
            var text = File.ReadAllText(Path.Combine(ReferencePortTests.PortDirectory.Value, path));
            if (IsVariant(path))
            {
                pragmasRemoved += XpaPragma.Matches(text).Count;
                text = XpaPragma.Replace(text, "");
            }
            solution = solution.AddDocument(DocumentId.CreateNewId(project.Id), Path.GetFileName(path), SourceText.From(text), filePath: path);
        }
        return solution;
    }

    private static bool IsVariant(string? path) => path is not null && path.StartsWith("variants/", StringComparison.Ordinal);

    private static async Task<ImmutableArray<Diagnostic>> VariantDiagnosticsAsync(Solution solution)
    {
        var compilation = (await solution.Projects.Single().GetCompilationAsync())!;
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.True(errors.Length == 0, "the port does not compile:\n" + string.Join("\n", errors.Take(10)));
        var diagnostics = await compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new PreemptContextAnalyzer())).GetAnalyzerDiagnosticsAsync();
        return diagnostics.Where(d => d.Id.StartsWith("XPA", StringComparison.Ordinal) && IsVariant(d.Location.SourceTree?.FilePath))
            .OrderBy(d => d.Location.SourceTree!.FilePath, StringComparer.Ordinal).ThenBy(d => d.Location.SourceSpan.Start)
            .ToImmutableArray();
    }

    private static string Describe(Diagnostic d) =>
        $"{d.Location.GetLineSpan().Path}({d.Location.GetLineSpan().StartLinePosition.Line + 1}): {d.Id} {d.GetMessage()}";

    /// <summary>A diagnostic's identity across edits of its file: file, id and the text it is on.</summary>
    private static string Identity(Diagnostic d) =>
        $"{d.Location.SourceTree!.FilePath}: {d.Id}: {d.Location.SourceTree.GetText().ToString(d.Location.SourceSpan)}";

    private static async Task<CodeAction?> FirstFixAsync(Solution solution, Diagnostic diagnostic, ImmutableArray<CodeFixProvider> providers)
    {
        var document = solution.GetDocument(diagnostic.Location.SourceTree)!;
        foreach (var provider in providers.Where(p => p.FixableDiagnosticIds.Contains(diagnostic.Id)))
        {
            var actions = new List<CodeAction>();
            var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None);
            await provider.RegisterCodeFixesAsync(context);
            if (actions.Count > 0)
                return actions[0];
        }
        return null;
    }


    /// <summary>Applies the first fix offered for each XPA diagnostic in variants/, again and again, until none is left that has one.</summary>
    private static async Task<(Solution Fixed, List<string> Applied, SortedSet<string> WithoutFix)> ApplyEveryFixAsync(Solution solution, ImmutableArray<CodeFixProvider> providers)
    {
        var withoutFix = new SortedSet<string>(StringComparer.Ordinal);
        var applied = new List<string>();
        const int MaxIterations = 40;
        for (var iteration = 0; ; iteration++)
        {
            Assert.True(iteration < MaxIterations, "fixes keep producing diagnostics after " + MaxIterations + " iterations:\n" + string.Join("\n", applied));
            CodeAction? fix = null;
            Diagnostic? fixing = null;
            foreach (var diagnostic in await VariantDiagnosticsAsync(solution))
            {
                if (withoutFix.Contains(Identity(diagnostic)))
                    continue;
                fix = await FirstFixAsync(solution, diagnostic, providers);
                if (fix is not null)
                {
                    fixing = diagnostic;
                    break;
                }
                withoutFix.Add(Identity(diagnostic));
            }
            if (fix is null)
                break;
            var operations = await fix.GetOperationsAsync(CancellationToken.None);
            var changed = operations.OfType<ApplyChangesOperation>().Single().ChangedSolution;
            Assert.NotSame(solution, changed);
            applied.Add($"{Describe(fixing!)} -> {fix.Title}");
            solution = changed;
        }
        return (solution, applied, withoutFix);
    }

    [Fact]
    public async Task Every_offered_fix_leaves_the_historical_variants_analyzer_clean()
    {
        using var workspace = new AdhocWorkspace();
        var solution = PortSolution(workspace, out var pragmasRemoved);
        var unfixed = solution;
        Assert.True(pragmasRemoved > 0, "no XPA pragma found in variants/*.cs");
        var providers = Providers();
        Assert.Equal(6, providers.Length);

        var before = await VariantDiagnosticsAsync(solution);
        Assert.NotEmpty(before);
        foreach (var d in before)
            _output.WriteLine("before: " + Describe(d));

        var (fixedSolution, applied, withoutFix) = await ApplyEveryFixAsync(solution, providers);
        solution = fixedSolution;
        foreach (var line in applied)
            _output.WriteLine("applied: " + line);

        foreach (var document in solution.Projects.Single().Documents.Where(d => IsVariant(d.FilePath)))
        {
            var original = await unfixed.GetDocument(document.Id)!.GetTextAsync();
            var now = await document.GetTextAsync();
            if (!now.ContentEquals(original))
                _output.WriteLine($"fixed {document.FilePath}:\n{now}");
        }

        var after = await VariantDiagnosticsAsync(solution);
        foreach (var d in after)
            _output.WriteLine("after: " + Describe(d));

        var fixedButRemaining = after.Where(d => !withoutFix.Contains(Identity(d))).Select(Describe).ToArray();
        Assert.True(fixedButRemaining.Length == 0, "XPA diagnostics left in the variants after their fixes:\n" + string.Join("\n", fixedButRemaining));
        Assert.True(withoutFix.SetEquals(ExpectedWithoutFix),
            "the diagnostics with no fix offered are not the documented set; now:\n" + string.Join("\n", withoutFix));
        Assert.True(applied.Count >= before.Length, "fewer fixes applied than diagnostics found:\n" + string.Join("\n", applied));

        // In memory only: the port on disk still has its pragmas.
        Assert.Contains("#pragma warning disable XPA0001", File.ReadAllText(Path.Combine(ReferencePortTests.PortDirectory.Value, "variants", "fdfd811ddde3.cs")), StringComparison.Ordinal);
    }

    /// <summary>
    /// Issue 4, last bullet (harness half): the fixed variants run in the simulated machine. Where a fix
    /// reaches the code that has the bug, the bug is gone; where the bug is in code the fixes cannot
    /// see — the mechanism compiled out by its Kconfig guard — it stays, and this test says so.
    /// </summary>
    [Theory]
    [InlineData("june2023", "c1", "dynamic-full", "flag-owner", true)]      // per-CPU state moved to TIF_XEN_PREEMPTIBLE_HCALL
    [InlineData("fdfd811ddde3", "c1", "dynamic-full", "flag-owner", true)]
    [InlineData("fdfd811ddde3", "c5", "dynamic-voluntary", "debug-preempt", true)]
    [InlineData("fdfd811ddde3", "c4", "dynamic-none", "sched-context", true)] // __cond_resched bracketed with local_irq_enable/disable
    [InlineData("4624a14f4daa", "c2", "dynamic-none", "hcall-latency", false)] // !CONFIG_PREEMPTION compiles the hand-off out: no fix can reach it
    public async Task Fixed_variants_in_the_machine(string variant, string scenario, string config, string invariant, bool fixedByCodeFixes)
    {
        using var workspace = new AdhocWorkspace();
        var solution = PortSolution(workspace, out _);
        var kernelConfig = XenPreempt.Harness.KernelConfigs.Find(config)!;
        var run = XenPreempt.Harness.Scenarios.Find(scenario)!;

        var before = XenPreempt.Harness.ScenarioRunner.Run(run, variant, kernelConfig);
        Assert.Contains(before.Violations, v => v.Invariant == invariant);

        var (fixedSolution, _, _) = await ApplyEveryFixAsync(solution, Providers());
        var sources = new List<(string Path, string Text)>();
        foreach (var document in fixedSolution.Projects.Single().Documents)
            sources.Add((document.FilePath!, (await document.GetTextAsync()).ToString()));
        var build = XenPreempt.Harness.PortBuilder.Build(kernelConfig, sources);
        var after = XenPreempt.Harness.ScenarioRunner.Run(run, variant, kernelConfig, build: build);
        foreach (var v in after.Violations)
            _output.WriteLine($"after: [{v.Invariant}] {v.Message}");

        if (fixedByCodeFixes)
            Assert.DoesNotContain(after.Violations, v => v.Invariant == invariant);
        else
            Assert.Contains(after.Violations, v => v.Invariant == invariant);
    }
}
