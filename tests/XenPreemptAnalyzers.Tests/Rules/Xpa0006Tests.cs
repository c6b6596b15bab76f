using System.Threading.Tasks;
using Xunit;
using XenPreemptAnalyzers.Tests.Infrastructure;
using static XenPreemptAnalyzers.Tests.Infrastructure.Verify;

namespace XenPreemptAnalyzers.Tests.Rules;

public sealed class Xpa0006Tests
{
    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task Schedule_with_preemption_disabled_warns_in_every_model(string model) =>
        Analyzer("class C { [ProcessContext] static void f() { preempt_disable(); {|#0:schedule()|}; preempt_enable(); } }", model,
            Diagnostic("XPA0006").WithMessage($"'schedule' may sleep or reschedule, but is reached with preemption disabled (preemption model '{model}')"));

    [Fact]
    public Task Disable_proves_atomic_context_even_with_unknown_entry() =>
        Analyzer("class C { static void f() { local_irq_disable(); {|#0:msleep(10)|}; local_irq_enable(); } }",
            Diagnostic("XPA0006").WithArguments("'msleep'", "IRQs disabled", "dynamic"));

    [Fact]
    public Task Unknown_entry_context_is_silent() =>
        Analyzer("class C { static void f() { schedule(); cond_resched(); might_sleep(); } }");

    [Fact]
    public Task The_2020_fix_enables_irqs_around_cond_resched() =>
        Analyzer("class C { [IrqContext] static void f() { local_irq_enable(); cond_resched(); local_irq_disable(); } }", "none");

    [Theory]
    [InlineData("irqentry_exit_cond_resched()")]
    [InlineData("raw_irqentry_exit_cond_resched()")]
    [InlineData("preempt_schedule_irq()")]
    public Task Irq_exit_reschedules_are_made_for_irqs_off(string call) =>
        Analyzer($"class C {{ [IrqContext] static void f() {{ {call}; }} }}", "none");

    [Fact]
    public Task Might_sleep_with_both_disabled() =>
        Analyzer("class C { [IrqContext] static void f() { preempt_disable(); {|#0:might_sleep()|}; preempt_enable(); } }",
            Diagnostic("XPA0006").WithArguments("'might_sleep'", "IRQs and preemption disabled", "dynamic"));

    [Fact]
    public Task Branch_one_path_is_enough() =>
        Analyzer("class C { [ProcessContext] static void f(bool b) { if (b) local_irq_disable(); {|#0:cond_resched()|}; if (b) local_irq_enable(); } }",
            Diagnostic("XPA0006"));

    [Fact]
    public Task Loop_with_balanced_section_is_silent() =>
        Analyzer("class C { [ProcessContext] static void f(int n) { while (n-- > 0) { preempt_disable(); __this_cpu_inc(counter); preempt_enable(); cond_resched(); } } }");

    [Fact]
    public Task Try_finally_reenables_before_the_call() =>
        Analyzer("class C { [ProcessContext] static void f() { preempt_disable(); try { __this_cpu_inc(counter); } finally { preempt_enable(); } schedule(); } }");

    [Fact]
    public Task Early_exit_avoids_the_call() =>
        Analyzer("class C { [ProcessContext] static void f(bool b) { preempt_disable(); if (b) { preempt_enable(); return; } {|#0:schedule()|}; preempt_enable(); } }",
            Diagnostic("XPA0006"));

    [Fact]
    public Task Preempt_count_guard_is_understood() =>
        Analyzer("class C { static void f() { preempt_disable(); if (preempt_count() == 0) cond_resched(); preempt_enable(); } }");

    [Fact]
    public Task Local_function_and_lambda_have_their_own_graphs() =>
        Analyzer("""
            class C
            {
                static void f()
                {
                    void inner() { local_irq_disable(); {|#0:schedule()|}; local_irq_enable(); }
                    System.Action a = () => { preempt_disable(); {|#1:schedule()|}; preempt_enable(); };
                    inner(); a();
                }
            }
            """, Diagnostic("XPA0006", 0), Diagnostic("XPA0006", 1));

    [Fact]
    public Task Helper_that_sleeps_is_seen_through() =>
        Analyzer("""
            class C
            {
                static void sleepy() { msleep(10); }
                static void f() { preempt_disable(); {|#0:sleepy()|}; preempt_enable(); }
            }
            """, Diagnostic("XPA0006").WithArguments("'sleepy' (which calls 'msleep')", "preemption disabled", "dynamic"));

    [Fact]
    public Task Editorconfig_scheduling_point_and_irq_lists() =>
        new PreemptTest("""
            class C
            {
                static void wait_event() { }
                static void spin_lock_irq() { }
                static void spin_unlock_irq() { }
                static void f() { spin_lock_irq(); {|#0:wait_event()|}; spin_unlock_irq(); }
            }
            """).WithEditorConfig(
                ("xen_preempt.scheduling_point_methods", "wait_event"),
                ("xen_preempt.irq_disable_methods", "spin_lock_irq"),
                ("xen_preempt.irq_enable_methods", "spin_unlock_irq"))
            .Expect(Diagnostic("XPA0006").WithArguments("'wait_event'", "IRQs disabled", "dynamic")).RunAsync();

    [Fact]
    public Task Attribute_acquire_contract_is_honoured() =>
        Analyzer("""
            class C
            {
                [DisablesPreemption] static void my_lock() { }
                [EnablesPreemption] static void my_unlock() { }
                static void f() { my_lock(); {|#0:schedule()|}; my_unlock(); schedule(); }
            }
            """, Diagnostic("XPA0006"));
}
