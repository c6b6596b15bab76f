// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using XenPreemptAnalyzers.CodeFixes;
using XenPreemptAnalyzers.Performance;
using XenPreemptAnalyzers.Tests.Infrastructure;

namespace XenPreemptAnalyzers.Benchmarks;

/// <summary>
/// <c>lightbulb-latency</c>: what the editor waits on before it can show the light bulb for an XPA0001 region
/// finding. The generated project (kernel-style code, <paramref name="files"/> files) gets one more file whose region
/// begin writes a per-CPU flag, and a per-task home for it exists (the generator's <c>[PerTask] in_hcall</c>), so the
/// move to the task is offered. Per sample, one other document is edited (a new solution snapshot, as typing makes), the
/// XPA0001 diagnostic is computed (untimed: the editor has it already), then the time of
/// <c>Xpa0001CodeFixProvider.RegisterCodeFixesAsync</c> is taken, and, separately, of computing the offered fix as if
/// picked (<c>GetOperationsAsync</c> of the first action). Wall time, and the process's CPU time over the same span,
/// which a busy machine does not stretch (on a shared 2-core machine at load 50 the wall time is mostly waiting).
/// </summary>
internal static class LightBulbLatency
{
    private const string RegionFile = """
        using Kernel;
        using static Kernel.Api;

        namespace Kernel
        {
            public static class Hcall
            {
                public static readonly PerCpu<bool> xen_in_preemptible_hcall = new PerCpu<bool>();

                public static void region_begin() { __this_cpu_write(xen_in_preemptible_hcall, true); }
                public static void region_end() { __this_cpu_write(xen_in_preemptible_hcall, false); }
                public static void __this_cpu_write<T>(PerCpu<T> v, T value) { v.Value = value; }

                [ProcessContext]
                public static long ioctl(long op)
                {
                    region_begin();
                    long ret = privcmd_call(op, 0, 0, 0, 0, 0);
                    region_end();
                    return ret;
                }
            }
        }
        """;

    public static int Run(int files, int samples)
    {
        using var workspace = new AdhocWorkspace();
        var code = GeneratedCompilation.Generate(CodeKind.Dense, files);
        var project = workspace.AddProject(ProjectInfo.Create(ProjectId.CreateNewId(), VersionStamp.Create(), "Generated", "Generated", LanguageNames.CSharp,
            compilationOptions: code.Create().Options, parseOptions: code.Trees[0].Options, metadataReferences: InstalledReferences.Net.Value));
        var solution = project.Solution;
        foreach (var tree in code.Trees)
            solution = solution.AddDocument(DocumentId.CreateNewId(project.Id), tree.FilePath, tree.GetText(), filePath: tree.FilePath);
        var regionId = DocumentId.CreateNewId(project.Id);
        solution = solution.AddDocument(regionId, "Hcall.cs", SourceText.From(RegionFile), filePath: "/generated/Hcall.cs");
        // The generator's begin/end names are its own; the region file's are told to the analyzers as a port would.
        var config = DocumentId.CreateNewId(project.Id);
        solution = solution.AddAnalyzerConfigDocument(config, ".editorconfig",
            SourceText.From("root = true\n\n[*.cs]\nxen_preempt.hypercall_begin_methods = region_begin\nxen_preempt.hypercall_end_methods = region_end\nxen_preempt.preemption_model = full\n"),
            filePath: "/generated/.editorconfig");
        var drivers = solution.GetProject(project.Id)!.Documents.Where(d => d.FilePath!.Contains("Driver", StringComparison.Ordinal)).Select(d => d.Id).ToArray();

        var register = new List<double>();
        var pick = new List<double>();
        var registerCpu = new List<double>();
        var pickCpu = new List<double>();
        var process = Process.GetCurrentProcess();
        var offered = "";
        const int warmUp = 3;
        for (var i = 0; i < warmUp + samples; i++)
        {
            var edited = drivers[(int)((long)i * 7919 % drivers.Length)];
            var text = solution.GetDocument(edited)!.GetTextAsync().GetAwaiter().GetResult();
            var snapshot = solution.WithDocumentText(edited, text.WithChanges(new TextChange(new TextSpan(0, 0), $"// edit {i}\n")));
            var document = snapshot.GetDocument(regionId)!;
            var diagnostic = RegionDiagnostic(document);

            var actions = new List<CodeAction>();
            var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None);
            // The timed span is the whole process's CPU: collect the untimed diagnostic computation's garbage first,
            // so that a collection it made due does not land in the light bulb's figure.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var stopwatch = Stopwatch.StartNew();
            new Xpa0001CodeFixProvider().RegisterCodeFixesAsync(context).GetAwaiter().GetResult();
            var registerMs = stopwatch.Elapsed.TotalMilliseconds;
            process.Refresh();
            var registerCpuMs = (process.TotalProcessorTime - cpu).TotalMilliseconds;
            if (actions.Count == 0)
                throw new InvalidOperationException("no XPA0001 fix offered on the region");
            offered = string.Join(" | ", actions.Select(a => a.Title));

            cpu = process.TotalProcessorTime;
            stopwatch.Restart();
            _ = actions[0].GetOperationsAsync(CancellationToken.None).GetAwaiter().GetResult();
            var pickMs = stopwatch.Elapsed.TotalMilliseconds;
            process.Refresh();
            var pickCpuMs = (process.TotalProcessorTime - cpu).TotalMilliseconds;
            if (i < warmUp)
                continue;
            register.Add(registerMs);
            pick.Add(pickMs);
            registerCpu.Add(registerCpuMs);
            pickCpu.Add(pickCpuMs);
        }

        Console.WriteLine($"XPA0001 light bulb, dense project of {files} files + the region file, {samples} edited snapshots (after {warmUp} warm-up):");
        Console.WriteLine($"offered: {offered}");
        Console.WriteLine("| step | median (ms) | p95 (ms) | max (ms) |");
        Console.WriteLine("|---|---:|---:|---:|");
        Row("RegisterCodeFixesAsync (the light bulb waits on this), wall", register);
        Row("RegisterCodeFixesAsync, CPU time of this process", registerCpu);
        Row("the first fix computed, as when picked (GetOperationsAsync), wall", pick);
        Row("the first fix computed, CPU time of this process", pickCpu);
        return 0;
    }

    private static Diagnostic RegionDiagnostic(Document document)
    {
        var compilation = document.Project.GetCompilationAsync().GetAwaiter().GetResult()!;
        var tree = document.GetSyntaxTreeAsync().GetAwaiter().GetResult()!;
        var options = new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty, document.Project.AnalyzerOptions.AnalyzerConfigOptionsProvider);
        var withAnalyzers = compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new PreemptContextAnalyzer()), options);
        var diagnostics = withAnalyzers.GetAnalyzerSemanticDiagnosticsAsync(compilation.GetSemanticModel(tree), null, CancellationToken.None).GetAwaiter().GetResult();
        return diagnostics.FirstOrDefault(d => d.Id == DiagnosticIds.PerCpuStateAcrossPreemption)
            ?? throw new InvalidOperationException("no XPA0001 on the region file: " + string.Join("; ", diagnostics));
    }

    private static void Row(string name, List<double> values)
    {
        values.Sort();
        string F(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);
        Console.WriteLine($"| {name} | {F(values[values.Count / 2])} | {F(values[Math.Min(values.Count - 1, (int)Math.Ceiling(values.Count * 0.95) - 1)])} | {F(values[^1])} |");
    }
}
