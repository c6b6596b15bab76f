// SPDX-License-Identifier: GPL-2.0-only
// Models: 7dadeaa6e851 "sched: Further restrict the preemption modes" (Peter Zijlstra, v7.0-rc1):
// on x86 PREEMPT_NONE and PREEMPT_VOLUNTARY can no longer be selected, so CONFIG_PREEMPTION is
// always set and the Xen hack below always compiles to stubs; a long hypercall is preempted by the
// ordinary irqentry_exit() -> irqentry_exit_cond_resched(), active in full and lazy. The Xen code
// is unchanged from mainline (arch/x86/xen/enlighten_pv.c, include/xen/xen-ops.h,
// drivers/xen/privcmd.c); what changed is that only full and lazy configurations exist.
using XenPreempt.Annotations;
using static XenPreempt.Kernel.Linux;

namespace XenPreempt.Kernel;

internal static class xen_7dadeaa6e851
{
    private static readonly PerCpu<bool> xen_in_preemptible_hcall = DEFINE_PER_CPU("xen_in_preemptible_hcall", false, traced: true);

    public static readonly xen_variant_ops ops = new(
        "7dadeaa6e851",
        "7dadeaa6e851 (v7.0-rc1): only full/lazy models exist; arch/x86/xen/enlighten_pv.c unchanged",
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
        xen_preemptible_hcall_begin();
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
#pragma warning disable XPA0002 // mainline since 4624a14f4daa, unchanged by 7dadeaa6e851: the patchable irqentry_exit_cond_resched() (a no-op under dynamic none/voluntary)
            irqentry_exit_cond_resched();
#pragma warning restore XPA0002
            restore_inhcall(inhcall);
        }
        else
        {
            irqentry_exit(regs, state);
        }
    }
}
