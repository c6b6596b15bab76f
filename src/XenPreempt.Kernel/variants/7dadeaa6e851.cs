// SPDX-License-Identifier: GPL-2.0-only
// Models: 7dadeaa6e851 "sched: Further restrict the preemption modes" (Peter Zijlstra, v7.0-rc1):
// on x86 PREEMPT_NONE and PREEMPT_VOLUNTARY can no longer be selected, so CONFIG_PREEMPTION is
// always set and the Xen hack always compiles to stubs; a long hypercall is preempted by the
// ordinary irqentry_exit() -> irqentry_exit_cond_resched(), active in full and lazy.
// The Xen code itself (arch/x86/xen/enlighten_pv.c, include/xen/xen-ops.h, drivers/xen/privcmd.c)
// is unchanged from the mainline code modelled in 4624a14f4daa.cs, so this variant runs that code;
// what the commit changed is which configurations exist (the harness offers only full and lazy).
namespace XenPreempt.Kernel;

internal static class xen_7dadeaa6e851
{
    public static readonly xen_variant_ops ops = xen_4624a14f4daa.ops with
    {
        name = "7dadeaa6e851",
        models = "7dadeaa6e851 (v7.0-rc1): only full/lazy models exist; runs the unchanged mainline code of 4624a14f4daa.cs",
    };
}
