// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using XenPreemptAnalyzers;
using XenPreemptAnalyzers.CodeFixes;

namespace XenPreempt.Harness.Agreement;

/// <summary>The port after the analyzers' code fixes, and what was done to get there.</summary>
/// <param name="Sources">Every source file of the port, fixed.</param>
/// <param name="Applied">One line per fix applied: the diagnostic and the fix's title.</param>
/// <param name="WithoutFix">The diagnostics no provider offered a fix for, as "file: id: text".</param>
/// <param name="PragmasRemoved">How many XPA pragma lines were taken out of variants/ first.</param>
public sealed record FixedPort(IReadOnlyList<(string Path, string Text)> Sources, IReadOnlyList<string> Applied, IReadOnlyCollection<string> WithoutFix, int PragmasRemoved);

/// <summary>
/// Applies the analyzers' code fixes to the port's historical variants, in memory, as a user clicking
/// each light bulb would: the <c>#pragma warning disable/restore XPA…</c> lines of variants/*.cs are
/// removed (they hide the deliberate bugs); then the first action any provider offers for an XPA
/// diagnostic in variants/ is applied, again and again, until no diagnostic with a fix is left.
/// </summary>
public static class CodeFixApplier
{
    private const int MaxIterations = 40;

    private static readonly Regex XpaPragma = new(@"^\s*#pragma\s+warning\s+(disable|restore)\s+XPA\d{4}\b.*$", RegexOptions.Multiline);

    /// <summary>Every code-fix provider of the package, in a fixed order.</summary>
    public static ImmutableArray<CodeFixProvider> Providers() =>
        typeof(Xpa0001CodeFixProvider).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(CodeFixProvider).IsAssignableFrom(t) && t.GetCustomAttributes(typeof(ExportCodeFixProviderAttribute), false).Length > 0)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => (CodeFixProvider)Activator.CreateInstance(t)!)
            .ToImmutableArray();

    /// <summary>A variant file's text with its XPA pragma lines taken out, as the fixes start from it.</summary>
    public static string WithoutPragmas(string text) => XpaPragma.Replace(text, "");

    public static bool IsVariant(string? path) => path is not null && path.StartsWith("variants/", StringComparison.Ordinal);

    /// <summary>The port as a one-project solution under <paramref name="config"/>'s symbols, pragmas taken out of variants/.</summary>
    public static Solution PortSolution(AdhocWorkspace workspace, KernelConfig config, IEnumerable<(string Path, string Text)> sources, out int pragmasRemoved)
    {
        var project = workspace.AddProject(ProjectInfo.Create(ProjectId.CreateNewId(), VersionStamp.Create(), "XenPreempt.Kernel", "XenPreempt.Kernel",
            LanguageNames.CSharp, compilationOptions: PortBuilder.CompilationOptions, parseOptions: PortBuilder.ParseOptions(config),
            metadataReferences: PortBuilder.PortReferences));
        var solution = project.Solution;
        pragmasRemoved = 0;
        foreach (var (path, source) in sources)
        {
            var text = source;
            if (IsVariant(path))
            {
                pragmasRemoved += XpaPragma.Matches(text).Count;
                text = WithoutPragmas(text);
            }
            solution = solution.AddDocument(DocumentId.CreateNewId(project.Id), System.IO.Path.GetFileName(path), SourceText.From(text), filePath: path);
        }
        return solution;
    }

    /// <summary>The port's sources with every offered fix applied under <paramref name="config"/>.</summary>
    public static async Task<FixedPort> FixPortAsync(KernelConfig config, IEnumerable<(string Path, string Text)>? sources = null)
    {
        using var workspace = new AdhocWorkspace();
        var solution = PortSolution(workspace, config, sources ?? PortBuilder.PortSources, out var pragmasRemoved);
        var (fixedSolution, applied, withoutFix) = await ApplyEveryFixAsync(solution, Providers()).ConfigureAwait(false);
        var fixedSources = new List<(string, string)>();
        foreach (var document in fixedSolution.Projects.Single().Documents)
            fixedSources.Add((document.FilePath!, (await document.GetTextAsync().ConfigureAwait(false)).ToString()));
        return new FixedPort(fixedSources, applied, withoutFix, pragmasRemoved);
    }

    /// <summary>The XPA diagnostics in variants/, in source order.</summary>
    public static async Task<ImmutableArray<Diagnostic>> VariantDiagnosticsAsync(Solution solution)
    {
        var compilation = (await solution.Projects.Single().GetCompilationAsync().ConfigureAwait(false))!;
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        if (errors.Length > 0)
            throw new InvalidOperationException("the port does not compile after code fixes:\n" + string.Join("\n", errors.Take(10)));
        var diagnostics = await compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new PreemptContextAnalyzer())).GetAnalyzerDiagnosticsAsync().ConfigureAwait(false);
        return diagnostics.Where(d => d.Id.StartsWith("XPA", StringComparison.Ordinal) && IsVariant(d.Location.SourceTree?.FilePath))
            .OrderBy(d => d.Location.SourceTree!.FilePath, StringComparer.Ordinal).ThenBy(d => d.Location.SourceSpan.Start)
            .ToImmutableArray();
    }

    public static string Describe(Diagnostic d) =>
        $"{d.Location.GetLineSpan().Path}({d.Location.GetLineSpan().StartLinePosition.Line + 1}): {d.Id} {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>A diagnostic's identity across edits of its file: file, id and the text it is on.</summary>
    public static string Identity(Diagnostic d) =>
        $"{d.Location.SourceTree!.FilePath}: {d.Id}: {d.Location.SourceTree.GetText().ToString(d.Location.SourceSpan)}";

    /// <summary>Applies the first fix offered for each XPA diagnostic in variants/, again and again, until none is left that has one.</summary>
    public static async Task<(Solution Fixed, List<string> Applied, SortedSet<string> WithoutFix)> ApplyEveryFixAsync(Solution solution, ImmutableArray<CodeFixProvider> providers)
    {
        var withoutFix = new SortedSet<string>(StringComparer.Ordinal);
        var applied = new List<string>();
        for (var iteration = 0; ; iteration++)
        {
            if (iteration >= MaxIterations)
                throw new InvalidOperationException($"fixes keep producing diagnostics after {MaxIterations} iterations:\n" + string.Join("\n", applied));
            CodeAction? fix = null;
            Diagnostic? fixing = null;
            foreach (var diagnostic in await VariantDiagnosticsAsync(solution).ConfigureAwait(false))
            {
                if (withoutFix.Contains(Identity(diagnostic)))
                    continue;
                fix = await FirstFixAsync(solution, diagnostic, providers).ConfigureAwait(false);
                if (fix is not null)
                {
                    fixing = diagnostic;
                    break;
                }
                withoutFix.Add(Identity(diagnostic));
            }
            if (fix is null)
                return (solution, applied, withoutFix);
            var operations = await fix.GetOperationsAsync(CancellationToken.None).ConfigureAwait(false);
            var changed = operations.OfType<ApplyChangesOperation>().Single().ChangedSolution;
            if (ReferenceEquals(changed, solution))
                throw new InvalidOperationException($"the fix '{fix.Title}' for {Describe(fixing!)} changed nothing");
            applied.Add($"{Describe(fixing!)} -> {fix.Title}");
            solution = changed;
        }
    }

    private static async Task<CodeAction?> FirstFixAsync(Solution solution, Diagnostic diagnostic, ImmutableArray<CodeFixProvider> providers)
    {
        var document = solution.GetDocument(diagnostic.Location.SourceTree)!;
        foreach (var provider in providers.Where(p => p.FixableDiagnosticIds.Contains(diagnostic.Id)))
        {
            var actions = new List<CodeAction>();
            var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None);
            await provider.RegisterCodeFixesAsync(context).ConfigureAwait(false);
            if (actions.Count > 0)
                return actions[0];
        }
        return null;
    }
}
