// SPDX-License-Identifier: GPL-2.0-only
// Models: drivers/xen/privcmd.c (privcmd_ioctl, struct privcmd_hypercall) and
// arch/x86/include/asm/xen/hypercall.h (privcmd_call, __xen_stac/__xen_clac) — Linux v6.18
// (0291023e snapshot). The bracketed ioctl body itself differs across history and lives in each
// variant file.
using XenPreempt.Machine;
using XenPreempt.Annotations;

namespace XenPreempt.Kernel;

/// <summary>struct privcmd_hypercall: the toolstack's hypercall number and five arguments.</summary>
public sealed record privcmd_hypercall(int op, long arg0, long arg1 = 0, long arg2 = 0, long arg3 = 0, long arg4 = 0);

public static partial class Linux
{
    public const int __HYPERVISOR_domctl = 36;
    public const int IOCTL_PRIVCMD_HYPERCALL = 0x305000;
    public const long EAGAIN = 11;
    public const long EFAULT = 14;

    /// <summary>The toolstack's ioctl on /dev/xen/privcmd: dispatches to this kernel's hypercall ioctl.</summary>
    public static long privcmd_ioctl(int cmd, privcmd_hypercall udata)
    {
        if (cmd != IOCTL_PRIVCMD_HYPERCALL)
            return -25; // -ENOTTY
        var curr = current;
        curr.in_privcmd_hypercall = true;
        LinuxGuest.This.machine.Trace.Record("privcmd", $"{curr} IOCTL_PRIVCMD_HYPERCALL op={udata.op}", new PrivcmdHypercall(curr.ToString(), Done: false));
        long ret = xen_variants.current_ops().privcmd_ioctl_hypercall(udata);
        LinuxGuest.This.machine.Trace.Record("privcmd", $"{curr} ioctl done ret={ret}", new PrivcmdHypercall(curr.ToString(), Done: true));
        curr.in_privcmd_hypercall = false;
        return ret;
    }

    /// <summary>copy_from_user(): may fault, and so may sleep: a voluntary preemption point.</summary>
    public static privcmd_hypercall? copy_from_user(privcmd_hypercall? from)
    {
        might_sleep();
        step("copy_from_user");
        return from;
    }

    /// <summary>Opens the user-access window: Xen reads the user's buffers during the hypercall.</summary>
    public static void __xen_stac() => step("__xen_stac");

    public static void __xen_clac() => step("__xen_clac");

    /// <summary>
    /// privcmd_call(): the hypercall itself. arg0 of a domctl-like call is, in this model, how long
    /// Xen works on it (in chunks between preemption checks). Xen's result, an error included, goes
    /// back to the ioctl's caller unchanged.
    /// </summary>
    [Hypercall]
    public static long privcmd_call(int call, long a1, long a2, long a3, long a4, long a5)
    {
        __xen_stac();
        long res = xen_single_call(call, a1);
        __xen_clac();
        return res;
    }

    [Hypercall]
    public static long xen_single_call(int call, long work) =>
        LinuxGuest.This.machine.Hypercall(call == __HYPERVISOR_domctl ? "domctl" : $"hypercall_{call}", work);
}
