using static FixDemo.Kernel;

namespace FixDemo;

public static class Upcall
{
    // The hypercall's task must be rescheduled here in every preemption mode.
    [HypercallPreemptionPoint]
    public static void xen_pv_evtchn_do_upcall_preempt()
    {
        irqentry_exit_cond_resched(); // patched to a no-op under preempt=none/voluntary
    }

    public static void privcmd_ioctl_loop(int chunks)
    {
        for (var i = 0; i < chunks; i++)
        {
            if (__this_cpu_read(xen_in_preemptible_hcall))
                cond_resched();
        }
    }
}
