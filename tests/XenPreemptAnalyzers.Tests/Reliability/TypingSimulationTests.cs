// SPDX-License-Identifier: MIT
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using CsCheck;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Xunit;
using Xunit.Abstractions;

namespace XenPreemptAnalyzers.Tests.Reliability;

/// <summary>
/// Typing simulation (docs/reliability.md): every .cs file of the repository, and every kernel snippet the
/// analyzer tests hold, edited the way a person leaves code between keystrokes — truncated inside a token, a
/// line cut short, a token deleted or doubled, an unbalanced brace, half a generic, a dangling <c>#if</c>, a
/// kernel call half typed — then every analyzer runs on it under a random preemption model, and every code-fix
/// provider registers its fixes for each diagnostic reported, for each diagnostic of the unedited file left
/// stale at its old span (as an editor holds them while you type), and for made-up diagnostics at random
/// spans; every action's operations and Fix All are computed. Any exception fails the test; CsCheck shrinks
/// the input to the fewest, earliest edits that still fail and prints it with the seed that replays it.
/// </summary>
public sealed class TypingSimulationTests(ITestOutputHelper output)
{
    /// <summary>Inputs per seed in a run; <c>XPA_TYPING_ITERATIONS</c> raises it for a long run (docs/reliability.md).</summary>
    private static readonly int InputsPerSeed =
        int.TryParse(Environment.GetEnvironmentVariable("XPA_TYPING_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 1;

    /// <summary>An input that takes this long is a hang, not a slow input (the slowest seen takes well under a second
    /// idle; a machine at load 60 stretches that by two orders of magnitude, so the guard is 30 minutes).</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(30);

    /// <summary>How long a failure is shrunk for, after it is found.</summary>
    private const int ShrinkSeconds = 60;

    private static readonly string?[] Models = { null, "none", "voluntary", "full", "lazy", "dynamic" };

    private static long s_inputs;
    private static long s_fixActions;
    private static long s_compilerCrashes;

    public static TheoryData<string> Files => new(RepositorySources.CSharpFiles);

    [Fact]
    public void The_repository_sources_are_found()
    {
        // The port, the samples and the analyzer tests must all be seeds, or the simulation silently shrinks.
        Assert.Contains(RepositorySources.CSharpFiles, f => f.StartsWith("src/XenPreempt.Kernel/", StringComparison.Ordinal));
        Assert.Contains(RepositorySources.CSharpFiles, f => f.StartsWith("samples/KernelPort/", StringComparison.Ordinal));
        Assert.Contains("tests/XenPreemptAnalyzers.Tests/Reliability/TypingSimulationTests.cs", RepositorySources.CSharpFiles);
        Assert.DoesNotContain(RepositorySources.CSharpFiles, f => f.Contains("/obj/", StringComparison.Ordinal) || f.Contains("/bin/", StringComparison.Ordinal));
        Assert.True(RepositorySources.KernelSnippets(System.IO.File.ReadAllText(RepositorySources.FullPath("tests/XenPreemptAnalyzers.Tests/Rules/Xpa0001Tests.cs"))).Count > 5);
        var seeds = RepositorySources.CSharpFiles.Sum(f => TypingSeeds.For(f).Count);
        output.WriteLine($"{RepositorySources.CSharpFiles.Count} files, {seeds} seeds (files and test snippets): {seeds * InputsPerSeed} inputs a run at {InputsPerSeed} per seed");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Typing_in_any_file_never_makes_an_analyzer_or_a_fix_throw(string file)
    {
        var seeds = TypingSeeds.For(file);
        var before = Interlocked.Read(ref s_inputs);
        var generator = Generator(seeds.Count);
        try
        {
            await generator.SampleAsync(input => RunAsync(seeds, input), writeLine: output.WriteLine,
                iter: InputsPerSeed * seeds.Count, print: input => Describe(seeds, input));
        }
        catch (CsCheckException failure) when (SeedOf(failure) is { } failingSeed)
        {
            // CsCheck shrinks while it samples, so a failure found late in a short run is barely shrunk: give it a
            // budget of its own, starting from the failing seed. Its (smaller) failure is the one reported.
            await generator.SampleAsync(input => RunAsync(seeds, input), writeLine: output.WriteLine,
                seed: failingSeed, time: ShrinkSeconds, print: input => Describe(seeds, input));
            throw;
        }
        output.WriteLine($"{file}: {Interlocked.Read(ref s_inputs) - before} inputs from {seeds.Count} seed(s); " +
                         $"process totals: {Interlocked.Read(ref s_inputs)} inputs, {Interlocked.Read(ref s_fixActions)} fix actions computed, " +
                         $"{Interlocked.Read(ref s_compilerCrashes)} left out because the compiler itself crashed binding them");
    }

    /// <summary>A made-up diagnostic: which catalogue entry, and where.</summary>
    internal readonly record struct MadeUpDiagnostic(int Entry, int Start, int Length);

    internal sealed record TypingInput(int Seed, Edit[] Edits, int Model, MadeUpDiagnostic[] MadeUp);

    private static Gen<TypingInput> Generator(int seeds)
    {
        var edit = Gen.Select(Gen.Enum<EditKind>(), Gen.Int[0, int.MaxValue], Gen.Int[0, 255], (kind, where, variant) => new Edit(kind, where, variant));
        var madeUp = Gen.Select(Gen.Int[0, MadeUpDiagnostics.Catalogue.Length - 1], Gen.Int[0, int.MaxValue], Gen.Int[0, 64], (entry, start, length) => new MadeUpDiagnostic(entry, start, length));
        return Gen.Select(Gen.Int[0, seeds - 1], edit.Array[1, 3], Gen.Int[0, Models.Length - 1], madeUp.Array[0, 2],
            (seed, edits, model, made) => new TypingInput(seed, edits, model, made));
    }

    private static async Task RunAsync(IReadOnlyList<TypingSeed> seeds, TypingInput input)
    {
        using var hang = new CancellationTokenSource(HangGuard);
        var cancellationToken = hang.Token;
        try
        {
            var seed = seeds[input.Seed];
            var (text, _) = TypingEdits.Apply(seed.Text, input.Edits);
            var (solution, documentId) = await seed.Open();
            var document = solution.WithDocumentText(documentId, SourceText.From(text)).GetDocument(documentId)!;
            var compilation = (await document.Project.GetCompilationAsync(cancellationToken))!;
            var tree = (await document.GetSyntaxTreeAsync(cancellationToken))!;
            if (CompilerCrashesOn(compilation, tree, cancellationToken))
            {
                Interlocked.Increment(ref s_compilerCrashes);
                return;
            }

            var reported = await AllExtensions.AnalyzeAsync(compilation, tree, new ModelOptions(Models[input.Model]), cancellationToken);
            var stale = (await UneditedDiagnostics(seed)).Select(d => MadeUpDiagnostics.MoveTo(d, tree));
            var madeUp = input.MadeUp.Select(m => MadeUpDiagnostics.Create(m, tree));
            var all = reported.Concat(stale).Concat(madeUp).ToImmutableArray();
            foreach (var diagnostic in all)
                Interlocked.Add(ref s_fixActions, await AllExtensions.FixAsync(document, diagnostic, all, cancellationToken));
            Interlocked.Increment(ref s_inputs);
        }
        catch (OperationCanceledException) when (hang.IsCancellationRequested)
        {
            throw new TimeoutException($"Analysis and fixes of one input did not finish within {HangGuard.TotalMinutes} minutes: a hang.");
        }
    }

    /// <summary>
    /// Whether the compiler itself throws binding the edited file, before any analyzer runs: Roslyn 5's binder asserts
    /// on some half-typed code (<c>out var&lt;int message, …</c>: "Unexpected value 'ParenthesizedVariableDesignation'"
    /// in <c>Binder.BindOutDeclarationArgument</c>, found by a long run, docs/reliability.md). A build or an editor
    /// fails on such code whatever analyzers are loaded, so it says nothing about ours; such inputs are counted and left
    /// out. Only an exception thrown inside the compiler's own assemblies counts.
    /// </summary>
    private static bool CompilerCrashesOn(Compilation compilation, SyntaxTree tree, CancellationToken cancellationToken)
    {
        try
        {
            _ = compilation.GetSemanticModel(tree).GetDiagnostics(cancellationToken: cancellationToken);
            return false;
        }
        catch (Exception e) when (e is not OperationCanceledException && IsThrownByTheCompiler(e))
        {
            return true;
        }
    }

    private static bool IsThrownByTheCompiler(Exception e) =>
        e.TargetSite?.Module.Assembly is { } thrower
        && (thrower == typeof(Compilation).Assembly || thrower == typeof(Microsoft.CodeAnalysis.CSharp.CSharpCompilation).Assembly);

    /// <summary>The seed CsCheck names in its failure message (<c>Set seed: "…"</c>).</summary>
    private static string? SeedOf(CsCheckException failure)
    {
        var match = System.Text.RegularExpressions.Regex.Match(failure.Message, "Set seed: \"([^\"]+)\"");
        return match.Success ? match.Groups[1].Value : null;
    }

    private static readonly ConcurrentDictionary<string, Lazy<Task<ImmutableArray<Diagnostic>>>> Unedited = new(StringComparer.Ordinal);

    /// <summary>
    /// What the analyzers report on the seed as it is: the diagnostics an editor still shows while you type. A seed
    /// that names no kernel function or contract attribute reports nothing; it is not analysed twice.
    /// </summary>
    private static Task<ImmutableArray<Diagnostic>> UneditedDiagnostics(TypingSeed seed) =>
        Unedited.GetOrAdd(seed.Name, _ => new(async () =>
        {
            if (!NamesKernelApi(seed.Text))
                return ImmutableArray<Diagnostic>.Empty;
            var (solution, documentId) = await seed.Open();
            var document = solution.GetDocument(documentId)!;
            var compilation = (await document.Project.GetCompilationAsync())!;
            return await AllExtensions.AnalyzeAsync(compilation, (await document.GetSyntaxTreeAsync())!, new ModelOptions(null), CancellationToken.None);
        })).Value;

    private static bool NamesKernelApi(string text) =>
        Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(text).GetRoot().DescendantTokens()
            .Any(t => t.IsKind(Microsoft.CodeAnalysis.CSharp.SyntaxKind.IdentifierToken)
                      && (Recognition.KernelApi.IsKernelName(t.ValueText) || Recognition.KernelAttributes.All.Any(a => t.ValueText.StartsWith(a, StringComparison.Ordinal))));

    private static string Describe(IReadOnlyList<TypingSeed> seeds, TypingInput input)
    {
        var seed = seeds[input.Seed];
        var (text, steps) = TypingEdits.Apply(seed.Text, input.Edits);
        var builder = new StringBuilder();
        builder.Append($"\n  seed: {seed.Name}\n  preemption model: {Models[input.Model] ?? "(none configured)"}\n  edits:\n");
        foreach (var step in steps)
            builder.Append("    - ").Append(step).Append('\n');
        foreach (var made in input.MadeUp)
            builder.Append("  made-up diagnostic: ").Append(MadeUpDiagnostics.Describe(made, text)).Append('\n');
        builder.Append("  the edited text where it changed:\n").Append(TypingEdits.ChangedRegion(seed.Text, text));
        return builder.ToString();
    }
}
