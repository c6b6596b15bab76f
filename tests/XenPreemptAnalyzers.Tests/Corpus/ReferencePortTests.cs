using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;
using XenPreempt.Harness.Agreement;

namespace XenPreemptAnalyzers.Tests.Corpus;

/// <summary>
/// Dogfooding (issue 3, item 7): every analyzer over the reference port (src/XenPreempt.Kernel) in its
/// default configuration — the symbols of its csproj. Only the pragma'd lines (the deliberate historical
/// bugs in variants/) fire, and every pragma there is needed.
/// </summary>
public sealed class ReferencePortTests
{
    internal static readonly Lazy<string> PortDirectory = new(() =>
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "XenPreemptAnalyzers.sln")))
            dir = Path.GetDirectoryName(dir);
        return Path.Combine(dir ?? throw new InvalidOperationException("XenPreemptAnalyzers.sln not found above " + AppContext.BaseDirectory), "src", "XenPreempt.Kernel");
    });

    /// <summary>The default configuration: the DefineConstants of XenPreempt.Kernel.csproj.</summary>
    internal static string[] DefaultSymbols()
    {
        var csproj = File.ReadAllText(Path.Combine(PortDirectory.Value, "XenPreempt.Kernel.csproj"));
        var match = Regex.Match(csproj, "<DefineConstants>(.*?)</DefineConstants>", RegexOptions.Singleline);
        Assert.True(match.Success, "XenPreempt.Kernel.csproj has no DefineConstants");
        return match.Groups[1].Value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(s => !s.StartsWith("$(", StringComparison.Ordinal)).ToArray();
    }

    private static CSharpCompilation CompilePort(IEnumerable<string> symbols)
    {
        var root = PortDirectory.Value;
        var options = new CSharpParseOptions(LanguageVersion.Latest, preprocessorSymbols: symbols);
        var trees = PortFiles()
            .Select(p => CSharpSyntaxTree.ParseText(File.ReadAllText(Path.Combine(root, p)), options, path: p))
            .ToArray();
        var compilation = CSharpCompilation.Create("XenPreempt.Kernel", trees, PortReferences(), PortCompilationOptions);
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.True(errors.Length == 0, "the port does not compile:\n" + string.Join("\n", errors.Take(10)));
        return compilation;
    }

    /// <summary>What the port is compiled against: the framework, the machine and the annotations.</summary>
    internal static IEnumerable<MetadataReference> PortReferences()
    {
        var tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var framework = tpa.Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll");
        var shared = new[] { typeof(XenPreempt.Machine.IGuest).Assembly.Location, typeof(XenPreempt.Annotations.ProcessContextAttribute).Assembly.Location };
        return framework.Concat(shared).Distinct().Select(p => MetadataReference.CreateFromFile(p));
    }

    internal static readonly CSharpCompilationOptions PortCompilationOptions =
        new(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable);

    /// <summary>The port's source files, relative paths with '/', in a fixed order.</summary>
    internal static IEnumerable<string> PortFiles()
    {
        var root = PortDirectory.Value;
        return Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(root, p).Replace('\\', '/'))
            .Where(p => !p.StartsWith("obj/", StringComparison.Ordinal) && !p.StartsWith("bin/", StringComparison.Ordinal))
            .OrderBy(p => p, StringComparer.Ordinal);
    }

    /// <summary>Every XPA diagnostic, suppressed by a pragma or not.</summary>
    private static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(CSharpCompilation compilation)
    {
        var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), onAnalyzerException: null,
            concurrentAnalysis: false, logAnalyzerExecutionTime: false, reportSuppressedDiagnostics: true);
        var diagnostics = await compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new PreemptContextAnalyzer()), options).GetAnalyzerDiagnosticsAsync();
        return diagnostics.Where(d => d.Id.StartsWith("XPA", StringComparison.Ordinal)).ToImmutableArray();
    }

    /// <summary>Each <c>#pragma warning disable XPA…</c> with the lines it covers (the harness's agreement check reads them the same way).</summary>
    private static IReadOnlyList<XpaPragmas.Found> Pragmas(CSharpCompilation compilation) => XpaPragmas.Scan(compilation);

    private static bool Covers(XpaPragmas.Found pragma, Diagnostic diagnostic)
    {
        var span = diagnostic.Location.GetLineSpan();
        var line = span.StartLinePosition.Line + 1;
        return pragma.Rule == diagnostic.Id && pragma.File == span.Path && line >= pragma.FromLine && line <= pragma.ToLine;
    }

    private static string Describe(Diagnostic d) => $"{d.Location.GetLineSpan().Path}({d.Location.GetLineSpan().StartLinePosition.Line + 1}): {d.Id} {d.GetMessage()}";

    [Fact]
    public async Task Only_the_pragmad_historical_bugs_fire_and_every_pragma_is_needed()
    {
        var compilation = CompilePort(DefaultSymbols());
        var diagnostics = await AnalyzeAsync(compilation);
        var pragmas = Pragmas(compilation);

        var unexplained = diagnostics.Where(d => !pragmas.Any(p => Covers(p, d))).Select(Describe).ToArray();
        Assert.True(unexplained.Length == 0, "diagnostics on the port outside a pragma of their id:\n" + string.Join("\n", unexplained));
        Assert.All(diagnostics, d => Assert.True(d.IsSuppressed, "not suppressed: " + Describe(d)));

        var idle = pragmas.Where(p => !diagnostics.Any(d => Covers(p, d))).Select(p => $"{p.File}({p.Line}): {p.Rule}").ToArray();
        Assert.True(idle.Length == 0, "pragmas that suppress nothing in the default configuration:\n" + string.Join("\n", idle));

        // Each one says which commit it reproduces, and only the historical variants carry them.
        Assert.All(pragmas, p =>
        {
            Assert.StartsWith("variants/", p.File);
            Assert.Matches(@"^//\s*\S.{10,}", p.Why);
        });
        Assert.NotEmpty(pragmas);
    }

    [Fact]
    public async Task Our_fix_has_neither_a_diagnostic_nor_a_pragma()
    {
        var compilation = CompilePort(DefaultSymbols());
        var diagnostics = await AnalyzeAsync(compilation);
        Assert.Empty(diagnostics.Where(d => d.Location.GetLineSpan().Path == "variants/ours.cs").Select(Describe));
        var ours = compilation.SyntaxTrees.Single(t => t.FilePath == "variants/ours.cs");
        Assert.DoesNotContain("#pragma", ours.GetText().ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_configuration_is_the_dynamic_model()
    {
        var symbols = DefaultSymbols();
        Assert.Contains("CONFIG_PREEMPT_DYNAMIC", symbols);
        Assert.Contains("CONFIG_XEN_PV", symbols);
    }
}
