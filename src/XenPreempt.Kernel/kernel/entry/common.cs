// SPDX-License-Identifier: GPL-2.0-only
// Models: kernel/entry/common.c and include/linux/irq-entry-common.h (irqentry_enter,
// irqentry_exit, raw_irqentry_exit_cond_resched, irqentry_nmi_enter/exit; the patchable
// irqentry_exit_cond_resched is in kernel/sched/dynamic.cs) and arch/x86/kernel/traps.c (exc_int3,
// exc_debug_kernel) — Linux v6.18 (0291023e snapshot), after 4624a14f4daa.
// Entry from an interrupt preempts only in irqentry_exit() with CONFIG_PREEMPTION; an int3 or #DB
// taken in kernel mode is NMI-like and never reschedules, in every era the variants cover: since the
// 2020 entry rework (v5.8/v5.9) exc_int3()/exc_debug_kernel() use irqentry_nmi_enter()/_exit(); before
// it do_int3() ran under ist_enter() ("This means that we can't schedule. That's okay.") and left
// through the paranoid exit, which never preempted.
using XenPreempt.Annotations;

namespace XenPreempt.Kernel;

/// <summary>The interrupted context.</summary>
public readonly record struct pt_regs(bool in_hypercall, bool irqs_disabled);

/// <summary>What irqentry_enter() tells irqentry_exit().</summary>
public readonly record struct irqentry_state_t(bool exit_rcu);

public static partial class Linux
{
    /// <summary>Entry from an interrupt or exception: RCU is told if we interrupted the idle loop.</summary>
    [IrqContext]
    public static irqentry_state_t irqentry_enter(pt_regs regs)
    {
        // Interrupting idle means RCU was not watching: the exit must tell it and never reschedule here.
        return new irqentry_state_t(exit_rcu: current.is_idle);
    }

    /// <summary>
    /// Exit to kernel mode: with CONFIG_PREEMPTION, preempt the interrupted task if it wants to be
    /// and may be. This is the only place an interrupt preempts a task.
    /// </summary>
    [IrqContext]
    public static void irqentry_exit(pt_regs regs, irqentry_state_t state)
    {
        if (regs.irqs_disabled || state.exit_rcu)
            return;
#if CONFIG_PREEMPTION
        irqentry_exit_cond_resched();
#endif
    }

    /// <summary>The never-patched reschedule at interrupt exit.</summary>
    [IrqContext]
    public static void raw_irqentry_exit_cond_resched()
    {
        if (preempt_count() == 0)
        {
            if (need_resched())
                preempt_schedule_irq();
        }
    }

    public const int NMI_OFFSET = 0x100000;

    /// <summary>irqentry_nmi_enter(): NMI-like entry; the count says "in NMI and hard IRQ" until the exit.</summary>
    [IrqContext]
    public static irqentry_state_t irqentry_nmi_enter(pt_regs regs)
    {
        current.preempt_count += NMI_OFFSET + HARDIRQ_OFFSET;
        return new irqentry_state_t(exit_rcu: false);
    }

    /// <summary>irqentry_nmi_exit(): restores the count and returns to the interrupted code, never rescheduling.</summary>
    [IrqContext]
    public static void irqentry_nmi_exit(pt_regs regs, irqentry_state_t state) =>
        current.preempt_count -= NMI_OFFSET + HARDIRQ_OFFSET;

    /// <summary>
    /// exc_int3() taken in kernel mode (a kprobe or a text-patching breakpoint): the handler runs with
    /// IRQs off between irqentry_nmi_enter() and irqentry_nmi_exit(), and the task continues where it
    /// was. No reschedule can happen here, whatever the preemption model (arch/x86/kernel/traps.c).
    /// </summary>
    internal static void exc_int3(pt_regs regs, string site)
    {
        var state = irqentry_nmi_enter(regs);
        raw_local_irq_set(true);
        trace("int3", $"breakpoint at {site}");
        irqentry_nmi_exit(regs, state);
        raw_local_irq_set(regs.irqs_disabled);
    }
}
