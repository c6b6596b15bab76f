// SPDX-License-Identifier: GPL-2.0-only
// Models: kernel/softirq.c (irq_enter_rcu, irq_exit_rcu, __do_softirq, raise_softirq) and
// kernel/watchdog.c (the soft-lockup detector) — Linux v6.18.
using System;

using XenPreempt.Annotations;

namespace XenPreempt.Kernel;

public static partial class Linux
{
    public const int NET_RX_SOFTIRQ = 3;

    /// <summary>2 * watchdog_thresh: a CPU that has not scheduled for this long is reported.</summary>
    internal const long softlockup_thresh_ns = 20_000_000_000;

    private static readonly PerCpu<int> softirq_pending = DEFINE_PER_CPU("softirq_pending", 0);

    public static void irq_enter_rcu() => current.preempt_count += HARDIRQ_OFFSET;

    /// <summary>Leaves hard-IRQ context; pending softirqs run here, with IRQs enabled.</summary>
    public static void irq_exit_rcu()
    {
        current.preempt_count -= HARDIRQ_OFFSET;
        if (!in_interrupt() && softirq_pending.area(LinuxGuest.This)[raw_smp_processor_id()] != 0)
            __do_softirq();
    }

    public static void raise_softirq(int nr) => softirq_pending.area(LinuxGuest.This)[raw_smp_processor_id()] |= 1 << nr;

    /// <summary>Run from irq_exit_rcu(): entered, and left, with IRQs disabled; they are on only around the handlers.</summary>
    [IrqContext]
    private static void __do_softirq()
    {
        var g = LinuxGuest.This;
        current.preempt_count += SOFTIRQ_OFFSET;
        int pending = softirq_pending.area(g)[raw_smp_processor_id()];
        softirq_pending.area(g)[raw_smp_processor_id()] = 0;
        local_irq_enable();
        if ((pending & (1 << NET_RX_SOFTIRQ)) != 0)
            net_rx_action();
        local_irq_disable();
        current.preempt_count -= SOFTIRQ_OFFSET;
    }

    /// <summary>
    /// A network driver's receive path that talks to Xen: e.g. mlx4 through xen-swiotlb, which issues
    /// a (preemptible) hypercall from softirq context — the nested hypercall of the 2020 report. If
    /// Xen refuses the exchange, the buffer cannot be mapped for DMA and the driver drops the packet
    /// (dma_mapping_error()), as drivers do; the work already queued stays queued.
    /// </summary>
    private static void net_rx_action()
    {
        trace("softirq", "NET_RX: queue work, driver hypercall");
        queue_work_wake_workers();
        long rc = LinuxGuest.This.machine.Hypercall("HYPERVISOR_memory_op", 8);
        if (rc < 0)
            trace("softirq", $"NET_RX: driver hypercall failed ({rc}): packet dropped");
    }

    internal static void touch_softlockup_watchdog()
    {
        var g = LinuxGuest.This;
        var rq = this_rq();
        rq.watchdog_touch_ts = g.machine.CurrentCpu.Now;
        rq.softlockup_reported_ts = -1;
    }

    /// <summary>The watchdog's hrtimer period: it wakes the per-CPU stopper thread this often.</summary>
    internal const long watchdog_period_ns = softlockup_thresh_ns / 5;

    /// <summary>
    /// Runs on every tick. Every period it wakes the per-CPU watchdog (stopper) thread, which
    /// preempts anything preemptible; the thread's run is what touches the watchdog (modelled as any
    /// pass through __schedule on this CPU). A CPU that never gets there for the threshold is
    /// reported, as kernel/watchdog.c does.
    /// </summary>
    internal static void watchdog_timer_fn(rq rq, long now)
    {
        if (now >= rq.watchdog_next_wake && !rq.curr.is_idle)
        {
            rq.watchdog_next_wake = now + watchdog_period_ns;
            resched_curr(rq);
        }
        long stuck = now - rq.watchdog_touch_ts;
        if (stuck < softlockup_thresh_ns || rq.curr.is_idle)
            return;
        if (rq.softlockup_reported_ts >= 0 && now - rq.softlockup_reported_ts < softlockup_thresh_ns)
            return;
        rq.softlockup_reported_ts = now;
        var curr = rq.curr;
        printk($"watchdog: BUG: soft lockup - CPU#{rq.cpu} stuck for {stuck / 1_000_000_000}s! [{curr.comm}:{curr.pid}]");
    }
}
