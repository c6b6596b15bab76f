// SPDX-License-Identifier: GPL-2.0-only
// Models: drivers/xen/events/events_base.c (xen_evtchn_do_upcall: scan the pending ports),
// arch/x86/xen/enlighten_pv.c (__xen_pv_evtchn_do_upcall) and arch/x86/xen/enlighten_hvm.c
// (the PVH/HVM callback vector, which has no preemptible-hypercall hand-off) — Linux v6.18
// (9b44fff6 snapshot of enlighten_pv.c).
using XenPreempt.Annotations;
using XenPreempt.Machine;

namespace XenPreempt.Kernel;

public static partial class Linux
{
    /// <summary>Handles every pending event channel on this vCPU.</summary>
    [IrqContext]
    public static void xen_evtchn_do_upcall()
    {
        int ports = LinuxGuest.This.machine.CurrentCpu.TakePendingPorts();
        if ((ports & (1 << (int)EventPort.Timer)) != 0)
            sched_tick();
        // The reschedule IPI carries no work: resched_curr() already set TIF_NEED_RESCHED.
        if ((ports & (1 << (int)EventPort.Device)) != 0)
            raise_softirq(NET_RX_SOFTIRQ);
    }

    /// <summary>The hard-IRQ part of a PV upcall; softirqs run at its end (irq_exit_rcu).</summary>
    [IrqContext]
    public static void __xen_pv_evtchn_do_upcall(pt_regs regs)
    {
        irq_enter_rcu();
        xen_evtchn_do_upcall();
        irq_exit_rcu();
    }

    /// <summary>
    /// The PVH/HVM callback vector: an ordinary interrupt. It knows nothing of preemptible
    /// hypercalls, so whatever per-CPU state a PV bracket set is neither cleared nor restored here.
    /// </summary>
    [IrqContext]
    public static void xen_hvm_evtchn_do_upcall(pt_regs regs)
    {
        var state = irqentry_enter(regs);
        __xen_pv_evtchn_do_upcall(regs);
        irqentry_exit(regs, state);
    }
}
