// SPDX-License-Identifier: MIT
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;
using Xunit;
using XenPreemptAnalyzers.CodeFixes;
using XenPreemptAnalyzers.Tests.Infrastructure;
using static XenPreemptAnalyzers.Tests.Infrastructure.Verify;

namespace XenPreemptAnalyzers.Tests.CodeFixes;

/// <summary>
/// Fixes whose result a reviewer would accept (issue 14, item 6): no bracket left around nothing, the per-task test of
/// the hypercall state counted as the hypercall path once XPA0001's move has made it one, and an XPA0001 fix for a port
/// that has no per-task home for the state yet.
/// </summary>
public sealed class ReviewableFixTests
{
    [Fact]
    public Task The_irq_bracket_cancels_against_the_disable_and_enable_already_around_the_call() =>
        new FixTest<Xpa0006CodeFixProvider>("""
            class C
            {
                [ProcessContext]
                static void f()
                {
                    local_irq_disable();
                    {|#0:schedule()|};
                    local_irq_enable();
                }
            }
            """, """
            class C
            {
                [ProcessContext]
                static void f()
                {
                    schedule();
                }
            }
            """).Action(Xpa0006CodeFixProvider.BracketWithIrqEnable).Expect(Diagnostic("XPA0006")).RunAsync();

    [Fact]
    public Task Two_sleeps_in_a_row_get_irqs_re_enabled_once_around_both_one_fix_at_a_time_or_all_at_once() =>
        new FixTest<Xpa0006CodeFixProvider>("""
            class C
            {
                [IrqContext]
                static void f()
                {
                    // sleep twice
                    {|#0:msleep(1)|};
                    {|#1:msleep(2)|};
                    irq_work();
                }

                static void irq_work() { }
            }
            """, """
            class C
            {
                [IrqContext]
                static void f()
                {
                    // sleep twice
                    local_irq_enable();
                    msleep(1);
                    msleep(2);
                    local_irq_disable();
                    irq_work();
                }

                static void irq_work() { }
            }
            """).Action(Xpa0006CodeFixProvider.BracketWithIrqEnable).Expect(Diagnostic("XPA0006", 0), Diagnostic("XPA0006", 1)).RunAsync();

    [Fact]
    public Task A_disable_enable_pair_the_user_wrote_stays() =>
        new FixTest<Xpa0006CodeFixProvider>("""
            class C
            {
                [IrqContext]
                static void f()
                {
                    preempt_disable();
                    preempt_enable();
                    {|#0:msleep(1)|};
                }
            }
            """, """
            class C
            {
                [IrqContext]
                static void f()
                {
                    preempt_disable();
                    preempt_enable();
                    local_irq_enable();
                    msleep(1);
                    local_irq_disable();
                }
            }
            """).Action(Xpa0006CodeFixProvider.BracketWithIrqEnable).Expect(Diagnostic("XPA0006")).RunAsync();

    private const string PerTaskAttribute = "[System.AttributeUsage(System.AttributeTargets.All)] sealed class PerTaskAttribute : System.Attribute { }\n";

    [Fact]
    public Task A_raw_reschedule_under_the_per_task_hypercall_test_is_on_the_hypercall_path() =>
        Verify.Analyzer(PerTaskAttribute + """
            static class Upcall
            {
                [PerTask] static bool task_in_hcall;

                [IrqContext]
                static void xen_maybe_preempt_hcall()
                {
                    if (task_in_hcall)
                        raw_irqentry_exit_cond_resched();
                }
            }
            """);

    [Fact]
    public Task A_raw_reschedule_under_the_hypercall_thread_flag_is_on_the_hypercall_path() =>
        Verify.Analyzer("""
            static class Upcall
            {
                const int TIF_XEN_PREEMPTIBLE_HCALL = 16;
                static bool test_thread_flag(int flag) => false;

                [IrqContext]
                static void xen_maybe_preempt_hcall()
                {
                    if (test_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL))
                        raw_irqentry_exit_cond_resched();
                }
            }
            """);

    [Fact]
    public Task A_per_task_flag_that_is_not_the_hypercall_state_does_not_make_a_hypercall_path() =>
        Verify.Analyzer(PerTaskAttribute + """
            static class Upcall
            {
                [PerTask] static bool task_is_traced;

                [IrqContext]
                static void traced_exit()
                {
                    if (task_is_traced)
                        {|#0:raw_irqentry_exit_cond_resched()|};
                }
            }
            """, Diagnostic("XPA0003"));

    private const string PrivcmdSource = """
        namespace Port
        {
            static class Privcmd
            {
                [ProcessContext]
                static long hcall(long op, long arg)
                {
                    {|#0:Prim.xen_preemptible_hcall_begin()|};
                    long ret = privcmd_call(op, arg, 0, 0, 0, 0);
                    Prim.xen_preemptible_hcall_end();
                    return ret;
                }
            }
        }
        """;

    private static FixTest<Xpa0001CodeFixProvider> Introduce(string primitives, string primitivesFixed, params DiagnosticResult[] more)
    {
        var test = new FixTest<Xpa0001CodeFixProvider>(PrivcmdSource, PrivcmdSource.Replace("{|#0:Prim.xen_preemptible_hcall_begin()|}", "Prim.xen_preemptible_hcall_begin()"));
        foreach (var state in new[] { test.TestState, test.FixedState })
            state.Sources.Add(("/0/Annotations.cs", "namespace Port.Annotations\n{\n    " + PerTaskAttribute.Replace("sealed class", "public sealed class") + "}\n"));
        test.TestState.Sources.Add(("/0/Primitives.cs", KernelStubs.Usings + primitives));
        // The attribute's namespace is imported among the plain usings, before the using static ones.
        test.FixedState.Sources.Add(("/0/Primitives.cs", KernelStubs.Usings.Replace("using static", "using Port.Annotations;\nusing static") + primitivesFixed));
        // What the fixed state must report is said here, not inherited: the XPA0003 a move makes disappear is no
        // diagnostic this provider fixes, so the library would otherwise expect it to stay.
        test.FixedState.InheritanceMode = StateInheritanceMode.Explicit;
        return test.Action(Xpa0001CodeFixProvider.IntroducePerTaskMember).Expect([Diagnostic("XPA0001"), .. more]);
    }

    [Fact]
    public Task A_port_with_an_empty_region_bracket_gets_a_per_task_member_its_begin_and_end_set() =>
        Introduce("""
            namespace Port
            {
                static class Prim
                {
                    public static void xen_preemptible_hcall_begin() { }
                    public static void xen_preemptible_hcall_end() { }
                }
            }
            """, """
            namespace Port
            {
                static class Prim
                {
                    // XPA0001: whether the task is in a preemptible hypercall belongs to the task, not to the CPU it began on.
                    [PerTask] public static bool current_in_preemptible_hcall;
                    public static void xen_preemptible_hcall_begin() => current_in_preemptible_hcall = true;
                    public static void xen_preemptible_hcall_end() => current_in_preemptible_hcall = false;
                }
            }
            """).RunAsync(CancellationToken.None);

    [Fact]
    public Task A_port_whose_begin_writes_a_per_cpu_flag_gets_a_per_task_member_and_every_access_moves_to_it() =>
        Introduce("""
            namespace Port
            {
                static class Prim
                {
                    internal static readonly PerCpu<bool> port_in_hcall = new PerCpu<bool>();

                    public static void xen_preemptible_hcall_begin() { __this_cpu_write(port_in_hcall, true); }
                    public static void xen_preemptible_hcall_end() { __this_cpu_write(port_in_hcall, false); }

                    [IrqContext]
                    public static void upcall()
                    {
                        if (__this_cpu_read(port_in_hcall))
                            raw_irqentry_exit_cond_resched();
                    }
                }
            }
            """, """
            namespace Port
            {
                static class Prim
                {
                    // XPA0001: whether the task is in a preemptible hypercall belongs to the task, not to the CPU it began on.
                    [PerTask] public static bool current_in_preemptible_hcall;

                    public static void xen_preemptible_hcall_begin() { current_in_preemptible_hcall = true; }
                    public static void xen_preemptible_hcall_end() { current_in_preemptible_hcall = false; }

                    [IrqContext]
                    public static void upcall()
                    {
                        if (current_in_preemptible_hcall)
                            raw_irqentry_exit_cond_resched();
                    }
                }
            }
            """,
            // The port's own per-CPU flag is the hypercall state because the begin writes it (docs/rules/XPA0001.md), so the
            // upcall's raw reschedule is on the hypercall path before the fix (no XPA0003) as after it.
            // XPA0004 sees the begin/end helpers' checked __this_cpu_write in the caller's preemptible context; the per-task
            // member the fix introduces takes the per-CPU access away with it.
            new DiagnosticResult("XPA0004", Microsoft.CodeAnalysis.DiagnosticSeverity.Warning).WithSpan(10, 13, 10, 47),
            new DiagnosticResult("XPA0004", Microsoft.CodeAnalysis.DiagnosticSeverity.Warning).WithSpan(12, 13, 12, 45)).RunAsync(CancellationToken.None);
}
