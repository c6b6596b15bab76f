// SPDX-License-Identifier: GPL-2.0-only
// Models: 4624a14f4daa "sched/preempt: Simplify irqentry_exit_cond_resched() callers" (Mark
// Rutland, v5.18): irqentry_exit_cond_resched() becomes the patchable static call (a no-op under
// PREEMPT_DYNAMIC none/voluntary) and raw_irqentry_exit_cond_resched() the real one; the Xen
// upcall now calls the patchable one. The upcall moved to arch/x86/xen/enlighten_pv.c in
// 1ab7b5ed44ba (v6.15, "No functional changes"); this file is that mainline code up to v6.19:
//   arch/x86/xen/enlighten_pv.c, include/xen/xen-ops.h, drivers/xen/privcmd.c
using XenPreempt.Annotations;
using static XenPreempt.Kernel.Linux;

namespace XenPreempt.Kernel;

internal static class xen_4624a14f4daa
{
    private static readonly PerCpu<bool> xen_in_preemptible_hcall = DEFINE_PER_CPU("xen_in_preemptible_hcall", false, traced: true);

    public static readonly xen_variant_ops ops = new(
        "4624a14f4daa",
        "4624a14f4daa (v5.18) .. v6.19 mainline: arch/x86/xen/enlighten_pv.c, include/xen/xen-ops.h, drivers/xen/privcmd.c",
        xen_pv_evtchn_do_upcall,
        null,
        privcmd_ioctl_hypercall,
        (g, cpu) => xen_variants.percpu_flag_state(xen_in_preemptible_hcall, g, cpu))
    {
        // The v6.19 snapshot has 82c387ef7568 (v6.14); this variant's upcall never calls
        // cond_resched(), so the test changes none of its cells.
        cond_resched_checks_irqs = true,
    };

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
#pragma warning disable XPA0002 // 4624a14f4daa (v5.18) .. v6.19: the region is under #if !CONFIG_PREEMPTION, so a PREEMPT_DYNAMIC kernel booted none/voluntary cannot preempt a hypercall (the June 2023 report)
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
#pragma warning disable XPA0002 // 4624a14f4daa (v5.18): the upcall calls the patchable irqentry_exit_cond_resched(), a no-op under PREEMPT_DYNAMIC none/voluntary
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
