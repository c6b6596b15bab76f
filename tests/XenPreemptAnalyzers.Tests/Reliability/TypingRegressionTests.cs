// SPDX-License-Identifier: MIT
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using XenPreemptAnalyzers.Tests.Infrastructure;

namespace XenPreemptAnalyzers.Tests.Reliability;

/// <summary>Inputs the typing simulation found to crash an analyzer or a fix, kept as regression tests (shrunk by hand).</summary>
public sealed class TypingRegressionTests
{
    [Fact]
    public Task A_half_typed_call_in_a_finally_of_nested_try_blocks() =>
        AnalyzeWithoutException("""
            class C
            {
                static void f(bool b)
                {
                    using var d = new System.IO.MemoryStream();
                    xen_preemptible_hcall_begin();
                    try { try { if (b return; } finally { d.Flush(); } }
                    finally { xen_preemptible_hcall_end xen_preemptible_hcall_end(); }
                }
            }
            """);

    [Fact]
    public Task A_region_begin_that_does_not_bind() =>
        // Found by CI: 'xen_preemptible_hcall_begin(})' half typed in a declaration left its call unbound (an invalid
        // operation whose effect is still the region's begin), and XPA0001 took that begin for an invocation.
        AnalyzeWithoutException("""
            class C
            {
                [ProcessContext]
                static long f()
                {
                    xen_preemptible_hcall_begin(1);
                    long ret = privcmd_call(0, 0, 0, 0, 0, 0);
                    cond_resched();
                    xen_preemptible_hcall_end();
                    return ret;
                }
            }
            """);

    [Fact]
    public Task Wrapping_a_half_typed_region_in_try_finally() =>
        // Found by the typing simulation: the XPA0005 wrap is new code Roslyn's formatter cannot indent here ("Unexpected
        // false" in IndentBlockOperation), in the fix and again in the code action's clean-up pass.
        AnalyzeAndFixWithoutException(
            "class C { [ProcessContext] static void might_sleep<List<int>(); f() { xen_preemptible_hcall_begin(); undefined_call(); if [IrqContext] (",
            model: "voluntary");

    [Fact]
    public Task Introducing_a_per_task_member_from_a_half_typed_upcall() =>
        // Found by the typing simulation: with nothing per-CPU written by the begin, the fix sets the new member in the
        // begin's body; it assumed a block.
        FixWithoutException("""
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
                [IrqContext] static void upcall(PtRegs regsxen_preemptible_hcall_end(); )
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
            """, new TypingSimulationTests.MadeUpDiagnostic(Entry: 0, Start: 1137, Length: 9)); // on the upcall's clear of the state

    /// <summary>Analyses under one model, then registers and computes every fix for what was reported.</summary>
    private static async Task AnalyzeAndFixWithoutException(string snippet, string model)
    {
        var (solution, id) = await TypingSeeds.OpenSnippet(KernelStubs.Usings + snippet);
        var document = solution.GetDocument(id)!;
        var compilation = (await document.Project.GetCompilationAsync())!;
        var reported = await AllExtensions.AnalyzeAsync(compilation, (await document.GetSyntaxTreeAsync())!, new ModelOptions(model), CancellationToken.None);
        Assert.NotEmpty(reported);
        foreach (var diagnostic in reported)
            await AllExtensions.FixAsync(document, diagnostic, reported, CancellationToken.None);
    }

    /// <summary>Registers and computes every fix for a made-up diagnostic, as the simulation does.</summary>
    private static async Task FixWithoutException(string snippet, TypingSimulationTests.MadeUpDiagnostic madeUp)
    {
        var (solution, id) = await TypingSeeds.OpenSnippet(KernelStubs.Usings + snippet);
        var document = solution.GetDocument(id)!;
        var diagnostic = MadeUpDiagnostics.Create(madeUp, (await document.GetSyntaxTreeAsync())!);
        await AllExtensions.FixAsync(document, diagnostic, System.Collections.Immutable.ImmutableArray.Create(diagnostic), CancellationToken.None);
    }

    private static async Task AnalyzeWithoutException(string source)
    {
        var compilation = Compile.WithStubs(source);
        foreach (var model in new string?[] { null, "none", "voluntary", "full", "lazy", "dynamic" })
            _ = await AllExtensions.AnalyzeAsync(compilation, compilation.SyntaxTrees[0], new ModelOptions(model), CancellationToken.None);
    }
}
