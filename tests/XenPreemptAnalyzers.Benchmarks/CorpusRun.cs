using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using XenPreemptAnalyzers.Performance;
using XenPreemptAnalyzers.Tests.Infrastructure;

namespace XenPreemptAnalyzers.Benchmarks;

/// <summary>
/// <c>corpus</c>: the analyzers over any folder of C# sources, which need not build (no project, no package
/// restore): every <c>*.cs</c> outside bin/ and obj/ is parsed, compiled against the installed reference pack, and
/// analysed in-process through <c>CompilationWithAnalyzers</c> — every body bound plus one analyzer set, as a
/// build does minus emit (the compiler alone: <c>GetDiagnostics</c>). Each set runs on a fresh compilation, the
/// sets interleaved run by run: nothing (the compiler alone), a do-nothing analyzer (the driver skips binding when
/// no analyzer registered anything), an empty code-block action (our registration before the per-tree change), an empty semantic-model action
/// (our registration) not analysing generated code and the same analysing all code (the driver then skips its
/// generated-code check of every declared symbol), an empty operation-block action (our registration before the pre-filter), ours, ours (both analyzers of the package) timed after the
/// compiler has compiled the same compilation (the gate's own cost on code with no kernel name), CA2000 alone and CA1416 alone (the SDK's NetAnalyzers). Printed:
/// our diagnostics and any AD0001, each set's process CPU time (min/median/max) and its ratio to the compiler
/// alone, and each analyzer's own time as the driver reports it.
/// </summary>
internal static class CorpusRun
{
    public sealed record Options(string Path, string? Generated, int Runs, string Name, IReadOnlyList<string> Sets);

    public const string CompilerAlone = "compiler alone";

    /// <summary>The sets beside the compiler alone, as <c>--sets</c> names them.</summary>
    public const string AllSets = "do-nothing,code-block,semantic-model,semantic-model-all-code,operation-block,XPA,XPA-after-compile,CA2000,CA1416";

    /// <param name="AfterCompile">Compile first (untimed), then time the analyzers alone on the same compilation: what
    /// a build pays on top of compiling when the analyzers register nothing past compilation start (the gate), without
    /// charging them the reference binding and declaration table the compiler builds anyway.</param>
    private sealed record AnalyzerSet(string Name, ImmutableArray<DiagnosticAnalyzer> Analyzers, ImmutableDictionary<string, ReportDiagnostic> Options, bool AfterCompile = false);

    public static int Run(Options o)
    {
        var trees = o.Generated is null ? ParseFolder(o.Path) : ParseGenerated(o.Generated);
        if (trees.Count == 0)
            throw new UsageException($"no C# files under '{o.Path}'");
        var lines = trees.Sum(t => t.GetText().Lines.Count);
        Console.WriteLine($"# {o.Name}: {trees.Count:N0} files, {lines:N0} lines; load average {HarnessThroughput.LoadAverage()} at start");

        var sets = AnalyzerSets(o).Where(s => o.Sets.Contains(s.Name, StringComparer.OrdinalIgnoreCase) || s.Name == CompilerAlone).ToList();
        var cpu = sets.ToDictionary(s => s.Name, _ => new List<double>());
        var reported = sets.ToDictionary(s => s.Name, _ => new List<double>());
        var allocated = sets.ToDictionary(s => s.Name, _ => new List<double>());
        var ours = ImmutableArray<Diagnostic>.Empty;
        var compilerErrors = 0;
        for (var run = -1; run < o.Runs; run++) // run -1: warm-up (JIT, reference metadata)
        {
            foreach (var set in sets)
            {
                var compilation = Create(trees, set.Options);
                var (seconds, analyzerSeconds, allocatedBytes, diagnostics) = Measure(compilation, set);
                if (run < 0)
                    continue;
                cpu[set.Name].Add(seconds);
                reported[set.Name].Add(analyzerSeconds);
                allocated[set.Name].Add(allocatedBytes / 1e6);
                if (set.Name == "XPA")
                    ours = diagnostics;
                if (set.Name == CompilerAlone)
                    compilerErrors = diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error);
            }
        }

        var baseline = BuildOverhead.Median(cpu[CompilerAlone]);
        Console.WriteLine($"{o.Name}: binding plus one analyzer set, fresh compilation each, {o.Runs} interleaved runs after a warm-up ({compilerErrors:N0} compiler errors: the corpus is compiled without its project's references)");
        Console.WriteLine("| analyzer set | process CPU s min / median / max | ratio to compiler alone (median) | analyzer's own time, driver (ms, median) | analyzer's time / compiler CPU | allocated MB (median) | ratio to compiler alone |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        var baselineAllocated = BuildOverhead.Median(allocated[CompilerAlone]);
        foreach (var set in sets)
        {
            var values = cpu[set.Name];
            var own = BuildOverhead.Median(reported[set.Name]);
            var bytes = BuildOverhead.Median(allocated[set.Name]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {set.Name} | {values.Min():F2} / {BuildOverhead.Median(values):F2} / {values.Max():F2} | {BuildOverhead.Median(values) / baseline:F3} | {(set.Analyzers.IsEmpty ? "-" : (own * 1000).ToString("F0", CultureInfo.InvariantCulture))} | {(set.Analyzers.IsEmpty ? "-" : (own / baseline * 100).ToString("F2", CultureInfo.InvariantCulture) + " %")} | {bytes:F1} | {bytes / baselineAllocated:F3} |"));
        }
        // Load-independent: the bytes the process allocated (above) and our analyzer's own work counters (below; each
        // set's analyzer instance saw the same compilation once per run and once in the warm-up).
        foreach (var set in sets)
        {
            if (set.Analyzers.OfType<PreemptContextAnalyzer>().FirstOrDefault() is { } preempt)
                Console.WriteLine($"{set.Name}, work per run: {WorkCounters(preempt, o.Runs + 1)}");
        }
        var xpa = ours.Where(d => d.Id.StartsWith("XPA", StringComparison.Ordinal)).ToList();
        Console.WriteLine($"XPA diagnostics: {xpa.Count}" + (xpa.Count == 0 ? "" : " (" + string.Join(", ", xpa.GroupBy(d => d.Id).OrderBy(g => g.Key).Select(g => $"{g.Key} × {g.Count()}")) + ")"));
        foreach (var d in xpa.Take(20))
            Console.WriteLine("  " + d);
        var crashes = ours.Where(d => d.Id == "AD0001").ToList();
        Console.WriteLine($"AD0001 (analyzer exceptions): {crashes.Count}");
        foreach (var d in crashes.Take(5))
            Console.WriteLine("  " + d.GetMessage(CultureInfo.InvariantCulture));
        Console.WriteLine($"# load average {HarnessThroughput.LoadAverage()} at end");
        return crashes.Count == 0 ? 0 : 2;
    }

    /// <summary>The analyzer's counters of one run: how far its gates let the code through (deterministic).</summary>
    private static string WorkCounters(PreemptContextAnalyzer analyzer, int runs)
    {
        var c = analyzer.Counters;
        var t = analyzer.TreeCounters;
        return string.Create(CultureInfo.InvariantCulture,
            $"compilations analysed {c.CompilationsAnalyzed / runs}; trees seen {t.TreesSeen / runs}, passing the text check {t.TreesPassingTextCheck / runs}; helper-name lookups {t.HelperNameLookups / runs}; bodies seen {c.BodiesSeen / runs}; operation trees {c.OperationTreesRequested / runs}; graphs {c.GraphsBuilt / runs}");
    }

    private static (double CpuSeconds, double AnalyzerSeconds, long AllocatedBytes, ImmutableArray<Diagnostic> Diagnostics) Measure(CSharpCompilation compilation, AnalyzerSet set)
    {
        if (set.AfterCompile)
            _ = compilation.GetDiagnostics();
        var process = Process.GetCurrentProcess();
        var before = process.TotalProcessorTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        if (set.Analyzers.IsEmpty)
        {
            var compilerOnly = compilation.GetDiagnostics();
            process.Refresh();
            return ((process.TotalProcessorTime - before).TotalSeconds, 0, GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore, compilerOnly);
        }
        // The analyzer diagnostics of a fresh compilation: generating its compilation events binds every body
        // (the compiler's work), then the analyzers run; the driver times each analyzer's callbacks.
        var withAnalyzers = compilation.WithAnalyzers(set.Analyzers, new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), onAnalyzerException: null, concurrentAnalysis: false, logAnalyzerExecutionTime: true, reportSuppressedDiagnostics: false));
        var diagnostics = withAnalyzers.GetAnalyzerDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult();
        process.Refresh();
        var seconds = (process.TotalProcessorTime - before).TotalSeconds;
        var bytes = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var own = set.Analyzers.Sum(a => withAnalyzers.GetAnalyzerTelemetryInfoAsync(a, CancellationToken.None).GetAwaiter().GetResult().ExecutionTime.TotalSeconds);
        return (seconds, own, bytes, diagnostics);
    }

    private static CSharpCompilation Create(IReadOnlyList<SyntaxTree> trees, ImmutableDictionary<string, ReportDiagnostic> options) =>
        CSharpCompilation.Create(
            "Corpus",
            trees,
            InstalledReferences.Net.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, concurrentBuild: false, nullableContextOptions: NullableContextOptions.Enable)
                .WithSpecificDiagnosticOptions(options));

    private static List<SyntaxTree> ParseFolder(string root)
    {
        if (!Directory.Exists(root))
            throw new UsageException($"no such folder '{root}'");
        var parseOptions = new CSharpParseOptions(LanguageVersion.Latest);
        return Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            .OrderBy(path => path, StringComparer.Ordinal)
            .Select(path => CSharpSyntaxTree.ParseText(File.ReadAllText(path), parseOptions, path: Path.GetRelativePath(root, path)))
            .ToList();
    }

    /// <summary>
    /// <c>ordinary:N</c>, <c>dense:N</c>, or <c>schedule:N</c> — N files of ordinary code plus one body that calls a
    /// method named <c>schedule</c> (issue 17's Go-runtime case: one kernel name in a large ordinary project).
    /// </summary>
    private static List<SyntaxTree> ParseGenerated(string spec)
    {
        var parts = spec.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var files) || files <= 0)
            throw new UsageException($"--generated wants ordinary:N, dense:N or schedule:N, not '{spec}'");
        IEnumerable<GeneratedSource> sources = parts[0] switch
        {
            "ordinary" => KernelCodeGenerator.Generate(CodeKind.Ordinary, files),
            "dense" => KernelCodeGenerator.Generate(CodeKind.Dense, files),
            "schedule" => KernelCodeGenerator.Generate(CodeKind.OneSchedule, files),
            _ => throw new UsageException($"unknown generated kind '{parts[0]}' (ordinary, dense, schedule)"),
        };
        return GeneratedCompilation.Parse(sources).Trees.ToList();
    }

    /// <summary>The compiler alone, a do-nothing analyzer, ours, and the SDK's CA2000 and CA1416 each alone.</summary>
    private static List<AnalyzerSet> AnalyzerSets(Options o)
    {
        var none = ImmutableDictionary<string, ReportDiagnostic>.Empty;
        var sets = new List<AnalyzerSet>
        {
            new(CompilerAlone, ImmutableArray<DiagnosticAnalyzer>.Empty, none),
            new("do-nothing", ImmutableArray.Create<DiagnosticAnalyzer>(new EmptyAnalyzer()), none),
            new("code-block", ImmutableArray.Create<DiagnosticAnalyzer>(new EmptyCodeBlockAnalyzer()), none),
            new("semantic-model", ImmutableArray.Create<DiagnosticAnalyzer>(new EmptySemanticModelAnalyzer()), none),
            new("semantic-model-all-code", ImmutableArray.Create<DiagnosticAnalyzer>(new EmptySemanticModelAnalyzer(GeneratedCodeAnalysisFlags.Analyze | GeneratedCodeAnalysisFlags.ReportDiagnostics)), none),
            new("operation-block", ImmutableArray.Create<DiagnosticAnalyzer>(new EmptyOperationBlockAnalyzer()), none),
            new("XPA", ImmutableArray.Create<DiagnosticAnalyzer>(new PreemptContextAnalyzer()), none),
            new("XPA-after-compile", ImmutableArray.Create<DiagnosticAnalyzer>(new PreemptContextAnalyzer(), new SettingsAnalyzer()), none, AfterCompile: true),
        };
        var netAnalyzers = o.Sets.Any(n => n.StartsWith("CA", StringComparison.OrdinalIgnoreCase)) ? NetAnalyzers() : Array.Empty<DiagnosticAnalyzer>();
        foreach (var id in new[] { "CA2000", "CA1416" })
        {
            var analyzer = netAnalyzers.FirstOrDefault(a => a.SupportedDiagnostics.Any(d => d.Id == id));
            if (analyzer is null)
            {
                if (o.Sets.Contains(id, StringComparer.OrdinalIgnoreCase))
                    Console.WriteLine($"# {id}: not found in the SDK's NetAnalyzers; left out");
                continue;
            }
            // Only this rule: the analyzer's other rules are switched off, this one on (CA2000 is off by default).
            var options = analyzer.SupportedDiagnostics.ToImmutableDictionary(d => d.Id, d => d.Id == id ? ReportDiagnostic.Warn : ReportDiagnostic.Suppress);
            sets.Add(new AnalyzerSet(id, ImmutableArray.Create(analyzer), options));
        }
        return sets;
    }

    /// <summary>The NetAnalyzers the installed SDK ships (sdk/&lt;version&gt;/Sdks/Microsoft.NET.Sdk/analyzers).</summary>
    private static IReadOnlyList<DiagnosticAnalyzer> NetAnalyzers()
    {
        var dotnetRoot = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
        var sdk = Directory.GetDirectories(Path.Combine(dotnetRoot, "sdk")).OrderByDescending(d => d, StringComparer.Ordinal).FirstOrDefault();
        var analyzers = new List<DiagnosticAnalyzer>();
        if (sdk is null)
            return analyzers;
        foreach (var file in new[] { "Microsoft.CodeAnalysis.NetAnalyzers.dll", "Microsoft.CodeAnalysis.CSharp.NetAnalyzers.dll" })
        {
            var path = Path.Combine(sdk, "Sdks", "Microsoft.NET.Sdk", "analyzers", file);
            if (!File.Exists(path))
                continue;
            var reference = new AnalyzerFileReference(path, AssemblyLoader.Instance);
            reference.AnalyzerLoadFailed += (_, e) => Console.WriteLine($"# {file}: {e.Message}");
            analyzers.AddRange(reference.GetAnalyzers(LanguageNames.CSharp));
        }
        return analyzers;
    }

    private sealed class AssemblyLoader : IAnalyzerAssemblyLoader
    {
        public static readonly AssemblyLoader Instance = new();

        public void AddDependencyLocation(string fullPath) { }

        public System.Reflection.Assembly LoadFromPath(string fullPath) => System.Reflection.Assembly.LoadFrom(fullPath);
    }
}
