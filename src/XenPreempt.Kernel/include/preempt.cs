// SPDX-License-Identifier: GPL-2.0-only
// Models: include/linux/preempt.h (preempt_count, preempt_disable/enable, migrate_disable/enable),
// include/linux/smp.h (get_cpu/put_cpu), include/linux/irqflags.h (local_irq_*),
// arch/x86/include/asm/xen/... PV irq ops (the IRQ flag of a PV guest is Xen's upcall mask) —
// Linux v7.0-rc1 (7dadeaa6e851 and parents).
using XenPreempt.Machine;

namespace XenPreempt.Kernel;

public static partial class Linux
{
    public const int PREEMPT_OFFSET = 0x1;
    public const int SOFTIRQ_OFFSET = 0x100;
    public const int HARDIRQ_OFFSET = 0x10000;

    /// <summary>The running task's preemption counter (thread_info->preempt_count).</summary>
    public static int preempt_count() => current.preempt_count;

    /// <summary>in_interrupt(): hard IRQ, softirq or NMI context (irq_count()).</summary>
    public static bool in_interrupt() => (current.preempt_count & (SOFTIRQ_OFFSET * 0xff | HARDIRQ_OFFSET * 0xf | NMI_OFFSET * 0xf)) != 0;

    /// <summary>preemptible(): nothing forbids an involuntary switch here.</summary>
    public static bool preemptible() => current.preempt_count == 0 && !irqs_disabled();

    public static void preempt_disable()
    {
        step("preempt_disable");
        current.preempt_count += PREEMPT_OFFSET;
    }

    public static void preempt_disable_notrace() => preempt_disable();

    /// <summary>Re-enables preemption; with CONFIG_PREEMPTION, a pending reschedule happens here.</summary>
    public static void preempt_enable()
    {
        step("preempt_enable");
        current.preempt_count -= PREEMPT_OFFSET;
#if CONFIG_PREEMPTION
        if (current.preempt_count == 0 && need_resched())
            preempt_schedule();
#endif
    }

    public static void preempt_enable_notrace() => preempt_enable();

    /// <summary>Drops the count without the reschedule check (the scheduler's own exit path).</summary>
    public static void preempt_enable_no_resched() => current.preempt_count -= PREEMPT_OFFSET;

    public static void sched_preempt_enable_no_resched() => preempt_enable_no_resched();

    public static int get_cpu()
    {
        preempt_disable();
        return smp_processor_id();
    }

    public static void put_cpu() => preempt_enable();

    public static void migrate_disable()
    {
        step("migrate_disable");
        current.migration_disabled++;
    }

    public static void migrate_enable()
    {
        step("migrate_enable");
        current.migration_disabled--;
    }

    public static bool irqs_disabled() => Machine.Machine.CurrentThread.Cpu!.UpcallMask;

    public static void local_irq_disable()
    {
        step("local_irq_disable");
        Machine.Machine.CurrentThread.Cpu!.UpcallMask = true;
    }

    /// <summary>Unmasks events; a pending upcall is taken at once, as after a real sti.</summary>
    public static void local_irq_enable()
    {
        Machine.Machine.CurrentThread.Cpu!.UpcallMask = false;
        step("local_irq_enable");
    }

    public static ulong local_irq_save()
    {
        bool was = irqs_disabled();
        local_irq_disable();
        return was ? 1UL : 0UL;
    }

    public static void local_irq_restore(ulong flags)
    {
        if (flags == 0)
            local_irq_enable();
        else
            local_irq_disable();
    }

    /// <summary>Sets the mask without a step: for entry code that must not be interrupted in between.</summary>
    internal static void raw_local_irq_set(bool disabled) => Machine.Machine.CurrentThread.Cpu!.UpcallMask = disabled;

    public static void lockdep_assert_irqs_disabled()
    {
        if (!irqs_disabled())
            WARN("lockdep_assert_irqs_disabled", "IRQs enabled");
    }

    public static void lockdep_assert_preemption_disabled()
    {
        if (preemptible())
            WARN("lockdep_assert_preemption_disabled", "preemption enabled");
    }
}
