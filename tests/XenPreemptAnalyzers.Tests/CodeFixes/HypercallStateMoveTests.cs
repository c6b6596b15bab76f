using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;
using Xunit;
using XenPreemptAnalyzers.CodeFixes;
using XenPreemptAnalyzers.Tests.Infrastructure;
using static XenPreemptAnalyzers.Tests.Infrastructure.Verify;

namespace XenPreemptAnalyzers.Tests.CodeFixes;

/// <summary>
/// XPA0001 (a): the preemptible-hypercall state moves from a per-CPU variable to the task, in every file
/// of the solution that accesses it (a multi-document solution: privcmd, the region helpers, the upcall).
/// </summary>
public sealed class HypercallStateMoveTests
{
    private const string ThreadFlag = Xpa0001CodeFixProvider.MoveToThreadFlagPrefix + "Thread.TIF_XEN_PREEMPTIBLE_HCALL";

    /// <summary>The port's thread-flag API; the constant is deliberately not [PerTask]: set_thread_flag is per-task by name.</summary>
    private const string ThreadApi = """
        public static class Thread
        {
            public const int TIF_NEED_RESCHED = 3;
            public const int TIF_XEN_PREEMPTIBLE_HCALL = 16;
            static ulong flags;
            public static void set_thread_flag(int f) => flags |= 1UL << f;
            public static void clear_thread_flag(int f) => flags &= ~(1UL << f);
            public static bool test_thread_flag(int f) => (flags & (1UL << f)) != 0;
        }
        """;

    private const string Privcmd = """
        static class Privcmd
        {
            [ProcessContext]
            static long hcall(Req r)
            {
                {|#0:Xen.xen_preemptible_hcall_begin()|};
                long ret = privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4);
                Xen.xen_preemptible_hcall_end();
                return ret;
            }
        }
        """;

    private const string Xen = """
        static class Xen
        {
            // the flag of fdfd811ddde3
            internal static readonly PerCpu<bool> xen_in_preemptible_hcall = new PerCpu<bool>();

            [PreemptibleHypercallBegin]
            public static void xen_preemptible_hcall_begin() => __this_cpu_write(xen_in_preemptible_hcall, true);

            [PreemptibleHypercallEnd]
            public static void xen_preemptible_hcall_end() => __this_cpu_write(xen_in_preemptible_hcall, false);

            public static bool get_and_clear_inhcall()
            {
                bool inhcall = __this_cpu_read(xen_in_preemptible_hcall);
                __this_cpu_write(xen_in_preemptible_hcall, false); // hand it to the reschedule
                return inhcall;
            }

            public static void restore_inhcall(bool inhcall) => __this_cpu_write(xen_in_preemptible_hcall, inhcall);
        }
        """;

    private const string Upcall = """
        static class Upcall
        {
            [IrqContext]
            static void upcall(PtRegs regs)
            {
                var state = irqentry_enter(regs);
                bool inhcall = Xen.get_and_clear_inhcall();
                if (inhcall && !state.exit_rcu)
                {
                    raw_irqentry_exit_cond_resched();
                    Xen.restore_inhcall(inhcall);
                }
                else
                {
                    irqentry_exit(regs, state);
                }
            }

            static bool in_hcall() => raw_cpu_read(Xen.xen_in_preemptible_hcall);
        }
        """;

    private static FixTest<Xpa0001CodeFixProvider> Solution(string privcmd, string privcmdFixed, params (string Name, string Source, string Fixed)[] files)
    {
        var test = new FixTest<Xpa0001CodeFixProvider>(privcmd, privcmdFixed).WithModel("full");
        foreach (var (name, source, fixedSource) in files)
        {
            test.TestState.Sources.Add(($"/0/{name}.cs", KernelStubs.Usings + source));
            test.FixedState.Sources.Add(($"/0/{name}.cs", KernelStubs.Usings + fixedSource));
        }
        return test;
    }

    [Fact]
    public Task Thread_flag_rewrites_every_access_in_every_file_and_drops_the_per_cpu_variable() =>
        Solution(Privcmd, Privcmd.Replace("{|#0:Xen.xen_preemptible_hcall_begin()|}", "Xen.xen_preemptible_hcall_begin()"),
            ("Thread", ThreadApi, ThreadApi),
            ("Xen", Xen, """
                using static Thread;
                static class Xen
                {

                    [PreemptibleHypercallBegin]
                    public static void xen_preemptible_hcall_begin() => set_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);

                    [PreemptibleHypercallEnd]
                    public static void xen_preemptible_hcall_end() => clear_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);

                    public static bool get_and_clear_inhcall()
                    {
                        bool inhcall = test_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);
                        clear_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL); // hand it to the reschedule
                        return inhcall;
                    }

                    public static void restore_inhcall(bool inhcall)
                    {
                        if (inhcall) set_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL); else clear_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);
                    }
                }
                """),
            ("Upcall", Upcall, Upcall.Replace("raw_cpu_read(Xen.xen_in_preemptible_hcall)", "test_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL)").Replace("static class Upcall", "using static Thread;\nstatic class Upcall")))
        .Action(ThreadFlag, 0).Expect(Diagnostic("XPA0001")).RunAsync();
}
