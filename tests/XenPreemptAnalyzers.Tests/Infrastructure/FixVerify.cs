using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace XenPreemptAnalyzers.Tests.Infrastructure;

/// <summary>
/// The code-fix test, offline like <see cref="PreemptTest"/>: the installed reference pack and the kernel
/// stubs in every state (test, fixed, batch-fixed), an optional model. The testing library checks that
/// the fixed code has exactly the expected diagnostics (none unless listed) and compiles, and runs Fix All
/// in document, project and solution.
/// </summary>
internal sealed class FixTest<TFix> : CSharpCodeFixTest<PreemptContextAnalyzer, TFix, DefaultVerifier>
    where TFix : CodeFixProvider, new()
{
    public FixTest(string source, string fixedSource, string? batchFixedSource = null, bool withStubs = true)
    {
        ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        var prefix = withStubs ? KernelStubs.Usings : "";
        TestCode = prefix + source;
        FixedCode = prefix + fixedSource;
        if (batchFixedSource is not null)
        {
            BatchFixedCode = prefix + batchFixedSource;
            _hasBatch = true;
        }
        foreach (var state in States())
        {
            state.AdditionalReferences.AddRange(InstalledReferences.Net.Value);
            if (withStubs)
                state.Sources.Add(("/0/KernelStubs.cs", KernelStubs.Source));
        }
    }

    private readonly bool _hasBatch;

    private IEnumerable<SolutionState> States()
    {
        yield return TestState;
        yield return FixedState;
        if (_hasBatch)
            yield return BatchFixedState;
    }

    /// <summary>The stubs as a file of their own, without the usings prepended to the test code.</summary>
    public FixTest<TFix> WithStubsFile()
    {
        foreach (var state in States())
            state.Sources.Add(("/0/KernelStubs.cs", KernelStubs.Source));
        return this;
    }

    public FixTest<TFix> WithModel(string? model)
    {
        if (model is null)
            return this;
        foreach (var state in States())
            state.AnalyzerConfigFiles.Add(("/.editorconfig", $"root = true\n\n[*.cs]\nxen_preempt.preemption_model = {model}\n"));
        return this;
    }

    public FixTest<TFix> Expect(params DiagnosticResult[] expected)
    {
        ExpectedDiagnostics.AddRange(expected);
        return this;
    }

    public FixTest<TFix> Action(string equivalenceKey, int? index = null)
    {
        CodeActionEquivalenceKey = equivalenceKey;
        CodeActionIndex = index;
        return this;
    }

    protected override ParseOptions CreateParseOptions() =>
        ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Latest);
}

internal static class FixVerify
{
    public static Task Fix<TFix>(string source, string fixedSource, params DiagnosticResult[] expected)
        where TFix : CodeFixProvider, new() =>
        new FixTest<TFix>(source, fixedSource).Expect(expected).RunAsync(CancellationToken.None);

    public static Task Fix<TFix>(string source, string fixedSource, string equivalenceKey, string? model, params DiagnosticResult[] expected)
        where TFix : CodeFixProvider, new() =>
        new FixTest<TFix>(source, fixedSource).WithModel(model).Action(equivalenceKey).Expect(expected).RunAsync(CancellationToken.None);

    /// <summary>No fix is offered: the fixed code is the source.</summary>
    public static Task NoFix<TFix>(string source, string? model, params DiagnosticResult[] expected)
        where TFix : CodeFixProvider, new() =>
        new FixTest<TFix>(source, source).WithModel(model).Expect(expected).RunAsync(CancellationToken.None);
}
