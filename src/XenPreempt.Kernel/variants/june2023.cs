// SPDX-License-Identifier: GPL-2.0-only
// Models: "[PATCH] Updates to Xen hypercall preemption" (Per Bilse, 21 June 2023,
// <20230621151442.2152425-1-per.bilse@citrix.com>; not merged), its four changes on v6.4:
//   1. CONFIG_XEN_PV -> CONFIG_XEN_DOM0 (PVH dom0s too);
//   2. !CONFIG_PREEMPTION -> !CONFIG_PREEMPT (compiled in on PREEMPT_DYNAMIC none/voluntary kernels);
//   3. __this_cpu_*() -> raw_cpu_*() (silences DEBUG_PREEMPT's "BUG: using __this_cpu_write() in
//      preemptible code" — and, as Peter Zijlstra answered, hides the migration race it reports);
//   4. irqentry_exit_cond_resched() -> raw_irqentry_exit_cond_resched() (never patched to a no-op).
// Files: arch/x86/entry/common.c, include/xen/xen-ops.h, drivers/xen/privcmd.c.
using XenPreempt.Annotations;
using static XenPreempt.Kernel.Linux;

namespace XenPreempt.Kernel;

internal static class xen_june2023
{
    private static readonly PerCpu<bool> xen_in_preemptible_hcall = DEFINE_PER_CPU("xen_in_preemptible_hcall", false, traced: true);

    public static readonly xen_variant_ops ops = new(
        "june2023",
        "Per Bilse's June 2023 proposal (4 changes, not merged): arch/x86/entry/common.c, include/xen/xen-ops.h",
        xen_pv_evtchn_do_upcall,
        null,
        privcmd_ioctl_hypercall,
        (g, cpu) => xen_variants.percpu_flag_state(xen_in_preemptible_hcall, g, cpu));

#if CONFIG_XEN_DOM0 && !CONFIG_PREEMPT
    private static void xen_preemptible_hcall_set(bool state) => raw_cpu_write(xen_in_preemptible_hcall, state);

    private static bool xen_preemptible_hcall_get() => raw_cpu_read(xen_in_preemptible_hcall);

    [PreemptibleHypercallBegin]
    private static void xen_preemptible_hcall_begin() => xen_preemptible_hcall_set(true);

    [PreemptibleHypercallEnd]
    private static void xen_preemptible_hcall_end() => xen_preemptible_hcall_set(false);

    private static bool get_and_unset_hcall()
    {
        bool state = xen_preemptible_hcall_get();
        xen_preemptible_hcall_set(false);
        return state;
    }
#else
    private static void xen_preemptible_hcall_set(bool state) { }
    private static void xen_preemptible_hcall_begin() { }
    private static void xen_preemptible_hcall_end() { }
    private static bool get_and_unset_hcall() => false;
#endif

    [ProcessContext]
    private static long privcmd_ioctl_hypercall(privcmd_hypercall udata)
    {
        var hypercall = copy_from_user(udata);
        if (hypercall is null)
            return -EFAULT;
#pragma warning disable XPA0001 // Per Bilse's June 2023 patch compiles the per-CPU flag into PREEMPT_DYNAMIC kernels (raw_cpu_write hides the migration race PeterZ pointed out)
        xen_preemptible_hcall_begin();
#pragma warning restore XPA0001
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
        bool inhcall = get_and_unset_hcall();
        if (inhcall && !state.exit_rcu)
        {
            raw_irqentry_exit_cond_resched();
            xen_preemptible_hcall_set(true);
        }
        else
        {
            irqentry_exit(regs, state);
        }
    }
}
