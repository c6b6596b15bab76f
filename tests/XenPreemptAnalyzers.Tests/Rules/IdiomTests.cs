// SPDX-License-Identifier: MIT
using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;
using Xunit;
using XenPreemptAnalyzers.Tests.Infrastructure;
using static XenPreemptAnalyzers.Tests.Infrastructure.Verify;

namespace XenPreemptAnalyzers.Tests.Rules;

/// <summary>
/// The idioms real ports use (docs/rules/*.md, "Recognised forms" and the rule descriptions): each with a correct
/// form that is silent and a wrong form with its exact diagnostics, under every preemption model.
/// </summary>
public sealed class IdiomTests
{
    private static bool Involuntary(string model) => model is "full" or "lazy" or "dynamic";

    private static DiagnosticResult[] When(bool condition, params DiagnosticResult[] expected) =>
        condition ? expected : System.Array.Empty<DiagnosticResult>();

    // ---- C# scope guards (include/linux/cleanup.h's guard(preempt)(), scoped_guard(irqsave, …)) -------------

    private const string Guards = """
        ref struct PreemptGuard
        {
            public PreemptGuard(int unused) { preempt_disable(); }
            public void Dispose() { preempt_enable(); }
        }
        sealed class IrqSaveGuard : System.IDisposable
        {
            private readonly ulong flags;
            public IrqSaveGuard() { flags = local_irq_save(); }
            public void Dispose() { local_irq_restore(flags); }
        }
        sealed class MigrateGuard : System.IDisposable
        {
            public MigrateGuard() { migrate_disable(); }
            void System.IDisposable.Dispose() { migrate_enable(); }
        }
        static class Guard
        {
            public static PreemptGuard guard_preempt() => new PreemptGuard(0);
        }
        """;

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task Scope_guards_disable_for_their_scope_and_enable_at_its_end(string model) =>
        Analyzer("""
            class C
            {
                [ProcessContext] static void block()
                {
                    using (new PreemptGuard(0)) { __this_cpu_inc(counter); }
                    using (new IrqSaveGuard()) { __this_cpu_inc(counter); }
                }
                [ProcessContext] static void declaration()
                {
                    using var guard = new PreemptGuard(0);
                    __this_cpu_inc(counter);
                }
                [ProcessContext] static int migrate()
                {
                    using (new MigrateGuard()) { int cpu = smp_processor_id(); schedule(); return cpu; }
                }
                [ProcessContext] static void factory()
                {
                    using var scope = Guard.guard_preempt();
                    __this_cpu_inc(counter);
                }
            }
            """ + Guards, model);

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task Scope_guards_are_seen_wrong_where_they_are_wrong(string model) =>
        Analyzer("""
            class C
            {
                [ProcessContext] static void after_the_scope()
                {
                    using (new PreemptGuard(0)) { __this_cpu_inc(counter); }
                    {|#0:__this_cpu_inc(counter)|};
                }
                [ProcessContext] static void sleeps_inside()
                {
                    using var guard = new PreemptGuard(0);
                    {|#1:schedule()|};
                }
                [ProcessContext] static void never_disposed()
                {
                    var guard = new IrqSaveGuard();
                    __this_cpu_inc(counter);
                {|#2:}|}
            }
            """ + Guards, model,
            [.. When(Involuntary(model), Diagnostic("XPA0004", 0)), Diagnostic("XPA0006", 1), Diagnostic("XPA0005", 2)]);

    // ---- preemptible() and irqs_disabled() as conditions ---------------------------------------------------

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task Preemptible_and_irqs_disabled_prune_the_side_that_cannot_be_taken(string model) =>
        Analyzer("""
            class C
            {
                static bool preemptible() => true;
                [ProcessContext] static int conditional() => preemptible() ? this_cpu_read(counter) : __this_cpu_read(counter);
                [ProcessContext] static void branch()
                {
                    if (!preemptible()) __this_cpu_inc(counter); else this_cpu_inc(counter);
                    if (irqs_disabled()) __this_cpu_inc(counter);
                }
                [ProcessContext] static int wrong() => preemptible() ? {|#0:__this_cpu_read(counter)|} : 0;
                [ProcessContext] static void wrong_branch()
                {
                    if (!irqs_disabled()) {|#1:__this_cpu_inc(counter)|};
                }
            }
            """, model, When(Involuntary(model), Diagnostic("XPA0004", 0), Diagnostic("XPA0004", 1)));

    // ---- the upcall hand-off written inline --------------------------------------------------------------

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task Inline_hand_off_is_the_design(string model) =>
        Analyzer("""
            class Upcall
            {
                [IrqContext] static void xen_pv_evtchn_do_upcall(PtRegs regs)
                {
                    var state = irqentry_enter(regs);
                    bool inhcall = __this_cpu_read(xen_in_preemptible_hcall);
                    __this_cpu_write(xen_in_preemptible_hcall, false);
                    if (inhcall && !state.exit_rcu)
                    {
                        raw_irqentry_exit_cond_resched();
                        __this_cpu_write(xen_in_preemptible_hcall, inhcall);
                    }
                    else
                        irqentry_exit(regs, state);
                }
                [IrqContext] static void relies_on_it(PtRegs regs)
                {
                    bool inhcall = __this_cpu_read(xen_in_preemptible_hcall);
                    __this_cpu_write(xen_in_preemptible_hcall, false);
                    if (inhcall)
                    {
                        raw_irqentry_exit_cond_resched();
                        if ({|#0:inhcall|}) __this_cpu_inc(counter);
                        __this_cpu_write(xen_in_preemptible_hcall, inhcall);
                    }
                }
            }
            """, model, Diagnostic("XPA0001", 0));

    // ---- one use after a switch with a point in each arm ---------------------------------------------------

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task A_use_after_points_in_several_arms_is_one_finding(string model) =>
        Analyzer("""
            class C
            {
                [ProcessContext] static void f(int n)
                {
                    preempt_disable(); int v = __this_cpu_read(counter); preempt_enable();
                    switch (n) { case 0: schedule(); break; case 1: msleep(1); break; default: cond_resched(); break; }
                    preempt_disable(); __this_cpu_write(counter, {|#0:v|} + 1); preempt_enable();
                }
                [ProcessContext] static void g(int n)
                {
                    preempt_disable();
                    int v = __this_cpu_read(counter);
                    switch (n) { case 0: v++; break; case 1: v--; break; }
                    __this_cpu_write(counter, v);
                    preempt_enable();
                }
            }
            """, model, Diagnostic("XPA0001", 0));

    // ---- the migration check -----------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task Comparing_a_cached_cpu_with_the_current_one_is_the_migration_check(string model) =>
        Analyzer("""
            class C
            {
                [ProcessContext] static bool migrated()
                {
                    int cpu = get_cpu(); put_cpu();
                    schedule();
                    return cpu != raw_smp_processor_id();
                }
                [ProcessContext] static int relied_on()
                {
                    int cpu = get_cpu(); put_cpu();
                    schedule();
                    return per_cpu(counter, {|#0:cpu|});
                }
            }
            """, model, Diagnostic("XPA0001", 0));

    // ---- try/catch: the catch is entered with the try's entry context or a throw's -------------------------

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task A_catch_is_entered_with_the_context_of_the_try_or_of_a_throw(string model) =>
        Analyzer("""
            class C
            {
                static int balanced(bool b)
                {
                    try
                    {
                        preempt_disable();
                        if (b) __this_cpu_inc(counter);
                        preempt_enable();
                        return 0;
                    }
                    catch (System.InvalidOperationException) { return -1; }
                }
                static int disabled_around_the_try(bool b)
                {
                    preempt_disable();
                    try { if (b) __this_cpu_inc(counter); }
                    catch (System.InvalidOperationException) { {|#0:return -1;|} }
                    preempt_enable();
                    return 0;
                }
                static int throws_while_disabled(bool b)
                {
                    try
                    {
                        preempt_disable();
                        if (b) throw new System.InvalidOperationException();
                        preempt_enable();
                        return 0;
                    }
                    catch (System.InvalidOperationException) { {|#1:return -1;|} }
                }
            }
            """, model, Diagnostic("XPA0005", 0), Diagnostic("XPA0005", 1));

    // ---- XPA0005 on real code ----------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task A_release_guarded_by_a_flag_set_after_the_acquire_is_balanced(string model) =>
        Analyzer("""
            class C
            {
                static void flag()
                {
                    bool taken = false;
                    try { preempt_disable(); taken = true; __this_cpu_inc(counter); }
                    finally { if (taken) preempt_enable(); }
                }
                static void wrong_flag()
                {
                    bool taken = false;
                    try { preempt_disable(); taken = true; __this_cpu_inc(counter); }
                    finally { if (!taken) preempt_enable(); }
                {|#0:}|}
            }
            """, model, Diagnostic("XPA0005", 0));

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task The_shape_lock_lowers_to_is_balanced(string model) =>
        new PreemptTest("""
            class Spin
            {
                public static void port_spin_lock(object o, ref bool taken) { taken = true; }
                public static void port_spin_unlock(object o) { }
            }
            class C
            {
                static readonly object o = new object();
                static void by_hand()
                {
                    bool taken = false;
                    try { Spin.port_spin_lock(o, ref taken); __this_cpu_inc(counter); }
                    finally { if (taken) Spin.port_spin_unlock(o); }
                }
                static void by_lock()
                {
                    lock (o) { __this_cpu_inc(counter); }
                }
                static void leaks(bool b)
                {
                    bool taken = false;
                    Spin.port_spin_lock(o, ref taken);
                    if (b) {|#0:return;|}
                    Spin.port_spin_unlock(o);
                }
            }
            """).WithEditorConfig(
                ("xen_preempt.preemption_model", model),
                ("xen_preempt.preempt_disable_methods", "port_spin_lock, Enter"),
                ("xen_preempt.preempt_enable_methods", "port_spin_unlock, Exit"))
            .Expect(Diagnostic("XPA0005", 0)).RunAsync();

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task Paths_that_never_return_are_not_exits(string model) =>
        Analyzer("""
            class C
            {
                [System.Diagnostics.CodeAnalysis.DoesNotReturn] static void die(string why) => throw new System.InvalidOperationException(why);
                static void panic(string why) { for (;;) { } }
                static void halt() { }
                static void dies(bool b) { local_irq_disable(); if (b) die("bad"); local_irq_enable(); }
                static void panics(bool b) { preempt_disable(); if (b) panic("bad"); preempt_enable(); }
                static void idle() { local_irq_disable(); while (true) { halt(); } }
                static void returns(bool b) { local_irq_disable(); if (b) halt(); else local_irq_enable(); {|#0:}|}
            }
            """, model, Diagnostic("XPA0005", 0));

    private const string ConditionalAcquire = """
        [System.AttributeUsage(System.AttributeTargets.Method)]
        sealed class ConditionallyDisablesPreemptionAttribute : System.Attribute
        {
            public ConditionallyDisablesPreemptionAttribute(bool whenReturns = true) { }
        }
        """;

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task A_conditional_acquire_and_its_callers(string model) =>
        Analyzer("""
            class C
            {
                [ConditionallyDisablesPreemption(true)]
                static bool preempt_trylock(bool ok)
                {
                    if (!ok) return false;
                    preempt_disable();
                    return true;
                }
                [ConditionallyDisablesPreemption(false)]
                static bool preempt_trylock_busy(bool ok)
                {
                    if (ok) { preempt_disable(); return false; }
                    return true;
                }
                [ConditionallyDisablesPreemption]
                static bool wrong_side(bool ok)
                {
                    preempt_disable();
                    if (!ok) {|#0:return false;|}
                    return true;
                }
                static void caller(bool ok) { if (preempt_trylock(ok)) { __this_cpu_inc(counter); preempt_enable(); } }
                static void early_out(bool ok) { if (!preempt_trylock(ok)) return; __this_cpu_inc(counter); preempt_enable(); }
                static void through_a_local(bool ok) { bool locked = preempt_trylock(ok); if (locked) preempt_enable(); }
                static void busy(bool ok) { if (preempt_trylock_busy(ok)) return; preempt_enable(); }
                static void leaks(bool ok) { if (preempt_trylock(ok)) { __this_cpu_inc(counter); } {|#1:}|}
            }
            """ + ConditionalAcquire, model, Diagnostic("XPA0005", 0), Diagnostic("XPA0005", 1));

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task A_configured_primitive_is_not_checked_against_itself(string model) =>
        new PreemptTest("""
            class Port
            {
                static int count;
                public static void port_preempt_disable() { count++; }
                public static void port_preempt_enable() { count--; if (count == 0) schedule(); }
                static void user(bool b) { port_preempt_disable(); if (b) {|#0:return;|} port_preempt_enable(); }
            }
            """).WithEditorConfig(
                ("xen_preempt.preemption_model", model),
                ("xen_preempt.preempt_disable_methods", "port_preempt_disable"),
                ("xen_preempt.preempt_enable_methods", "port_preempt_enable"))
            .Expect(Diagnostic("XPA0005", 0)).RunAsync();

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task A_release_whose_argument_does_not_bind_yet_still_releases(string model) =>
        Analyzer("""
            class C
            {
                static void typing() { var flags = local_irq_save(); local_irq_restore({|CS0103:flagz|}); }
                static void typing_enable() { preempt_disable(); {|CS1501:preempt_enable|}(1); }
            }
            """, model);

    // ---- the upcall, path by path (docs/agreement.md's former gaps) -------------------------------------------

    private const string TaskFlags = """
        static class Task
        {
            public const int TIF_XEN_PREEMPTIBLE_HCALL = 16;
            public static bool test_thread_flag(int flag) => false;
        }
        """;

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task A_raw_reschedule_where_the_upcall_found_the_state_clear_is_generic(string model) =>
        Analyzer("""
            class Upcall
            {
                static bool xen_in_preemptible_hcall(IrqentryState state) => !state.exit_rcu && Task.test_thread_flag(Task.TIF_XEN_PREEMPTIBLE_HCALL);
                [IrqContext][HypercallPreemptionPoint] static void ours(PtRegs regs)
                {
                    var state = irqentry_enter(regs);
                    if (xen_in_preemptible_hcall(state))
                        raw_irqentry_exit_cond_resched();
                    else
                        irqentry_exit(regs, state);
                }
                [IrqContext][HypercallPreemptionPoint] static void injected(PtRegs regs)
                {
                    var state = irqentry_enter(regs);
                    if (xen_in_preemptible_hcall(state))
                        raw_irqentry_exit_cond_resched();
                    else
                        {|#0:raw_irqentry_exit_cond_resched()|};
                }
            }
            """ + TaskFlags, model, When(model is "dynamic", Diagnostic("XPA0003", 0)));

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task A_hand_off_that_reschedules_without_clearing_per_cpu_state(string model) =>
        Analyzer("""
            class Upcall
            {
                static bool xen_in_preemptible_hcall(IrqentryState state) => !state.exit_rcu && raw_cpu_read(Kernel.xen_in_preemptible_hcall);
                static bool in_task_hcall(IrqentryState state) => !state.exit_rcu && Task.test_thread_flag(Task.TIF_XEN_PREEMPTIBLE_HCALL);
                [IrqContext][HypercallPreemptionPoint] static void no_clear(PtRegs regs)
                {
                    var state = irqentry_enter(regs);
                    if (xen_in_preemptible_hcall(state))
                        {|#0:raw_irqentry_exit_cond_resched()|};
                    else
                        irqentry_exit(regs, state);
                }
                [IrqContext][HypercallPreemptionPoint] static void cleared(PtRegs regs)
                {
                    var state = irqentry_enter(regs);
                    bool inhcall = get_and_clear_inhcall();
                    if (inhcall && !state.exit_rcu)
                    {
                        raw_irqentry_exit_cond_resched();
                        restore_inhcall(inhcall);
                    }
                    else
                        irqentry_exit(regs, state);
                }
                [IrqContext][HypercallPreemptionPoint] static void cleared_inline(bool need)
                {
                    if (__this_cpu_read(Kernel.xen_in_preemptible_hcall) && need)
                    {
                        __this_cpu_write(Kernel.xen_in_preemptible_hcall, false);
                        raw_irqentry_exit_cond_resched();
                        __this_cpu_write(Kernel.xen_in_preemptible_hcall, true);
                    }
                }
                [IrqContext][HypercallPreemptionPoint] static void per_task(PtRegs regs)
                {
                    var state = irqentry_enter(regs);
                    if (in_task_hcall(state))
                        raw_irqentry_exit_cond_resched();
                    else
                        irqentry_exit(regs, state);
                }
            }
            """ + TaskFlags, model, Diagnostic("XPA0001", 0));
}
