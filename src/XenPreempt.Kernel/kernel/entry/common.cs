// SPDX-License-Identifier: GPL-2.0-only
// Models: kernel/entry/common.c and include/linux/irq-entry-common.h (irqentry_enter,
// irqentry_exit, raw_irqentry_exit_cond_resched; the patchable irqentry_exit_cond_resched is in
// kernel/sched/dynamic.cs) and arch/x86/kernel/traps.c (exc_int3) — Linux v6.18 (0291023e
// snapshot), after 4624a14f4daa.
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

    /// <summary>A kprobe/ftrace breakpoint: the handler runs with IRQs off and leaves through irqentry_exit.</summary>
    internal static void exc_int3(pt_regs regs, string site)
    {
        var state = irqentry_enter(regs);
        raw_local_irq_set(true);
        trace("int3", $"breakpoint at {site}");
        irqentry_exit(regs, state);
        raw_local_irq_set(regs.irqs_disabled);
    }
}
