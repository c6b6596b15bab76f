// SPDX-License-Identifier: GPL-2.0-only
// Models: "xen: Enable interrupts when calling _cond_resched()" (Thomas Gleixner, Feb 2020, v5.6;
// Fixes: fdfd811ddde3) on top of d4a3dcbc4727 "sched/rt, xen: Use CONFIG_PREEMPTION" (v5.5):
//   drivers/xen/preempt.c, include/xen/xen-ops.h, drivers/xen/privcmd.c
// cond_resched() (with its might_sleep check) replaces _cond_resched(), with IRQs enabled around
// it. Without the preempt_count() guard that came in August 2020, a nested upcall in softirq
// context now trips that check: "BUG: sleeping function called from invalid context".
using XenPreempt.Annotations;
using static XenPreempt.Kernel.Linux;

namespace XenPreempt.Kernel;

internal static class xen_2020_irq_enable
{
    private static readonly PerCpu<bool> xen_in_preemptible_hcall = DEFINE_PER_CPU("xen_in_preemptible_hcall", false, traced: true);

    public static readonly xen_variant_ops ops = new(
        "2020-irq-enable",
        "tglx Feb 2020 (v5.6) + d4a3dcbc4727: drivers/xen/preempt.c cond_resched() with IRQs enabled",
        xen_do_hypervisor_callback,
        null,
        privcmd_ioctl_hypercall,
        (g, cpu) => xen_variants.percpu_flag_state(xen_in_preemptible_hcall, g, cpu));

#if !CONFIG_PREEMPTION
    [PreemptibleHypercallBegin]
    private static void xen_preemptible_hcall_begin() => __this_cpu_write(xen_in_preemptible_hcall, true);

    [PreemptibleHypercallEnd]
    private static void xen_preemptible_hcall_end() => __this_cpu_write(xen_in_preemptible_hcall, false);
#else
    private static void xen_preemptible_hcall_begin() { }
    private static void xen_preemptible_hcall_end() { }
#endif

    [ProcessContext]
    private static long privcmd_ioctl_hypercall(privcmd_hypercall udata)
    {
        var hypercall = copy_from_user(udata);
        if (hypercall is null)
            return -EFAULT;
#pragma warning disable XPA0002 // 2020 (v5.6): the region is under #if !CONFIG_PREEMPTION, so a PREEMPT_DYNAMIC kernel has none and its hypercalls rely on the patchable irq-exit reschedule
        xen_preemptible_hcall_begin();
#pragma warning restore XPA0002
        long ret = privcmd_call(hypercall.op, hypercall.arg0, hypercall.arg1, hypercall.arg2, hypercall.arg3, hypercall.arg4);
        xen_preemptible_hcall_end();
        return ret;
    }

    [IrqContext]
    private static void xen_do_hypervisor_callback(pt_regs regs)
    {
        var state = irqentry_enter(regs);
        __xen_pv_evtchn_do_upcall(regs);
#if !CONFIG_PREEMPTION
        xen_maybe_preempt_hcall();
#endif
        irqentry_exit(regs, state);
    }

#if !CONFIG_PREEMPTION  // the kernel compiles the whole function only into kernels without CONFIG_PREEMPTION
    [IrqContext]
    [HypercallPreemptionPoint]
    private static void xen_maybe_preempt_hcall()
    {
        if (__this_cpu_read(xen_in_preemptible_hcall) && need_resched())
        {
            __this_cpu_write(xen_in_preemptible_hcall, false);
            local_irq_enable();
            cond_resched();
            local_irq_disable();
            __this_cpu_write(xen_in_preemptible_hcall, true);
        }
    }
#endif
}
