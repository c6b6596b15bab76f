// The port's own kernel primitives. The analyzers know them by name (docs/configuration.md, "Built-in names"),
// in any namespace; a port with other spellings lists them in .editorconfig.
namespace KernelPort;

public sealed class PerCpu<T>
{
    public T Value = default!;
}

public static class Kernel
{
    public static readonly PerCpu<bool> xen_in_preemptible_hcall = new();
    public static readonly PerCpu<long> irq_count = new();

    public static T __this_cpu_read<T>(PerCpu<T> v) => v.Value;
    public static void __this_cpu_write<T>(PerCpu<T> v, T value) => v.Value = value;
    public static void this_cpu_inc(PerCpu<long> v) => v.Value++;
    public static void __this_cpu_inc(PerCpu<long> v) => v.Value++;

    public static void preempt_disable() { }
    public static void preempt_enable() { }
    public static void local_irq_disable() { }
    public static void local_irq_enable() { }
    public static bool need_resched() => false;
    public static void schedule() { }
    public static void cond_resched() { }
    public static void __cond_resched() { }
    public static void msleep(int ms) { }
    public static void irqentry_exit_cond_resched() { }
    public static void raw_irqentry_exit_cond_resched() { }

    public static void xen_preemptible_hcall_begin() { }
    public static void xen_preemptible_hcall_end() { }
    public static long privcmd_call(long op, long a0) => 0;
}
