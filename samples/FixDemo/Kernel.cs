// A port's own kernel names: the analyzers recognise them by name, in any namespace.
namespace FixDemo;

public sealed class PerCpu<T>
{
    public T Value = default!;
}

[System.AttributeUsage(System.AttributeTargets.Method)]
public sealed class HypercallPreemptionPointAttribute : System.Attribute { }

public static class Kernel
{
    public static readonly PerCpu<bool> xen_in_preemptible_hcall = new();

    public static T __this_cpu_read<T>(PerCpu<T> v) => v.Value;
    public static void irqentry_exit_cond_resched() { }
    public static void raw_irqentry_exit_cond_resched() { }
    public static void cond_resched() { }
    public static void __cond_resched() { }
}
