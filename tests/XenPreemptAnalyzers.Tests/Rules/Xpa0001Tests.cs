using System.Threading.Tasks;
using Xunit;
using XenPreemptAnalyzers.Tests.Infrastructure;
using static XenPreemptAnalyzers.Tests.Infrastructure.Verify;

namespace XenPreemptAnalyzers.Tests.Rules;

public sealed class Xpa0001Tests
{
    [Fact]
    public Task Message_for_a_cached_value() =>
        Analyzer("""
            class C
            {
                [ProcessContext] static void bump()
                {
                    preempt_disable(); int v = __this_cpu_read(counter); preempt_enable();
                    schedule();
                    preempt_disable(); __this_cpu_write(counter, {|#0:v|} + 1); preempt_enable();
                }
            }
            """, "none", Diagnostic("XPA0001").WithMessage(
                "'v' holds a per-CPU value from '__this_cpu_read' (line 7) and is used here; under preemption model 'none' the task may be preempted and migrated to another CPU at 'schedule' (line 8)"));

    [Fact]
    public Task Message_for_the_region_and_its_point_as_additional_location() =>
        new PreemptTest("""
            class C
            {
                [ProcessContext] static long hcall(Req r)
                {
                    {|#0:xen_preemptible_hcall_begin()|};
                    {|#1:might_sleep()|};
                    long ret = privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4);
                    xen_preemptible_hcall_end();
                    return ret;
                }
            }
            """).WithModel("voluntary").Expect(
                new Microsoft.CodeAnalysis.Testing.DiagnosticResult(Descriptors.XPA0001).WithLocation(0).WithLocation(1).WithMessage(
                    "Per-CPU state set by 'xen_preemptible_hcall_begin' is relied on until the hypercall region ends; under preemption model 'voluntary' the task may be preempted and migrated to another CPU at 'might_sleep' (line 8)"))
            .RunAsync();

    // Dogfooding regression: the reference port's own fix (variants/ours.cs) keeps the region state in a
    // [PerTask] thread flag; under dynamic/full the task may migrate inside the region, and that is fine.
    [Theory]
    [InlineData("dynamic")]
    [InlineData("full")]
    [InlineData("voluntary")]
    public Task Region_state_in_a_per_task_thread_flag_is_not_reported(string model) =>
        Analyzer("""
            [System.AttributeUsage(System.AttributeTargets.All)] public sealed class PerTaskAttribute : System.Attribute { }
            class C
            {
                [PerTask] const int TIF_XEN_PREEMPTIBLE_HCALL = 16;
                static int flags;
                static void set_thread_flag(int f) => flags |= 1 << f;
                static void clear_thread_flag(int f) => flags &= ~(1 << f);
                [PreemptibleHypercallBegin] static void begin() => set_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);
                [PreemptibleHypercallEnd] static void end() => clear_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);
                [ProcessContext] static long hcall(Req r)
                {
                    begin();
                    might_sleep();
                    long ret = privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4);
                    end();
                    return ret;
                }
            }
            """, model);

    // What the XPA0001 (a) move produces: the thread-flag API is per-task by name (no [PerTask] needed),
    // also behind one setter (june 2023's xen_preemptible_hcall_set).
    [Theory]
    [InlineData("set_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL)")]
    [InlineData("hcall_set(true)")]
    public Task Region_state_through_the_thread_flag_api_is_not_reported(string beginBody) =>
        Analyzer($$"""
            class C
            {
                const int TIF_XEN_PREEMPTIBLE_HCALL = 16;
                static int flags;
                static void set_thread_flag(int f) => flags |= 1 << f;
                static void clear_thread_flag(int f) => flags &= ~(1 << f);
                static void hcall_set(bool on) { if (on) set_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL); else clear_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL); }
                [PreemptibleHypercallBegin] static void begin() => {{beginBody}};
                [PreemptibleHypercallEnd] static void end() => clear_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);
                [ProcessContext] static long hcall(Req r)
                {
                    begin();
                    might_sleep();
                    long ret = privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4);
                    end();
                    return ret;
                }
            }
            """, "full");

    // The 2020-66a07b44e765-4624a14f4daa variants under CONFIG_PREEMPTION: #else stubs, no state at all.
    [Fact]
    public Task Empty_stub_begin_sets_no_state() =>
        Analyzer("""
            class C
            {
            #if CONFIG_PREEMPT_NONE
                static void xen_preemptible_hcall_begin() => __this_cpu_write(xen_in_preemptible_hcall, true);
                static void xen_preemptible_hcall_end() => __this_cpu_write(xen_in_preemptible_hcall, false);
            #else
                static void xen_preemptible_hcall_begin() { }
                static void xen_preemptible_hcall_end() { }
            #endif
                [ProcessContext] static long hcall(Req r)
                {
                    {|#0:xen_preemptible_hcall_begin()|};
                    long ret = privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4);
                    xen_preemptible_hcall_end();
                    return ret;
                }
            }
            """, "dynamic",
            // No per-CPU state, so no XPA0001; but a region compiled out of a dynamic build is XPA0002's second message.
            Diagnostic("XPA0002"));

    [Fact]
    public Task Region_state_in_a_per_cpu_slot_behind_an_attribute_is_still_reported() =>
        Analyzer("""
            [System.AttributeUsage(System.AttributeTargets.All)] public sealed class PerTaskAttribute : System.Attribute { }
            class C
            {
                [PerTask] static int unrelated;
                [PreemptibleHypercallBegin] static void begin() => __this_cpu_write(xen_in_preemptible_hcall, true);
                [PreemptibleHypercallEnd] static void end() => __this_cpu_write(xen_in_preemptible_hcall, false);
                [ProcessContext] static long hcall(Req r)
                {
                    {|#0:begin()|};
                    long ret = privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4);
                    {|#1:end()|};
                    return ret + unrelated;
                }
            }
            """, "dynamic", Diagnostic("XPA0001"),
            // The helpers' own __this_cpu_write runs in hcall's preemptible context (DEBUG_PREEMPT's line): docs/rules/XPA0004.md.
            Diagnostic("XPA0004", 0), Diagnostic("XPA0004", 1));

    [Theory]
    [InlineData("full")]
    [InlineData("dynamic")]
    public Task Cpu_id_used_after_preempt_enable(string model) =>
        Analyzer("class C { [ProcessContext] static int f() { preempt_disable(); int cpu = smp_processor_id(); preempt_enable(); return {|#0:cpu|}; } }", model,
            Diagnostic("XPA0001"));

    [Fact]
    public Task Cpu_id_without_a_scheduling_point_under_none() =>
        Analyzer("class C { [ProcessContext] static int f() { preempt_disable(); int cpu = smp_processor_id(); preempt_enable(); return cpu; } }", "none");

    [Fact]
    public Task Get_cpu_put_cpu_and_reread_are_fine() =>
        Analyzer("""
            class C
            {
                [ProcessContext] static void f()
                {
                    int cpu = get_cpu(); use(cpu); put_cpu();
                    preempt_disable(); int v = __this_cpu_read(counter); preempt_enable();
                    schedule();
                    preempt_disable(); v = __this_cpu_read(counter); __this_cpu_write(counter, v + 1); preempt_enable();
                }
                static void use(int x) { }
            }
            """);

    [Fact]
    public Task Cached_cpu_after_put_cpu_and_schedule() =>
        Analyzer("class C { [ProcessContext] static void f() { int cpu = get_cpu(); put_cpu(); schedule(); use({|#0:cpu|}); } static void use(int x) { } }", "none",
            Diagnostic("XPA0001"));

    [Fact]
    public Task Migrate_disable_keeps_a_cached_cpu_id_valid() =>
        Analyzer("class C { [ProcessContext] static void f() { migrate_disable(); int cpu = smp_processor_id(); schedule(); use(cpu); migrate_enable(); } static void use(int x) { } }");

    [Fact]
    public Task Migrate_disable_does_not_fix_the_region() =>
        Analyzer("""
            class C
            {
                [ProcessContext] static void f(Req r)
                {
                    migrate_disable();
                    {|#0:xen_preemptible_hcall_begin()|};
                    privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4);
                    xen_preemptible_hcall_end();
                    migrate_enable();
                }
            }
            """, Diagnostic("XPA0001"));

    [Theory]
    [InlineData("full")]
    [InlineData("dynamic")]
    [InlineData("none")]
    public Task Preempt_disabled_region_is_fine(string model) =>
        Analyzer("class C { [ProcessContext] static void f(Req r) { preempt_disable(); xen_preemptible_hcall_begin(); privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4); xen_preemptible_hcall_end(); preempt_enable(); } }", model);

    [Fact]
    public Task Value_cached_before_the_hypercall_hand_off_under_voluntary() =>
        Analyzer("""
            class C
            {
                [ProcessContext] static void f(Req r)
                {
                    xen_preemptible_hcall_begin();
                    int cpu = raw_smp_processor_id();
                    privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4);
                    use({|#0:cpu|});
                    xen_preemptible_hcall_end();
                }
                static void use(int x) { }
            }
            """, "voluntary", Diagnostic("XPA0001"));

    [Fact]
    public Task Try_finally_region_under_voluntary_and_full() =>
        Task.WhenAll(
            Analyzer("class C { [ProcessContext] static void f(Req r) { xen_preemptible_hcall_begin(); try { privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4); } finally { xen_preemptible_hcall_end(); } } }", "voluntary"),
            Analyzer("class C { [ProcessContext] static void f(Req r) { {|#0:xen_preemptible_hcall_begin()|}; try { privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4); } finally { xen_preemptible_hcall_end(); } } }", "full", Diagnostic("XPA0001")));

    [Fact]
    public Task Loop_reading_in_each_iteration_is_fine_but_carrying_the_value_is_not() =>
        Analyzer("""
            class C
            {
                [ProcessContext] static void f(int n)
                {
                    int last = 0;
                    for (int i = 0; i < n; i++)
                    {
                        preempt_disable();
                        int v = __this_cpu_read(counter);
                        __this_cpu_write(counter, v + {|#0:last|});
                        last = v;
                        preempt_enable();
                        cond_resched();
                    }
                }
            }
            """, "voluntary", Diagnostic("XPA0001"));

    [Fact]
    public Task Unannotated_lambda_is_unknown_annotated_local_function_is_checked() =>
        Analyzer("""
            class C
            {
                static void f()
                {
                    System.Action a = () => { preempt_disable(); int v = __this_cpu_read(counter); preempt_enable(); schedule(); use(v); };
                    [ProcessContext] void g() { preempt_disable(); int v = __this_cpu_read(counter); preempt_enable(); schedule(); use({|#0:v|}); }
                    a(); g();
                }
                static void use(int x) { }
            }
            """, "none", Diagnostic("XPA0001"));

    [Fact]
    public Task Region_by_attribute_and_by_editorconfig() =>
        new PreemptTest("""
            class C
            {
                [PreemptibleHypercallBegin] static void port_begin() { }
                [PreemptibleHypercallEnd] static void port_end() { }
                static void other_begin() { }
                static void other_end() { }
                [ProcessContext] static void f() { {|#0:port_begin()|}; port_end(); }
                [ProcessContext] static void g() { {|#1:other_begin()|}; other_end(); }
            }
            """).WithEditorConfig(("xen_preempt.hypercall_begin_methods", "other_begin"), ("xen_preempt.hypercall_end_methods", "other_end"))
            .Expect(Diagnostic("XPA0001", 0), Diagnostic("XPA0001", 1)).RunAsync();

    [Fact]
    public Task Raw_cpu_accessors_are_not_an_exemption() =>
        Analyzer("class C { [ProcessContext] static void f() { preempt_disable(); bool s = raw_cpu_read(xen_in_preemptible_hcall); preempt_enable(); msleep(1); raw_cpu_write(xen_in_preemptible_hcall, {|#0:s|}); } }", "none",
            Diagnostic("XPA0001"));
}
