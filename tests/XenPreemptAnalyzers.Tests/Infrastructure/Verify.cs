using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace XenPreemptAnalyzers.Tests.Infrastructure;

/// <summary>The analyzer test, offline: installed reference pack, kernel stubs, optional model and options.</summary>
internal sealed class PreemptTest : CSharpAnalyzerTest<PreemptContextAnalyzer, DefaultVerifier>
{
    public PreemptTest(string source, bool withStubs = true)
    {
        ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        TestState.AdditionalReferences.AddRange(InstalledReferences.Net.Value);
        TestCode = withStubs ? KernelStubs.Usings + source : source;
        if (withStubs)
            TestState.Sources.Add(("/0/KernelStubs.cs", KernelStubs.Source));
    }

    /// <summary>Preprocessor symbols for the test's parse options (Kconfig symbols).</summary>
    public List<string> PreprocessorSymbols { get; } = new();

    /// <summary>Sets <c>xen_preempt.preemption_model</c> (and any other keys) in an .editorconfig.</summary>
    public PreemptTest WithEditorConfig(params (string Key, string Value)[] entries)
    {
        var text = "root = true\n\n[*.cs]\n" + string.Concat(entries.Select(e => $"{e.Key} = {e.Value}\n"));
        TestState.AnalyzerConfigFiles.Add(("/.editorconfig", text));
        return this;
    }

    public PreemptTest WithModel(string? model) => model is null ? this : WithEditorConfig(("xen_preempt.preemption_model", model));

    public PreemptTest Expect(params DiagnosticResult[] expected)
    {
        ExpectedDiagnostics.AddRange(expected);
        return this;
    }

    protected override ParseOptions CreateParseOptions() =>
        ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Latest).WithPreprocessorSymbols(PreprocessorSymbols);
}

internal static class Verify
{
    /// <summary>Runs the analyzer over <paramref name="source"/> (kernel names in scope) under <paramref name="model"/>.</summary>
    public static Task Analyzer(string source, string? model, params DiagnosticResult[] expected) =>
        new PreemptTest(source).WithModel(model).Expect(expected).RunAsync(CancellationToken.None);

    public static Task Analyzer(string source, params DiagnosticResult[] expected) => Analyzer(source, null, expected);

    public static DiagnosticResult Diagnostic(string id, int markupLocation = 0) =>
        new DiagnosticResult(id, id == DiagnosticIds.RawRescheduleOnGenericPath ? DiagnosticSeverity.Info : DiagnosticSeverity.Warning)
            .WithLocation(markupLocation)
            .WithOptions(DiagnosticOptions.IgnoreAdditionalLocations);
}
