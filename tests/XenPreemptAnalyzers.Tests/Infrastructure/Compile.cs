using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace XenPreemptAnalyzers.Tests.Infrastructure;

/// <summary>Runs the analyzer directly over sources, for tests that need the raw diagnostics or exceptions.</summary>
internal static class Compile
{
    public static CSharpCompilation Create(params string[] sources) =>
        CSharpCompilation.Create(
            "Test",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, new CSharpParseOptions(LanguageVersion.Latest), path: $"/src/File{i}.cs")),
            InstalledReferences.Net.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

    public static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(CSharpCompilation compilation, System.Action<System.Exception, DiagnosticAnalyzer, Diagnostic>? onException = null)
    {
        var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), onException, concurrentAnalysis: false, logAnalyzerExecutionTime: false);
        var withAnalyzers = compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new PreemptContextAnalyzer()), options);
        return await withAnalyzers.GetAnalyzerDiagnosticsAsync();
    }

    /// <summary>The kernel stubs plus a test source with the kernel names in scope.</summary>
    public static CSharpCompilation WithStubs(string source) => Create(KernelStubs.Usings + source, KernelStubs.Source);
}
