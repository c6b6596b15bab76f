// SPDX-License-Identifier: GPL-2.0-only
// Models: 66a07b44e765 "x86/entry: Switch XEN/PV hypercall entry to IDTENTRY" (Thomas Gleixner,
// v5.8): drivers/xen/preempt.c is gone; arch/x86/entry/common.c gains xen_pv_evtchn_do_upcall()
// with get_and_clear_inhcall()/restore_inhcall(); include/xen/xen-ops.h guards the flag with
// CONFIG_XEN_PV && !CONFIG_PREEMPTION. In that era the upcall called
// idtentry_exit_cond_resched(regs, true), later irqentry_exit_cond_resched() — an ordinary,
// never-patched function until 4624a14f4daa (Mark Rutland's "latent bug"): here, the raw call.
using XenPreempt.Annotations;
using static XenPreempt.Kernel.Linux;

namespace XenPreempt.Kernel;

internal static class xen_66a07b44e765
{
    private static readonly PerCpu<bool> xen_in_preemptible_hcall = DEFINE_PER_CPU("xen_in_preemptible_hcall", false, traced: true);

    public static readonly xen_variant_ops ops = new(
        "66a07b44e765",
        "66a07b44e765 (v5.8): arch/x86/entry/common.c xen_pv_evtchn_do_upcall, include/xen/xen-ops.h, drivers/xen/privcmd.c",
        xen_pv_evtchn_do_upcall,
        null,
        privcmd_ioctl_hypercall,
        (g, cpu) => xen_variants.percpu_flag_state(xen_in_preemptible_hcall, g, cpu));

#if CONFIG_XEN_PV && !CONFIG_PREEMPTION
    [PreemptibleHypercallBegin]
    private static void xen_preemptible_hcall_begin() => __this_cpu_write(xen_in_preemptible_hcall, true);

    [PreemptibleHypercallEnd]
    private static void xen_preemptible_hcall_end() => __this_cpu_write(xen_in_preemptible_hcall, false);

    /// <summary>
    /// In case of scheduling the flag must be cleared and restored after returning from schedule,
    /// as the task might move to a different CPU.
    /// </summary>
    private static bool get_and_clear_inhcall()
    {
        bool inhcall = __this_cpu_read(xen_in_preemptible_hcall);
        __this_cpu_write(xen_in_preemptible_hcall, false);
        return inhcall;
    }

    private static void restore_inhcall(bool inhcall) => __this_cpu_write(xen_in_preemptible_hcall, inhcall);
#else
    private static void xen_preemptible_hcall_begin() { }
    private static void xen_preemptible_hcall_end() { }
    private static bool get_and_clear_inhcall() => false;
    private static void restore_inhcall(bool inhcall) { }
#endif

    [ProcessContext]
    private static long privcmd_ioctl_hypercall(privcmd_hypercall udata)
    {
        var hypercall = copy_from_user(udata);
        if (hypercall is null)
            return -EFAULT;
#pragma warning disable XPA0002 // 66a07b44e765 (v5.8): the region is under #if !CONFIG_PREEMPTION, so a PREEMPT_DYNAMIC kernel has none and its hypercalls rely on the patchable irq-exit reschedule
        xen_preemptible_hcall_begin();
#pragma warning restore XPA0002
        long ret = privcmd_call(hypercall.op, hypercall.arg0, hypercall.arg1, hypercall.arg2, hypercall.arg3, hypercall.arg4);
        xen_preemptible_hcall_end();
        return ret;
    }

    [IrqContext]
    [HypercallPreemptionPoint]
    private static void xen_pv_evtchn_do_upcall(pt_regs regs)
    {
        var state = irqentry_enter(regs);
        __xen_pv_evtchn_do_upcall(regs);
        bool inhcall = get_and_clear_inhcall();
        if (inhcall && !state.exit_rcu)
        {
            raw_irqentry_exit_cond_resched();
            restore_inhcall(inhcall);
        }
        else
        {
            irqentry_exit(regs, state);
        }
    }
}
