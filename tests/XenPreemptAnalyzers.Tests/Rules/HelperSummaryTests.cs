// SPDX-License-Identifier: MIT
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using Xunit;
using XenPreemptAnalyzers.Recognition;
using XenPreemptAnalyzers.Tests.Infrastructure;
using static XenPreemptAnalyzers.Tests.Infrastructure.Verify;

namespace XenPreemptAnalyzers.Tests.Rules;

/// <summary>
/// The one helper-summary mechanism (docs/design.md, "Summaries"): its depth, what the rules see through it, and the
/// hypercall state variable learned from a region begin's body.
/// </summary>
public sealed class HelperSummaryTests
{
    private static DiagnosticResult[] When(bool condition, params DiagnosticResult[] expected) =>
        condition ? expected : System.Array.Empty<DiagnosticResult>();

    private static bool Involuntary(string model) => model is "full" or "lazy" or "dynamic";

    // The June 2023 patch's shape: the begin calls a setter, and the setter makes the checked write.
    private const string TwoDeep = """
        class C
        {
            static void outer() => inner(1);
            static void inner(int v) { __this_cpu_write(counter, v); }
            static void three() => outer();
        }
        """;

    private static (Compilation Compilation, IMethodSymbol Method) Method(string source, string name)
    {
        var compilation = Compile.WithStubs(source);
        var method = compilation.GetSymbolsWithName(name, SymbolFilter.Member).OfType<IMethodSymbol>().Single();
        return (compilation, method);
    }

    [Theory]
    [InlineData(1, "outer", false)]
    [InlineData(2, "outer", true)]
    [InlineData(2, "three", false)]
    [InlineData(3, "three", true)]
    public void Depth_is_how_many_levels_of_source_bodies_are_read(int depth, string helper, bool seesTheAccess)
    {
        var (compilation, method) = Method(TwoDeep, helper);
        var summary = new HelperSummaries(compilation, _ => AnalyzerSettings.Default, depth).Summarize(method);
        Assert.Equal(seesTheAccess ? PerCpuAccess.Checked : PerCpuAccess.NotPerCpu, summary.PerCpu);
        if (seesTheAccess)
            Assert.Equal("__this_cpu_write", summary.Via);
    }

    [Fact]
    public void Depth_below_one_is_refused() =>
        Assert.Throws<System.ArgumentOutOfRangeException>(() => new HelperSummaries(null, _ => AnalyzerSettings.Default, 0));

    [Fact]
    public void The_variables_a_begin_writes_are_found_through_its_setter()
    {
        var (compilation, begin) = Method("""
            class Port
            {
                static readonly PerCpu<bool> hcall_flag = new PerCpu<bool>();
                [PreemptibleHypercallBegin] static void begin() => set(true);
                static void set(bool v) { raw_cpu_write(hcall_flag, v); }
            }
            """, "begin");
        var written = new HelperSummaries(compilation, _ => AnalyzerSettings.Default).PerCpuVariablesWritten(begin);
        Assert.Equal("hcall_flag", Assert.Single(written).Name);
        Assert.Empty(new HelperSummaries(compilation, _ => AnalyzerSettings.Default, depth: 1).PerCpuVariablesWritten(begin));
    }

    [Fact]
    public void A_helper_that_never_returns_ends_its_callers_path()
    {
        var (compilation, method) = Method("class C { static void die() { preempt_enable(); panic(\"x\"); } }", "die");
        Assert.True(new HelperSummaries(compilation, _ => AnalyzerSettings.Default).Summarize(method).NeverReturns);
    }

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task A_checked_access_two_helpers_deep_is_reported_at_the_call(string model) =>
        Analyzer("""
            class C
            {
                static void outer() => inner(1);
                static void inner(int v) { __this_cpu_write(counter, v); }
                [ProcessContext] static void f() { {|#0:outer()|}; }
                [ProcessContext] static void safe() { preempt_disable(); outer(); preempt_enable(); }
            }
            """, model, When(Involuntary(model),
                Diagnostic("XPA0004", 0).WithArguments("'outer' (which calls '__this_cpu_write')", model, "disable preemption around it")));

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task A_path_through_a_helper_that_never_returns_has_no_exit(string model) =>
        Analyzer("""
            class C
            {
                static void panic(string why) { }
                static void die() { panic("fatal"); }
                [ProcessContext] static void f(bool bad) { preempt_disable(); if (bad) die(); preempt_enable(); }
                [ProcessContext] static void g(bool bad) { preempt_disable(); if (bad) { {|#0:return;|} } preempt_enable(); }
            }
            """, model, Diagnostic("XPA0005", 0));

    // A port keeping the preemptible-hypercall state under its own name: the begin writes it, so it is the state.
    private const string RenamedState = """
        class Port
        {
            public static readonly PerCpu<bool> hcall_flag = new PerCpu<bool>();
            [PreemptibleHypercallBegin] static void xen_preemptible_hcall_begin() => raw_cpu_write(hcall_flag, true);
            [PreemptibleHypercallEnd] static void xen_preemptible_hcall_end() => raw_cpu_write(hcall_flag, false);
            [IrqContext][HypercallPreemptionPoint] static void no_clear(PtRegs regs)
            {
                var state = irqentry_enter(regs);
                if (raw_cpu_read(hcall_flag))
                    {|#0:raw_irqentry_exit_cond_resched()|};
                else
                    irqentry_exit(regs, state);
            }
            [IrqContext][HypercallPreemptionPoint] static void cleared_inline(PtRegs regs)
            {
                var state = irqentry_enter(regs);
                bool inhcall = raw_cpu_read(hcall_flag);
                if (inhcall)
                {
                    raw_cpu_write(hcall_flag, false);
                    raw_irqentry_exit_cond_resched();
                    raw_cpu_write(hcall_flag, inhcall);
                }
                else
                    irqentry_exit(regs, state);
            }
        }
        """;

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task The_state_variable_is_learned_from_the_begin(string model) =>
        Analyzer(RenamedState, model, Diagnostic("XPA0001", 0));

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task A_variable_no_begin_writes_is_not_the_state(string model) =>
        Analyzer("""
            class Port
            {
                public static readonly PerCpu<bool> hcall_flag = new PerCpu<bool>();
                [PreemptibleHypercallBegin] static void xen_preemptible_hcall_begin() => raw_cpu_write(counter, 1);
                [IrqContext][HypercallPreemptionPoint] static void no_clear(PtRegs regs)
                {
                    var state = irqentry_enter(regs);
                    if (raw_cpu_read(hcall_flag))
                        raw_irqentry_exit_cond_resched();
                    else
                        irqentry_exit(regs, state);
                }
            }
            """, model);
}
