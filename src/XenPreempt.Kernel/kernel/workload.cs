// SPDX-License-Identifier: GPL-2.0-only
// Models: what user space and kernel threads ask of the path: the toolstack (xl) issuing a long
// IOCTL_PRIVCMD_HYPERCALL (retried on EAGAIN, as tools/libs/ctrl's xc_domain_destroy() does),
// a pinned per-CPU kworker or an ordinary CPU-bound task competing for the same CPU, and a
// kernel thread stuck in a loop that never offers to yield. Not kernel code: the load the kernel
// code runs under.
using System;

namespace XenPreempt.Kernel;

internal static class workload
{
    public static Action<task_spec> resolve(string kind) => kind switch
    {
        "hcall" => xl_hypercall,
        "hog" => cpu_hog,
        "kworker" => pinned_kworker,
        "netwq" => pinned_kworker,
        "spin" => spinner,
        _ => throw new ArgumentException($"unknown task kind '{kind}' (hcall, hog, kworker, netwq, spin)"),
    };

    /// <summary>
    /// xl: one long toolstack hypercall of <c>arg</c> chunks. Xen may answer -EAGAIN ("not done,
    /// ask again"): libxc then issues the same domctl again; any other error is returned to xl.
    /// </summary>
    private static void xl_hypercall(task_spec spec)
    {
        long ret;
        do
            ret = Linux.privcmd_ioctl(Linux.IOCTL_PRIVCMD_HYPERCALL, new privcmd_hypercall(Linux.__HYPERVISOR_domctl, spec.arg));
        while (ret == -Linux.EAGAIN);
    }

    /// <summary>
    /// A kernel thread spinning with preemption enabled that never calls cond_resched(): only an
    /// involuntary preemption (CONFIG_PREEMPTION) takes the CPU from it; under none/voluntary the
    /// soft-lockup watchdog reports it. Spins <c>arg</c> milliseconds; 0 spins forever.
    /// </summary>
    private static void spinner(task_spec spec)
    {
        for (long ms = 0; spec.arg == 0 || ms < spec.arg; ms++)
            LinuxGuest.This.machine.Step("spin", Machine.StepFlags.Traceable, 1_000_000);
    }

    /// <summary>A task doing <c>arg</c> milliseconds of kernel work, offering to yield after each.</summary>
    private static void cpu_hog(task_spec spec)
    {
        for (long ms = 0; ms < spec.arg; ms++)
        {
            LinuxGuest.This.machine.Step("work", Machine.StepFlags.Traceable, 1_000_000);
            Linux.cond_resched();
        }
    }

    /// <summary>A per-CPU kthread (created pinned to its CPU, so load balancing cannot rescue it).</summary>
    private static void pinned_kworker(task_spec spec) => cpu_hog(spec);

    /// <summary>Per-CPU kthreads are bound to their CPU from creation.</summary>
    public static bool is_percpu_kthread(string kind) => kind is "kworker" or "netwq";
}
