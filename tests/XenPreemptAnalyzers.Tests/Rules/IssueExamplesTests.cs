using XenPreemptAnalyzers.Tests.Infrastructure;
using System.Threading.Tasks;
using Xunit;
using static XenPreemptAnalyzers.Tests.Infrastructure.Verify;

namespace XenPreemptAnalyzers.Tests.Rules;

/// <summary>The examples block of issue 3, each exactly as commented there.</summary>
public sealed class IssueExamplesTests
{
    private const string Hcall = """
        class C
        {
            [ProcessContext] static long hcall(Req r)
            {
                {|#0:xen_preemptible_hcall_begin()|};
                long ret = privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4);
                xen_preemptible_hcall_end();
                return ret;
            }
        }
        """;

    [Theory]
    [InlineData("dynamic")]
    [InlineData("full")]
    [InlineData("lazy")]
    public Task Hcall_region_is_XPA0001_where_preemption_is_compiled_in(string model) =>
        Analyzer(Hcall, model, Diagnostic("XPA0001"));

    [Theory]
    [InlineData("voluntary")]
    [InlineData("none")]
    public Task Hcall_region_is_silent_under_static_none_and_voluntary(string model) =>
        Analyzer(Hcall.Replace("{|#0:", "").Replace("|}", ""), model);

    [Theory]
    [InlineData("might_sleep()")]
    [InlineData("copy_from_user(null, null, 8)")]
    public Task Voluntary_scheduling_point_between_begin_and_hypercall_is_XPA0001(string point) =>
        Analyzer($$"""
            class C
            {
                [ProcessContext] static long hcall(Req r)
                {
                    {|#0:xen_preemptible_hcall_begin()|};
                    {{point}};
                    long ret = privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4);
                    xen_preemptible_hcall_end();
                    return ret;
                }
            }
            """, "voluntary", Diagnostic("XPA0001"));

    [Theory]
    [MemberData(nameof(PreemptionModels.All), MemberType = typeof(PreemptionModels))]
    public Task Bump_uses_a_value_from_a_cpu_the_task_may_have_left(string model) =>
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
            """, model, Diagnostic("XPA0001"));

    private const string Upcall = """
        class C
        {
            [IrqContext] static void upcall(PtRegs regs)
            {
                var state = irqentry_enter(regs);
                bool inhcall = get_and_clear_inhcall();
                if (inhcall && !state.exit_rcu)
                {
                    MARK0irqentry_exit_cond_resched()MARK1;
                    restore_inhcall(inhcall);
                }
                else
                {
                    irqentry_exit(regs, state);
                }
            }
        }
        """;

    [Fact]
    public Task Upcall_patchable_resched_is_XPA0002_under_dynamic() =>
        Analyzer(Upcall.Replace("MARK0", "{|#0:").Replace("MARK1", "|}"), "dynamic",
            Diagnostic("XPA0002").WithArguments("irqentry_exit_cond_resched", "none, voluntary", "dynamic", "raw_irqentry_exit_cond_resched"));

    [Theory]
    [InlineData("none")]
    [InlineData("voluntary")]
    [InlineData("full")]
    [InlineData("lazy")]
    public Task Upcall_is_silent_under_static_models(string model) =>
        Analyzer(Upcall.Replace("MARK0", "").Replace("MARK1", ""), model);

    [Fact]
    public Task G_H_K_and_helper() =>
        Analyzer("""
            class C
            {
                [ProcessContext] static void g() { {|#0:__this_cpu_write(counter, 1)|}; }
                [ProcessContext] static void h() { preempt_disable(); __this_cpu_write(counter, 1); preempt_enable(); }
                [ProcessContext] static void k(bool b) { if (b) preempt_disable(); {|#1:__this_cpu_inc(counter)|}; if (b) preempt_enable(); }
                static void helper() { __this_cpu_write(counter, 1); }
            }
            """, Diagnostic("XPA0004", 0), Diagnostic("XPA0004", 1));

    [Fact]
    public Task Early_return_leaves_the_region_begun() =>
        Analyzer("""
            class C
            {
                [ProcessContext] static long early(bool bad) { {|#1:xen_preemptible_hcall_begin()|}; if (bad) {|#0:return -14;|} xen_preemptible_hcall_end(); return 0; }
            }
            """,
            Diagnostic("XPA0005", 0).WithArguments("early", "a preemptible-hypercall region begun and not ended", "dynamic"),
            Diagnostic("XPA0001", 1));

    private const string MaybePreemptHcall2014 = """
        class C
        {
            [IrqContext] static void xen_maybe_preempt_hcall()
            {
                if (__this_cpu_read(xen_in_preemptible_hcall) && need_resched())
                {
                    __this_cpu_write(xen_in_preemptible_hcall, false);
                    {|#0:cond_resched()|};
                    __this_cpu_write(xen_in_preemptible_hcall, true);
                }
            }
        }
        """;

    [Fact]
    public Task The_2014_code_under_dynamic_is_XPA0006_and_XPA0002() =>
        Analyzer(MaybePreemptHcall2014, "dynamic",
            Diagnostic("XPA0006").WithArguments("'cond_resched'", "IRQs disabled", "dynamic"),
            Diagnostic("XPA0002").WithArguments("cond_resched", "full, lazy", "dynamic", "__cond_resched"));

    [Theory]
    [InlineData("none")]
    [InlineData("voluntary")]
    public Task The_2014_code_under_static_none_and_voluntary_is_XPA0006_only(string model) =>
        Analyzer(MaybePreemptHcall2014, model, Diagnostic("XPA0006"));
}
