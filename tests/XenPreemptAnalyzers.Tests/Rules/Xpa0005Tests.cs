using System.Threading.Tasks;
using Xunit;
using XenPreemptAnalyzers.Tests.Infrastructure;
using static XenPreemptAnalyzers.Tests.Infrastructure.Verify;

namespace XenPreemptAnalyzers.Tests.Rules;

public sealed class Xpa0005Tests
{
    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task Early_return_with_preemption_disabled_in_every_model(string model) =>
        Analyzer("class C { static void f(bool b) { preempt_disable(); if (b) {|#0:return;|} preempt_enable(); } }", model,
            Diagnostic("XPA0005").WithMessage($"'f' can exit here with preemption disabled (preempt_disable not balanced by preempt_enable) (analysed under preemption model '{model}')"));

    [Fact]
    public Task Falling_off_the_end_is_reported_at_the_closing_brace() =>
        Analyzer("class C { static void f(bool b) { migrate_disable(); if (b) migrate_enable(); {|#0:}|} }",
            Diagnostic("XPA0005").WithArguments("f", "migration disabled (migrate_disable not balanced by migrate_enable)", "dynamic"));

    // Dogfooding regressions (the reference port's include/ and kernel/ code).
    [Fact]
    public Task Testing_irqs_disabled_learns_the_entry_state_it_does_not_change_it() =>
        Analyzer("""
            class C
            {
                static void check(int n)
                {
                    if (n != 0 || irqs_disabled())
                        return;
                    n++;
                }
                static void assert_off()
                {
                    if (!irqs_disabled())
                        n = 1;
                }
                static int n;
            }
            """);

    [Fact]
    public Task Learned_entry_state_still_catches_a_real_imbalance() =>
        Analyzer("class C { static void f() { if (irqs_disabled()) return; local_irq_disable(); {|#0:}|} }",
            Diagnostic("XPA0005").WithArguments("f", "IRQs disabled (local_irq_disable not undone)", "dynamic"));

    [Fact]
    public Task A_ports_own_definition_of_a_context_primitive_is_its_implementation() =>
        Analyzer("""
            class Port
            {
                static int count;
                static bool need_resched() => false;
                public static void preempt_enable() { count--; if (count == 0 && need_resched()) schedule(); }
                public static void local_irq_restore(ulong flags) { if (flags == 0) local_irq_enable(); else local_irq_disable(); }
            }
            """);

    [Fact]
    public Task Straight_line_helper_that_only_disables_is_an_acquire_helper() =>
        Analyzer("class C { static void my_lock() { migrate_disable(); } static void f() { my_lock(); migrate_enable(); } }");

    [Fact]
    public Task Throw_leaving_the_method_is_an_exit() =>
        Analyzer("class C { static void f(bool b) { local_irq_disable(); if (b) {|#0:throw new System.InvalidOperationException();|} local_irq_enable(); } }",
            Diagnostic("XPA0005").WithArguments("f", "IRQs disabled (local_irq_disable not undone)", "dynamic"));

    [Fact]
    public Task Try_finally_balances_every_exit() =>
        Analyzer("""
            class C
            {
                static int f(bool b)
                {
                    preempt_disable();
                    try
                    {
                        if (b) return 1;
                        if (!b) throw new System.InvalidOperationException();
                        return 2;
                    }
                    finally { preempt_enable(); }
                }
            }
            """);

    [Fact]
    public Task Using_and_nested_finally_are_graph_regions() =>
        Analyzer("""
            class C
            {
                static void f(bool b)
                {
                    using var d = new System.IO.MemoryStream();
                    xen_preemptible_hcall_begin();
                    try { try { if (b) return; } finally { d.Flush(); } }
                    finally { xen_preemptible_hcall_end(); }
                }
            }
            """);

    [Fact]
    public Task Balanced_loop_switch_and_goto_are_silent() =>
        Analyzer("""
            class C
            {
                static void f(int n)
                {
                    while (n-- > 0) { preempt_disable(); preempt_enable(); }
                    switch (n) { case 0: migrate_disable(); migrate_enable(); break; default: break; }
                again:
                    var flags = local_irq_save();
                    local_irq_restore(flags);
                    if (n++ < 3) goto again;
                }
            }
            """);

    [Fact]
    public Task Switch_case_that_forgets_to_enable() =>
        Analyzer("class C { static void f(int n) { preempt_disable(); switch (n) { case 0: break; case 1: {|#0:return;|} } preempt_enable(); } }",
            Diagnostic("XPA0005"));

    [Fact]
    public Task Region_ended_and_not_begun() =>
        Analyzer("class C { static void f(bool b) { if (b) xen_preemptible_hcall_end(); {|#0:}|} }",
            Diagnostic("XPA0005").WithArguments("f", "a preemptible-hypercall region ended and not begun", "dynamic"));

    [Fact]
    public Task Acquire_and_release_contracts_by_attribute_and_by_name() =>
        Analyzer("""
            class C
            {
                [DisablesPreemption] static void my_lock() { preempt_disable(); }
                [EnablesPreemption] static void my_unlock(bool b) { if (b) preempt_enable(); else preempt_enable(); }
                [PreemptibleHypercallBegin] static void my_begin() { xen_preemptible_hcall_begin(); }
                [PreemptibleHypercallEnd] static void my_end() { xen_preemptible_hcall_end(); }
            }
            class Port
            {
                static int get_cpu() { preempt_disable(); return smp_processor_id(); }
            }
            """);

    [Fact]
    public Task Irq_context_that_returns_with_irqs_enabled() =>
        Analyzer("class C { [IrqContext] static void f(bool b) { local_irq_enable(); if (b) {|#0:return;|} local_irq_disable(); } }",
            Diagnostic("XPA0005").WithArguments("f", "IRQs enabled although it was entered with IRQs disabled", "dynamic"));

    [Fact]
    public Task Lambda_and_local_function_are_checked_on_their_own() =>
        Analyzer("""
            class C
            {
                static void f()
                {
                    System.Action a = () => { preempt_disable(); {|#0:}|};
                    void g(bool b) { migrate_disable(); if (b) {|#1:return;|} migrate_enable(); }
                    a(); g(true);
                }
            }
            """, Diagnostic("XPA0005", 0), Diagnostic("XPA0005", 1));

    [Fact]
    public Task Editorconfig_lists_define_the_pairs() =>
        new PreemptTest("""
            class C
            {
                static void port_lock() { }
                static void port_unlock() { }
                static void f(bool b) { port_lock(); if (b) {|#0:return;|} port_unlock(); }
            }
            """).WithEditorConfig(("xen_preempt.preempt_disable_methods", "port_lock"), ("xen_preempt.preempt_enable_methods", "port_unlock"))
            .Expect(Diagnostic("XPA0005")).RunAsync();

    [Fact]
    public Task Correlated_branches_are_not_a_path() =>
        Analyzer("class C { static void f(bool b) { if (b) preempt_disable(); schedule_like(); if (b) preempt_enable(); } static void schedule_like() { } }");

    [Fact]
    public Task Deep_nesting_past_the_cap_reports_nothing_wrong() =>
        Analyzer("""
            class C
            {
                static void f()
                {
                    preempt_disable(); preempt_disable(); preempt_disable(); preempt_disable(); preempt_disable();
                    preempt_disable(); preempt_disable(); preempt_disable(); preempt_disable(); preempt_disable();
                    preempt_enable(); preempt_enable(); preempt_enable(); preempt_enable(); preempt_enable();
                    preempt_enable(); preempt_enable(); preempt_enable(); preempt_enable(); preempt_enable();
                }
            }
            """);
}
