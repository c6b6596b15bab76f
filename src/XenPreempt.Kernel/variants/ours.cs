// SPDX-License-Identifier: GPL-2.0-only
// Models: our proposed fix, on top of mainline v6.19 (arch/x86/xen/enlighten_pv.c,
// arch/x86/xen/enlighten_hvm.c, include/xen/xen-ops.h, drivers/xen/privcmd.c after 4624a14f4daa
// and e5aff444e3a7). It answers both halves of the June 2023 thread:
//   - the "in a preemptible hypercall" state belongs to the task, so it is a thread flag
//     (TIF_XEN_PREEMPTIBLE_HCALL), not a per-CPU bool: it follows the task through any
//     preemption and migration (exceptions, full preemption, PVH), and no other task ever sees it;
//     nothing needs clearing before a switch or restoring after one;
//   - the upcall reschedules with raw_irqentry_exit_cond_resched(), which no preemption mode
//     patches away, so a long hypercall yields within one continuation under none and voluntary,
//     PREEMPT_DYNAMIC or not; raw_irqentry_exit_cond_resched() still refuses with preempt_count()
//     set, so a nested upcall in softirq context does not reschedule;
//   - it is compiled in for every model and for PV and PVH alike: under full/lazy it only does what
//     irqentry_exit() would have done anyway.
using XenPreempt.Annotations;
using static XenPreempt.Kernel.Linux;

namespace XenPreempt.Kernel;

internal static class xen_ours
{
    public static readonly xen_variant_ops ops = new(
        "ours",
        "our fix on v6.19: per-task TIF_XEN_PREEMPTIBLE_HCALL + raw_irqentry_exit_cond_resched, PV and PVH",
        xen_pv_evtchn_do_upcall,
        xen_pvh_evtchn_do_upcall,
        privcmd_ioctl_hypercall,
        (g, cpu) => test_tsk_thread_flag(g.runqueues[cpu].curr, TIF_XEN_PREEMPTIBLE_HCALL) ? "1" : "0")
    {
        cond_resched_checks_irqs = true, // v6.19 has 82c387ef7568
    };

    [PreemptibleHypercallBegin]
    private static void xen_preemptible_hcall_begin() => set_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);

    [PreemptibleHypercallEnd]
    private static void xen_preemptible_hcall_end() => clear_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);

    [ProcessContext]
    private static long privcmd_ioctl_hypercall(privcmd_hypercall udata)
    {
        var hypercall = copy_from_user(udata);
        if (hypercall is null)
            return -EFAULT;
        xen_preemptible_hcall_begin();
        long ret = privcmd_call(hypercall.op, hypercall.arg0, hypercall.arg1, hypercall.arg2, hypercall.arg3, hypercall.arg4);
        xen_preemptible_hcall_end();
        return ret;
    }

    /// <summary>Whether the interrupted task asked to be preemptible inside its hypercall.</summary>
    private static bool xen_in_preemptible_hcall(irqentry_state_t state) =>
        !state.exit_rcu && test_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);

    [IrqContext]
    [HypercallPreemptionPoint]
    private static void xen_pv_evtchn_do_upcall(pt_regs regs)
    {
        var state = irqentry_enter(regs);
        __xen_pv_evtchn_do_upcall(regs);
        if (xen_in_preemptible_hcall(state))
            raw_irqentry_exit_cond_resched();
        else
            irqentry_exit(regs, state);
    }

    /// <summary>The PVH callback vector gets the same treatment: a PVH dom0 runs the same toolstack.</summary>
    [IrqContext]
    [HypercallPreemptionPoint]
    private static void xen_pvh_evtchn_do_upcall(pt_regs regs) => xen_pv_evtchn_do_upcall(regs);
}
