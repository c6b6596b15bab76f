using XenPreempt.Annotations;
using static KernelPortFixed.Kernel;

namespace KernelPortFixed;

/// <summary>The event-channel upcall: where a preemptible hypercall's task is rescheduled.</summary>
public static class Upcall
{
    [HypercallPreemptionPoint]
    public static void xen_pv_evtchn_do_upcall_preempt()
    {
        raw_irqentry_exit_cond_resched(); // XPA0002: never patched away
    }

    [IrqContext]
    public static void xen_maybe_preempt_hcall()
    {
        if (__this_cpu_read(xen_in_preemptible_hcall) && need_resched())
        {
            __this_cpu_write(xen_in_preemptible_hcall, false);
            local_irq_enable(); // XPA0006: do not sleep with IRQs off
            msleep(1);
            local_irq_disable();
            __this_cpu_write(xen_in_preemptible_hcall, true);
        }
    }
}
