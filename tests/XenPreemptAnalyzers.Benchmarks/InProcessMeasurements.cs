using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using XenPreemptAnalyzers.Performance;

namespace XenPreemptAnalyzers.Benchmarks;

/// <summary>Measurements that need no BenchmarkDotNet process per case: editor latency and the analyzer's own time.</summary>
internal static class InProcessMeasurements
{
    /// <summary>
    /// <c>editor-latency</c>: as in the IDE after a keystroke, one document of a large project is edited (a new
    /// compilation snapshot), then <c>GetAnalyzerSemanticDiagnosticsAsync</c> runs for that one tree. Prints median
    /// and 95th percentile with our analyzer, and with the empty analyzer (the driver and binding of that document).
    /// </summary>
    public static int EditorLatency(CodeKind kind, int files, int samples)
    {
        var code = GeneratedCompilation.Generate(kind, files);
        var compilation = code.Create();
        _ = compilation.GetDeclarationDiagnostics(); // the IDE's project snapshot already has its declarations
        var drivers = code.Trees.Where(t => t.FilePath.Contains("Driver", StringComparison.Ordinal)).ToArray();

        var ours = new List<double>();
        var empty = new List<double>();
        var compiler = new List<double>();
        const int warmUp = 5;
        for (var i = 0; i < warmUp + samples; i++)
        {
            // Spread the edits over the project; a new text per edit, as typing makes.
            var tree = drivers[(int)((long)i * 7919 % drivers.Length)];
            var edited = tree.WithChangedText(tree.GetText().WithChanges(new TextChange(new TextSpan(0, 0), $"// edit {i}\n")));
            var snapshot = compilation.ReplaceSyntaxTree(tree, edited);
            var oursMs = AnalyzeDocument(snapshot, edited, new PreemptContextAnalyzer());
            var emptyMs = AnalyzeDocument(snapshot.Clone(), edited, new EmptyAnalyzer());
            var compilerMs = CompilerDiagnostics(snapshot.Clone(), edited);
            if (i < warmUp)
                continue;
            ours.Add(oursMs);
            empty.Add(emptyMs);
            compiler.Add(compilerMs);
        }

        Console.WriteLine($"One-document analysis, {Spell(kind)} project of {files} files, {samples} edited documents (after {warmUp} warm-up):");
        Console.WriteLine("| analyzer | median (ms) | p95 (ms) | max (ms) |");
        Console.WriteLine("|---|---:|---:|---:|");
        PrintRow("XenPreemptAnalyzers", ours);
        PrintRow("empty analyzer (baseline)", empty);
        PrintRow("compiler diagnostics of the document (reference)", compiler);
        return 0;
    }

    private static double AnalyzeDocument(Compilation snapshot, SyntaxTree tree, DiagnosticAnalyzer analyzer)
    {
        var stopwatch = Stopwatch.StartNew();
        var withAnalyzers = GeneratedCompilation.WithAnalyzers(snapshot, analyzer);
        var model = withAnalyzers.Compilation.GetSemanticModel(tree);
        _ = withAnalyzers.GetAnalyzerSemanticDiagnosticsAsync(model, filterSpan: null, CancellationToken.None).GetAwaiter().GetResult();
        return stopwatch.Elapsed.TotalMilliseconds;
    }

    /// <summary>What the editor computes for the same document anyway: its compiler diagnostics (binding every body).</summary>
    private static double CompilerDiagnostics(Compilation snapshot, SyntaxTree tree)
    {
        var stopwatch = Stopwatch.StartNew();
        _ = snapshot.GetSemanticModel(tree).GetDiagnostics();
        return stopwatch.Elapsed.TotalMilliseconds;
    }

    /// <summary>
    /// <c>analyzer-time</c>: our analyzer's own execution time (the driver's telemetry, every rule together) on
    /// each kind of code, fresh compilation per run: the scaling and the pathological-method figures.
    /// </summary>
    public static int AnalyzerTime(IReadOnlyList<CodeKind> kinds, IReadOnlyList<int> files, int runs)
    {
        Console.WriteLine($"Our analyzer's execution time (CompilationWithAnalyzers telemetry, all rules), median of {runs} runs after one warm-up:");
        Console.WriteLine("| code | files | analyzer (ms) | p95 (ms) | diagnostics |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var kind in kinds)
        {
            var sizes = kind is CodeKind.ManyBranches or CodeKind.DeepNesting ? new[] { 1 } : files;
            foreach (var size in sizes)
            {
                var code = GeneratedCompilation.Generate(kind, size);
                var times = new List<double>();
                var diagnostics = 0;
                for (var run = -1; run < runs; run++)
                {
                    var analyzer = new PreemptContextAnalyzer();
                    var withAnalyzers = code.Create().WithAnalyzers(
                        ImmutableArray.Create<DiagnosticAnalyzer>(analyzer),
                        new CompilationWithAnalyzersOptions(new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), null, concurrentAnalysis: false, logAnalyzerExecutionTime: true));
                    diagnostics = withAnalyzers.GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult().Length;
                    var telemetry = withAnalyzers.GetAnalyzerTelemetryInfoAsync(analyzer, CancellationToken.None).GetAwaiter().GetResult();
                    if (run >= 0)
                        times.Add(telemetry.ExecutionTime.TotalMilliseconds);
                }
                var label = kind is CodeKind.ManyBranches or CodeKind.DeepNesting ? "1 method" : size.ToString(CultureInfo.InvariantCulture);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {Spell(kind)} | {label} | {BuildOverhead.Median(times):F1} | {Percentile(times, 0.95):F1} | {diagnostics} |"));
            }
        }
        return 0;
    }

    /// <summary>
    /// <c>analysis-cost</c>: what our analyzer adds per analysed body, on measures that hold on a loaded machine.
    /// Per run, interleaved, each on a fresh compilation: the empty per-tree (semantic-model) action — the driver and
    /// the binding every analysed compilation pays — and ours, registered the same way. Printed per set: process CPU
    /// (min/median/max) and bytes allocated by the whole process (<c>GC.GetTotalAllocatedBytes</c>, precise: nearly
    /// the same every run whatever the load); then ours minus the probe, i.e. our callbacks and the operation trees
    /// and graphs they ask for. Allocation is the figure to compare between two builds; CPU needs a quiet machine.
    /// </summary>
    public static int AnalysisCost(CodeKind kind, int files, int runs)
    {
        var code = GeneratedCompilation.Generate(kind, files);
        var sets = new (string Name, Func<DiagnosticAnalyzer> Create)[]
        {
            ("empty semantic-model action", () => new EmptySemanticModelAnalyzer()),
            ("XenPreemptAnalyzers", () => new PreemptContextAnalyzer()),
        };
        var cpu = sets.ToDictionary(s => s.Name, _ => new List<double>());
        var bytes = sets.ToDictionary(s => s.Name, _ => new List<double>());
        var diagnostics = 0;
        Console.WriteLine($"# {Spell(kind)}:{files}, {code.Trees.Length} files; load average {HarnessThroughput.LoadAverage()} at start");
        for (var run = -1; run < runs; run++) // run -1: warm-up (JIT, reference metadata)
        {
            foreach (var (name, create) in sets)
            {
                var compilation = code.Create();
                GC.Collect();
                GC.WaitForPendingFinalizers();
                var process = Process.GetCurrentProcess();
                var cpuBefore = process.TotalProcessorTime;
                var bytesBefore = GC.GetTotalAllocatedBytes(precise: true);
                var found = GeneratedCompilation.WithAnalyzers(compilation, create()).GetAnalyzerDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult();
                var allocated = GC.GetTotalAllocatedBytes(precise: true) - bytesBefore;
                process.Refresh();
                if (run < 0)
                    continue;
                cpu[name].Add((process.TotalProcessorTime - cpuBefore).TotalSeconds);
                bytes[name].Add(allocated / 1e6);
                if (name == "XenPreemptAnalyzers")
                    diagnostics = found.Length;
            }
        }
        Console.WriteLine($"Binding plus one analyzer, fresh compilation each, {runs} interleaved runs after a warm-up ({diagnostics} analyzer diagnostics):");
        Console.WriteLine("| analyzer | process CPU s min / median / max | allocated MB min / median / max |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var (name, _) in sets)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {cpu[name].Min():F2} / {BuildOverhead.Median(cpu[name]):F2} / {cpu[name].Max():F2} | {bytes[name].Min():F1} / {BuildOverhead.Median(bytes[name]):F1} / {bytes[name].Max():F1} |"));
        }
        var probe = sets[0].Name;
        var ours = sets[1].Name;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ours minus the probe (medians): {BuildOverhead.Median(cpu[ours]) - BuildOverhead.Median(cpu[probe]):F2} CPU s, {BuildOverhead.Median(bytes[ours]) - BuildOverhead.Median(bytes[probe]):F1} MB allocated"));
        Console.WriteLine($"# load average {HarnessThroughput.LoadAverage()} at end");
        return 0;
    }

    private static void PrintRow(string name, List<double> values) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {BuildOverhead.Median(values):F1} | {Percentile(values, 0.95):F1} | {values.Max():F1} |"));

    /// <summary>The kind as the command line spells it.</summary>
    internal static string Spell(CodeKind kind) => kind switch
    {
        CodeKind.ManyBranches => "many-branches",
        CodeKind.DeepNesting => "deep-nesting",
        CodeKind.OneSchedule => "schedule",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>Nearest-rank percentile.</summary>
    private static double Percentile(List<double> values, double fraction)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        var rank = (int)Math.Ceiling(fraction * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
