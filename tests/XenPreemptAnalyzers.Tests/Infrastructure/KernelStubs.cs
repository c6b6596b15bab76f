namespace XenPreemptAnalyzers.Tests.Infrastructure;

/// <summary>
/// A minimal kernel-style API and the contract attributes, declared in the test's own namespace: the
/// analyzers recognise them by name, exactly as they recognise any port. Bodies call nothing recognised.
/// </summary>
internal static class KernelStubs
{
    public const string Usings = "using Stubs;\nusing static Stubs.Kernel;\n";

    public const string Source = """
        using System;
        namespace Stubs
        {
            [AttributeUsage(AttributeTargets.All)] public sealed class ProcessContextAttribute : Attribute { }
            [AttributeUsage(AttributeTargets.All)] public sealed class IrqContextAttribute : Attribute { }
            [AttributeUsage(AttributeTargets.All)] public sealed class RequiresPreemptDisabledAttribute : Attribute { }
            [AttributeUsage(AttributeTargets.All)] public sealed class DisablesPreemptionAttribute : Attribute { }
            [AttributeUsage(AttributeTargets.All)] public sealed class EnablesPreemptionAttribute : Attribute { }
            [AttributeUsage(AttributeTargets.All)] public sealed class PreemptibleHypercallBeginAttribute : Attribute { }
            [AttributeUsage(AttributeTargets.All)] public sealed class PreemptibleHypercallEndAttribute : Attribute { }
            [AttributeUsage(AttributeTargets.All)] public sealed class HypercallPreemptionPointAttribute : Attribute { }
            [AttributeUsage(AttributeTargets.All)] public sealed class HypercallAttribute : Attribute { }
            [AttributeUsage(AttributeTargets.All)] public sealed class PatchableAttribute : Attribute { public string Raw { get; set; } }
            [AttributeUsage(AttributeTargets.All)] public sealed class NoPreemptAnalysisAttribute : Attribute { public NoPreemptAnalysisAttribute(string why) { } }

            public sealed class PerCpu<T> { public T Value; }
            public struct PtRegs { }
            public struct IrqentryState { public bool exit_rcu; }
            public struct Req { public long op, a0, a1, a2, a3, a4; }

            public static class Kernel
            {
                public static readonly PerCpu<int> counter = new PerCpu<int>();
                public static readonly PerCpu<bool> xen_in_preemptible_hcall = new PerCpu<bool>();

                public static void preempt_disable() { }
                public static void preempt_enable() { }
                public static int get_cpu() => 0;
                public static void put_cpu() { }
                public static void migrate_disable() { }
                public static void migrate_enable() { }
                public static void local_irq_disable() { }
                public static void local_irq_enable() { }
                public static ulong local_irq_save() => 0;
                public static void local_irq_restore(ulong flags) { }
                public static int preempt_count() => 0;
                public static bool irqs_disabled() => false;
                public static bool need_resched() => false;
                public static void lockdep_assert_irqs_disabled() { }
                public static void lockdep_assert_preemption_disabled() { }

                public static void schedule() { }
                public static void cond_resched() { }
                public static void __cond_resched() { }
                public static void might_sleep() { }
                public static void might_resched() { }
                public static void msleep(int ms) { }
                public static long copy_from_user(object to, object from, long n) => 0;
                public static void irqentry_exit_cond_resched() { }
                public static void raw_irqentry_exit_cond_resched() { }
                public static void preempt_schedule_irq() { }

                public static T __this_cpu_read<T>(PerCpu<T> v) => v.Value;
                public static void __this_cpu_write<T>(PerCpu<T> v, T x) { }
                public static void __this_cpu_inc(PerCpu<int> v) { }
                public static T this_cpu_read<T>(PerCpu<T> v) => v.Value;
                public static void this_cpu_write<T>(PerCpu<T> v, T x) { }
                public static void this_cpu_inc(PerCpu<int> v) { }
                public static T raw_cpu_read<T>(PerCpu<T> v) => v.Value;
                public static void raw_cpu_write<T>(PerCpu<T> v, T x) { }
                public static int smp_processor_id() => 0;
                public static int raw_smp_processor_id() => 0;
                public static T per_cpu<T>(PerCpu<T> v, int cpu) => v.Value;

                public static void xen_preemptible_hcall_begin() { }
                public static void xen_preemptible_hcall_end() { }
                public static bool get_and_clear_inhcall() => false;
                public static void restore_inhcall(bool inhcall) { }
                public static long privcmd_call(long op, long a0, long a1, long a2, long a3, long a4) => 0;
                public static long HYPERVISOR_sched_op(int cmd) => 0;
                public static IrqentryState irqentry_enter(PtRegs regs) => default;
                public static void irqentry_exit(PtRegs regs, IrqentryState state) { }
            }
        }
        """;
}
