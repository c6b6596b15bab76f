// SPDX-License-Identifier: GPL-2.0-only
// Models: the boot-time choice of which history of the Xen PV hypercall/upcall path this guest
// runs (the table below lists each variant and the kernel commit it models; each has its own file).
using System;
using System.Collections.Generic;
using System.Linq;

namespace XenPreempt.Kernel;

/// <summary>One variant's entry points: what CALLBACKTYPE_event and privcmd's ioctl reach.</summary>
/// <param name="name">The name the harness uses (a commit id, or a label).</param>
/// <param name="models">The kernel files and commit it models.</param>
/// <param name="pv_event_callback">The PV event callback (xen_pv_evtchn_do_upcall or its ancestor).</param>
/// <param name="pvh_event_callback">The PVH/HVM callback; null = the generic one, with no hand-off.</param>
/// <param name="privcmd_ioctl_hypercall">The bracketed hypercall ioctl.</param>
/// <param name="hcall_state_of">The preemptible-hypercall state for a CPU: "1", "0", or "-" if compiled out.</param>
public sealed record xen_variant_ops(
    string name,
    string models,
    Action<pt_regs> pv_event_callback,
    Action<pt_regs>? pvh_event_callback,
    Func<privcmd_hypercall, long> privcmd_ioctl_hypercall,
    Func<LinuxGuest, int, string> hcall_state_of)
{
    /// <summary>
    /// The variant's kernel has 82c387ef7568 (v6.14, Feb 2025, and the stable series it went to):
    /// __cond_resched() refuses to schedule with IRQs disabled. Only code of that era or later has it.
    /// </summary>
    public bool cond_resched_checks_irqs { get; init; }
}

public sealed partial class LinuxGuest
{
    internal xen_variant_ops? xen_ops;

    /// <summary>__cond_resched() has 82c387ef7568's !irqs_disabled() test: the variant's era, or sched.cond_resched_irqs= at boot.</summary>
    internal bool cond_resched_checks_irqs;

    /// <summary>
    /// For each variant, the type whose code privcmd's ioctl runs: a variant may run another one's
    /// unchanged code (7dadeaa6e851 runs 4624a14f4daa's). Tools that relate findings in the source to
    /// a variant's behaviour (the harness's agreement check) attribute them by it.
    /// </summary>
    public static IReadOnlyList<(string Name, string CodeType)> variant_code() => xen_variants.code_types();

    /// <summary>The event callback Xen was given: PV, or the PVH callback vector.</summary>
    internal void deliver_event(pt_regs regs)
    {
        var ops = xen_variants.current_ops();
        if (boot.xen_pvh)
            (ops.pvh_event_callback ?? Linux.sysvec_xen_hvm_callback)(regs);
        else
            ops.pv_event_callback(regs);
    }
}

internal static class xen_variants
{
    private static readonly xen_variant_ops[] all =
    {
        xen_fdfd811ddde3.ops,
        xen_2020_irq_enable.ops,
        xen_2020_fixes.ops,
        xen_66a07b44e765.ops,
        xen_4624a14f4daa.ops,
        xen_june2023.ops,
        xen_7dadeaa6e851.ops,
        xen_ours.ops,
    };

    public static IReadOnlyList<(string Name, string Models)> describe() => all.Select(v => (v.name, v.models)).ToArray();

    public static IReadOnlyList<(string Name, string CodeType)> code_types() =>
        all.Select(v => (v.name, v.privcmd_ioctl_hypercall.Method.DeclaringType!.FullName!)).ToArray();

    public static void select(string name)
    {
        var ops = all.FirstOrDefault(v => v.name == name)
            ?? throw new ArgumentException($"unknown variant '{name}' (known: {string.Join(", ", all.Select(v => v.name))})");
        var g = LinuxGuest.This;
        g.xen_ops = ops;
        g.cond_resched_checks_irqs = g.boot.cond_resched_irqs ?? ops.cond_resched_checks_irqs;
    }

    public static xen_variant_ops current_ops() => LinuxGuest.This.xen_ops!;

    /// <summary>The hcall state kept in a per-CPU bool, as every historical variant does.</summary>
    public static string percpu_flag_state(PerCpu<bool> flag, LinuxGuest g, int cpu) => flag.area(g)[cpu] ? "1" : "0";
}
