// SPDX-License-Identifier: GPL-2.0-only
// Models: fdfd811ddde3 "x86/xen: allow privcmd hypercalls to be preempted" (David Vrabel, v3.19)
// as it stood until v5.5, with 0fa2f5cb2b0e (v4.3: need_resched() for should_resched()):
//   drivers/xen/preempt.c   (xen_in_preemptible_hcall, xen_maybe_preempt_hcall)
//   include/xen/xen-ops.h   (xen_preemptible_hcall_begin/end, guarded by #ifndef CONFIG_PREEMPT)
//   drivers/xen/privcmd.c   (privcmd_ioctl_hypercall)
//   arch/x86/entry/entry_64.S (xen_do_hypervisor_callback: upcall, then xen_maybe_preempt_hcall)
// The guard is CONFIG_PREEMPT, not CONFIG_PREEMPTION (d4a3dcbc4727 changed it in v5.5): on a
// PREEMPT_DYNAMIC kernel, where PREEMPT is unset but PREEMPTION is set, this code is compiled in.
using XenPreempt.Annotations;
using static XenPreempt.Kernel.Linux;

namespace XenPreempt.Kernel;

internal static class xen_fdfd811ddde3
{
    private static readonly PerCpu<bool> xen_in_preemptible_hcall = DEFINE_PER_CPU("xen_in_preemptible_hcall", false, traced: true);

    public static readonly xen_variant_ops ops = new(
        "fdfd811ddde3",
        "fdfd811ddde3 + 0fa2f5cb2b0e (v3.19-v5.5): drivers/xen/preempt.c, include/xen/xen-ops.h, drivers/xen/privcmd.c, entry_64.S",
        xen_do_hypervisor_callback,
        null,
        privcmd_ioctl_hypercall,
        (g, cpu) => xen_variants.percpu_flag_state(xen_in_preemptible_hcall, g, cpu));

#if !CONFIG_PREEMPT
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
#pragma warning disable XPA0004 // fdfd811ddde3: begin/end's __this_cpu_write in preemptible code, DEBUG_PREEMPT's "BUG: using __this_cpu_write() in preemptible code"
#pragma warning disable XPA0001 // fdfd811ddde3 (v3.19): per-CPU xen_in_preemptible_hcall set with preemption on; guarded by CONFIG_PREEMPT, so compiled into PREEMPT_DYNAMIC kernels
        xen_preemptible_hcall_begin();
#pragma warning restore XPA0001
        long ret = privcmd_call(hypercall.op, hypercall.arg0, hypercall.arg1, hypercall.arg2, hypercall.arg3, hypercall.arg4);
        xen_preemptible_hcall_end();
#pragma warning restore XPA0004
        return ret;
    }

    /// <summary>The asm event callback: handle events, maybe preempt the hypercall, error_exit.</summary>
    [IrqContext]
    private static void xen_do_hypervisor_callback(pt_regs regs)
    {
        var state = irqentry_enter(regs);
        __xen_pv_evtchn_do_upcall(regs);
#if !CONFIG_PREEMPT
        xen_maybe_preempt_hcall();
#endif
        irqentry_exit(regs, state);
    }

#if !CONFIG_PREEMPT  // the kernel compiles the whole function only into kernels without CONFIG_PREEMPT
    /// <summary>
    /// Runs with IRQs disabled, from the exception entry. _cond_resched() evades the might_sleep()
    /// check that would have caught that (fixed in 2020 by enabling IRQs around cond_resched()).
    /// </summary>
    [IrqContext]
    [HypercallPreemptionPoint]
    private static void xen_maybe_preempt_hcall()
    {
        if (__this_cpu_read(xen_in_preemptible_hcall) && need_resched())
        {
            // This function is called if the hypercall was preempted: we may reschedule here.
            __this_cpu_write(xen_in_preemptible_hcall, false);
#pragma warning disable XPA0002, XPA0006 // fdfd811ddde3 (v3.19): _cond_resched() reschedules with IRQs disabled (it evades might_sleep(); fixed in 2020); PREEMPT_DYNAMIC (v5.12) made it a static call, a no-op under full/lazy
            _cond_resched();
#pragma warning restore XPA0002, XPA0006
            __this_cpu_write(xen_in_preemptible_hcall, true);
        }
    }
#endif
}
