using System.Threading.Tasks;
using Xunit;
using XenPreemptAnalyzers.CodeFixes;
using XenPreemptAnalyzers.Tests.Infrastructure;
using static XenPreemptAnalyzers.Tests.Infrastructure.FixVerify;
using static XenPreemptAnalyzers.Tests.Infrastructure.Verify;

namespace XenPreemptAnalyzers.Tests.CodeFixes;

public sealed class Xpa0004FixTests
{
    private const string Write = """
        class C
        {
            [ProcessContext]
            static void f()
            {
                // count this event
                {|#0:__this_cpu_write(counter, 1)|};
            }
        }
        """;

    [Fact]
    public Task Preempt_safe_op_is_the_first_fix() =>
        new FixTest<Xpa0004CodeFixProvider>(Write, Write.Replace("{|#0:__this_cpu_write(counter, 1)|}", "this_cpu_write(counter, 1)"))
            .Action(Xpa0004CodeFixProvider.UsePreemptSafeOp, 0).Expect(Diagnostic("XPA0004")).RunAsync();

    [Fact]
    public Task Bracket_with_preempt_disable_keeps_the_comment_above() =>
        new FixTest<Xpa0004CodeFixProvider>(Write, """
            class C
            {
                [ProcessContext]
                static void f()
                {
                    // count this event
                    preempt_disable();
                    __this_cpu_write(counter, 1);
                    preempt_enable();
                }
            }
            """).Action(Xpa0004CodeFixProvider.BracketWithPreemptDisable, 1).Expect(Diagnostic("XPA0004")).RunAsync();

    [Fact]
    public Task Cpu_id_uses_get_cpu_and_put_cpu() =>
        new FixTest<Xpa0004CodeFixProvider>("""
            class C
            {
                static int last;
                [ProcessContext]
                static void f()
                {
                    last = {|#0:smp_processor_id()|};
                }
            }
            """, """
            class C
            {
                static int last;
                [ProcessContext]
                static void f()
                {
                    last = get_cpu();
                    put_cpu();
                }
            }
            """).Action(Xpa0004CodeFixProvider.UseGetCpuPutCpu, 0).Expect(Diagnostic("XPA0004")).RunAsync();

    [Fact]
    public Task Two_accesses_in_one_statement_get_one_bracket_in_fix_all() =>
        new FixTest<Xpa0004CodeFixProvider>("""
            class C
            {
                [ProcessContext]
                static void f()
                {
                    {|#0:__this_cpu_write(counter, {|#1:__this_cpu_read(counter)|} + 1)|};
                    if (need_resched())
                        {|#2:__this_cpu_inc(counter)|};
                }
            }
            """, """
            class C
            {
                [ProcessContext]
                static void f()
                {
                    preempt_disable();
                    __this_cpu_write(counter, __this_cpu_read(counter) + 1);
                    preempt_enable();
                    if (need_resched())
                    {
                        preempt_disable();
                        __this_cpu_inc(counter);
                        preempt_enable();
                    }
                }
            }
            """).Action(Xpa0004CodeFixProvider.BracketWithPreemptDisable).Expect(Diagnostic("XPA0004", 0), Diagnostic("XPA0004", 1), Diagnostic("XPA0004", 2)).RunAsync();

    [Fact]
    public Task No_bracket_for_a_return_statement_and_no_safe_op_for_the_cpu_id() =>
        NoFix<Xpa0004CodeFixProvider>("class C { [ProcessContext] static int f() { return {|#0:smp_processor_id()|}; } }", null, Diagnostic("XPA0004"));
}

public sealed class Xpa0006FixTests
{
    [Fact]
    public Task Irqs_off_brackets_with_local_irq_enable() =>
        new FixTest<Xpa0006CodeFixProvider>("""
            class C
            {
                [ProcessContext]
                static void f()
                {
                    local_irq_disable();
                    {|#0:might_sleep()|};
                    local_irq_enable();
                }
            }
            """, """
            class C
            {
                [ProcessContext]
                static void f()
                {
                    might_sleep();
                }
            }
            """).Action(Xpa0006CodeFixProvider.BracketWithIrqEnable).Expect(Diagnostic("XPA0006")).RunAsync();

    [Fact]
    public Task Preemption_off_guards_with_preempt_count() =>
        new FixTest<Xpa0006CodeFixProvider>("""
            class C
            {
                [ProcessContext]
                static void f()
                {
                    preempt_disable();
                    {|#0:schedule()|};
                    preempt_enable();
                }
            }
            """, """
            class C
            {
                [ProcessContext]
                static void f()
                {
                    preempt_disable();
                    if (preempt_count() == 0)
                        schedule();
                    preempt_enable();
                }
            }
            """).Action(Xpa0006CodeFixProvider.GuardWithPreemptCount).Expect(Diagnostic("XPA0006")).RunAsync();

    [Fact]
    public Task Both_off_offers_nothing() =>
        NoFix<Xpa0006CodeFixProvider>("class C { [ProcessContext] static void f() { local_irq_disable(); preempt_disable(); {|#0:schedule()|}; preempt_enable(); local_irq_enable(); } }",
            null, Diagnostic("XPA0006"));
}

public sealed class Xpa0005FixTests
{
    private const string EarlyReturns = """
        class C
        {
            [ProcessContext]
            static void f(int n)
            {
                preempt_disable();
                if (n == 1)
                    {|#0:return;|}
                if (n == 2)
                {
                    {|#1:return;|}
                }
                preempt_enable();
            }
        }
        """;

    [Fact]
    public Task Release_before_each_exit_fix_all_in_document() =>
        new FixTest<Xpa0005CodeFixProvider>(EarlyReturns, """
            class C
            {
                [ProcessContext]
                static void f(int n)
                {
                    preempt_disable();
                    if (n == 1)
                    {
                        preempt_enable();
                        return;
                    }
                    if (n == 2)
                    {
                        preempt_enable();
                        return;
                    }
                    preempt_enable();
                }
            }
            """).Action(Xpa0005CodeFixProvider.ReleaseBeforeExit, 0).Expect(Diagnostic("XPA0005", 0), Diagnostic("XPA0005", 1)).RunAsync();

    [Fact]
    public Task Try_finally_fixes_every_exit_of_the_method_at_once() =>
        new FixTest<Xpa0005CodeFixProvider>(EarlyReturns, """
            class C
            {
                [ProcessContext]
                static void f(int n)
                {
                    preempt_disable();
                    try
                    {
                        if (n == 1)
                            return;
                        if (n == 2)
                        {
                            return;
                        }
                    }
                    finally
                    {
                        preempt_enable();
                    }
                }
            }
            """) { NumberOfIncrementalIterations = 1 }
            .Action(Xpa0005CodeFixProvider.WrapInTryFinally, 1).Expect(Diagnostic("XPA0005", 0), Diagnostic("XPA0005", 1)).RunAsync();

    [Fact]
    public Task Falling_off_the_end_with_a_release_in_a_branch_offers_nothing() =>
        NoFix<Xpa0005CodeFixProvider>("class C { static void f(bool b) { migrate_disable(); if (b) migrate_enable(); {|#0:}|} }", null, Diagnostic("XPA0005"));

    [Fact]
    public Task Two_imbalances_at_one_exit_fix_all_releases_both() =>
        new FixTest<Xpa0005CodeFixProvider>("""
            class C
            {
                static void f(bool b)
                {
                    local_irq_disable();
                    preempt_disable();
                    if (b) {|#0:{|#1:throw new System.InvalidOperationException();|}|}
                    preempt_enable();
                    local_irq_enable();
                }
            }
            """, """
            class C
            {
                static void f(bool b)
                {
                    local_irq_disable();
                    preempt_disable();
                    if (b)
                    {
                        local_irq_enable();
                        preempt_enable();
                        throw new System.InvalidOperationException();
                    }
                    preempt_enable();
                    local_irq_enable();
                }
            }
            """,
            // One at a time, each release goes right before the throw; Fix All releases in reverse order of acquisition.
            """
            class C
            {
                static void f(bool b)
                {
                    local_irq_disable();
                    preempt_disable();
                    if (b)
                    {
                        preempt_enable();
                        local_irq_enable();
                        throw new System.InvalidOperationException();
                    }
                    preempt_enable();
                    local_irq_enable();
                }
            }
            """).Action(Xpa0005CodeFixProvider.ReleaseBeforeExit, 0).Expect(Diagnostic("XPA0005", 0), Diagnostic("XPA0005", 1)).RunAsync();

    [Fact]
    public Task Enabled_more_often_than_disabled_offers_nothing() =>
        NoFix<Xpa0005CodeFixProvider>("class C { static void f(bool b) { if (b) preempt_enable(); {|#0:}|} }", null, Diagnostic("XPA0005"));
}

public sealed class Xpa0001FixTests
{
    [Fact]
    public Task Re_read_the_cpu_id_after_the_point() =>
        new FixTest<Xpa0001CodeFixProvider>("""
            class C
            {
                static int last;
                [ProcessContext]
                static void f()
                {
                    preempt_disable();
                    int cpu = smp_processor_id();
                    preempt_enable();
                    schedule();
                    preempt_disable();
                    last = {|#0:cpu|};
                    preempt_enable();
                }
            }
            """, """
            class C
            {
                static int last;
                [ProcessContext]
                static void f()
                {
                    preempt_disable();
                    int cpu = smp_processor_id();
                    preempt_enable();
                    schedule();
                    preempt_disable();
                    cpu = smp_processor_id();
                    last = cpu;
                    preempt_enable();
                }
            }
            """).WithModel("none").Action(Xpa0001CodeFixProvider.ReReadAfterPoint).Expect(Diagnostic("XPA0001")).RunAsync();

    [Fact]
    public Task Region_state_without_a_per_task_home_has_no_fix() =>
        NoFix<Xpa0001CodeFixProvider>("""
            class C
            {
                [ProcessContext] static long hcall(Req r)
                {
                    {|#0:xen_preemptible_hcall_begin()|};
                    might_sleep();
                    long ret = privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4);
                    xen_preemptible_hcall_end();
                    return ret;
                }
            }
            """, "voluntary", Diagnostic("XPA0001"));
}
