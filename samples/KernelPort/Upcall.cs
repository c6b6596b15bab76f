using XenPreempt.Annotations;
using static KernelPort.Kernel;

namespace KernelPort;

/// <summary>The event-channel upcall: where a preemptible hypercall's task is rescheduled.</summary>
public static class Upcall
{
    [HypercallPreemptionPoint]
    public static void xen_pv_evtchn_do_upcall_preempt()
    {
        irqentry_exit_cond_resched();
    }

    [IrqContext]
    public static void xen_maybe_preempt_hcall()
    {
        if (__this_cpu_read(xen_in_preemptible_hcall) && need_resched())
        {
            __this_cpu_write(xen_in_preemptible_hcall, false);
            msleep(1);
            __this_cpu_write(xen_in_preemptible_hcall, true);
        }
    }
}
