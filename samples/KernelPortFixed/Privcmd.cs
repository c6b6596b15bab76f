using XenPreempt.Annotations;
using static KernelPortFixed.Kernel;

namespace KernelPortFixed;

/// <summary>The toolstack's hypercall ioctl: a long hypercall the upcall may preempt.</summary>
public static class Privcmd
{
    [ProcessContext]
    public static long privcmd_ioctl_hypercall(long op, long arg, bool bad)
    {
        // XPA0001: the region's state is per-task (Primitives.cs). XPA0005: every exit ends the region.
        xen_preemptible_hcall_begin();
        try
        {
            if (bad)
                return -14;
            return privcmd_call(op, arg);
        }
        finally
        {
            xen_preemptible_hcall_end();
        }
    }

    [ProcessContext]
    public static void account_irq()
    {
        this_cpu_inc(irq_count); // XPA0004: the preempt-safe accessor
    }
}
