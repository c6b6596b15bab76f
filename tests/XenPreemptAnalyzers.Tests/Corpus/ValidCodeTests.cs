using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Xunit;
using XenPreemptAnalyzers.Tests.Infrastructure;

namespace XenPreemptAnalyzers.Tests.Corpus;

/// <summary>Every rule over code that must stay silent, and over pathological code that must not crash.</summary>
public sealed class ValidCodeTests
{
    private const string OrdinaryCSharp = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading.Tasks;
        namespace Ordinary
        {
            public record Point(int X, int Y);
            public sealed class Service : IDisposable
            {
                private readonly Dictionary<string, int> _counts = new();
                public async Task<int> CountAsync(IEnumerable<string> words)
                {
                    await Task.Yield();
                    foreach (var w in words) _counts[w] = _counts.TryGetValue(w, out var c) ? c + 1 : 1;
                    return _counts.Values.Where(v => v > 1).Sum();
                }
                public IEnumerable<int> Evens(int n) { for (var i = 0; i < n; i++) if (i % 2 == 0) yield return i; }
                public void Schedule(Action a) { lock (_counts) { try { a(); } catch (InvalidOperationException) { } finally { _counts.Clear(); } } }
                public void Dispose() { using var s = new System.IO.MemoryStream(); s.Flush(); }
                public static int Switch(object o) => o switch { int i => i, string s => s.Length, _ => 0 };
            }
        }
        """;

    private const string CorrectKernelCode = """
        using Stubs;
        using static Stubs.Kernel;
        static class Port
        {
            [ProcessContext] static long privcmd_ioctl_hypercall(Req r)
            {
                preempt_disable();
                xen_preemptible_hcall_begin();
                long ret = privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4);
                xen_preemptible_hcall_end();
                preempt_enable();
                return ret;
            }
            [IrqContext] static void upcall(PtRegs regs)
            {
                var state = irqentry_enter(regs);
                bool inhcall = get_and_clear_inhcall();
                if (inhcall && !state.exit_rcu) { raw_irqentry_exit_cond_resched(); restore_inhcall(inhcall); }
                else irqentry_exit(regs, state);
            }
            [ProcessContext] static void bump()
            {
                preempt_disable(); __this_cpu_write(counter, __this_cpu_read(counter) + 1); preempt_enable();
                this_cpu_inc(counter);
                int cpu = get_cpu(); per_cpu(counter, cpu); put_cpu();
                schedule();
            }
            [IrqContext] static void maybe_preempt()
            {
                if (__this_cpu_read(xen_in_preemptible_hcall) && need_resched())
                {
                    __this_cpu_write(xen_in_preemptible_hcall, false);
                    local_irq_enable(); __cond_resched(); local_irq_disable();
                    __this_cpu_write(xen_in_preemptible_hcall, true);
                }
            }
        }
        """;

    [Fact]
    public async Task Ordinary_csharp_without_kernel_names_registers_nothing_and_reports_nothing()
    {
        var compilation = Compile.Create(OrdinaryCSharp);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Empty(await AnalyzeWithoutExceptions(compilation));
    }

    [Fact]
    public async Task Ordinary_csharp_beside_kernel_names_is_silent() =>
        Assert.Empty(await AnalyzeWithoutExceptions(Compile.Create(OrdinaryCSharp, KernelStubs.Source)));

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public async Task Correct_kernel_code_is_silent_in_every_model(string model)
    {
        var source = $"#define {Kconfig(model)}\n" + CorrectKernelCode;
        var compilation = Compile.Create(source, KernelStubs.Source);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Empty(await AnalyzeWithoutExceptions(compilation));
    }

    [Fact]
    public async Task Pathological_code_does_not_crash_and_terminates()
    {
        var deep = new StringBuilder("[ProcessContext] static void deep(int n) {");
        for (var i = 0; i < 60; i++)
            deep.Append($"if (n > {i}) {{ preempt_disable(); ");
        deep.Append("__this_cpu_inc(counter);");
        for (var i = 0; i < 60; i++)
            deep.Append(" preempt_enable(); }");
        deep.Append('}');

        var source = KernelStubs.Usings + $$"""
            static class Weird
            {
                {{deep}}
                [ProcessContext] static void gotos(int n)
                {
                top: preempt_disable();
                mid: if (n-- > 0) { preempt_enable(); goto top; }
                    if (n < -5) goto mid;
                    preempt_enable();
                }
                [ProcessContext] static int recurse(int n) { preempt_disable(); var r = n <= 0 ? 0 : recurse(n - 1); preempt_enable(); return r; }
                [ProcessContext] static void grows(int n) { while (n-- > 0) { preempt_disable(); migrate_disable(); local_irq_save(); } }
                static void lambdas() { System.Func<System.Func<int>> f = () => () => { preempt_disable(); preempt_enable(); return smp_processor_id(); }; }
            }
            """;
        var diagnostics = await AnalyzeWithoutExceptions(Compile.Create(source, KernelStubs.Source));
        Assert.DoesNotContain(diagnostics, d => d.Id == "AD0001");
    }

    [Theory]
    [InlineData("class C { [ProcessContext] static void f() { preempt_disable(; __this_cpu_write(counter, ) } }")]
    [InlineData("class C { [ProcessContext] static void f() { xen_preemptible_hcall_begin(); undefined_call(); if (")]
    [InlineData("class C { static void f() { var x = preempt_enable; x(); goto nowhere; } }")]
    [InlineData("class C { [ProcessContext] void f() => __this_cpu_read<>(counter")]
    public async Task Half_typed_code_does_not_crash(string source) =>
        _ = await AnalyzeWithoutExceptions(Compile.Create(KernelStubs.Usings + source, KernelStubs.Source));

    private static string Kconfig(string model) => model switch
    {
        "none" => "CONFIG_PREEMPT_NONE",
        "voluntary" => "CONFIG_PREEMPT_VOLUNTARY",
        "full" => "CONFIG_PREEMPT",
        "lazy" => "CONFIG_PREEMPT_LAZY",
        _ => "CONFIG_PREEMPT_DYNAMIC",
    };

    private static async Task<IReadOnlyList<Diagnostic>> AnalyzeWithoutExceptions(Microsoft.CodeAnalysis.CSharp.CSharpCompilation compilation)
    {
        var exceptions = new List<Exception>();
        var diagnostics = await Compile.AnalyzeAsync(compilation, (e, _, _) => { lock (exceptions) exceptions.Add(e); });
        Assert.Empty(exceptions);
        return diagnostics;
    }
}
