// SPDX-License-Identifier: GPL-2.0-only
// Models: drivers/xen/events/events_base.c (xen_evtchn_do_upcall: scan the pending ports),
// arch/x86/xen/enlighten_pv.c (__xen_pv_evtchn_do_upcall) and arch/x86/xen/enlighten_hvm.c
// (sysvec_xen_hvm_callback: the PVH/HVM callback vector, a DEFINE_IDTENTRY_SYSVEC whose wrapper
// (arch/x86/include/asm/idtentry.h) leaves through irqentry_exit(); it has no preemptible-hypercall
// hand-off in any mainline version) — Linux v6.18 (9b44fff6 snapshot of enlighten_pv.c).
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
    /// sysvec_xen_hvm_callback: the PVH/HVM callback vector, an ordinary system vector. It knows
    /// nothing of preemptible hypercalls, so whatever per-CPU state the privcmd bracket set is neither
    /// cleared nor restored here, and with CONFIG_PREEMPTION its irqentry_exit() preempts a task inside
    /// the bracket like any other: the route by which such a task is switched on a PVH dom0.
    /// </summary>
    [IrqContext]
    public static void sysvec_xen_hvm_callback(pt_regs regs)
    {
        var state = irqentry_enter(regs);
        __xen_pv_evtchn_do_upcall(regs);
        irqentry_exit(regs, state);
    }
}
