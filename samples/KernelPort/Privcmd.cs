using XenPreempt.Annotations;
using static KernelPort.Kernel;

namespace KernelPort;

/// <summary>The toolstack's hypercall ioctl: a long hypercall the upcall may preempt.</summary>
public static class Privcmd
{
    [ProcessContext]
    public static long privcmd_ioctl_hypercall(long op, long arg, bool bad)
    {
        xen_preemptible_hcall_begin();
        if (bad)
            return -14;
        long ret = privcmd_call(op, arg);
        xen_preemptible_hcall_end();
        return ret;
    }

    [ProcessContext]
    public static void account_irq()
    {
        __this_cpu_inc(irq_count);
    }
}
