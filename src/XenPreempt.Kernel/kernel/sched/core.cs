// SPDX-License-Identifier: GPL-2.0-only
// Models: kernel/sched/core.c (__schedule, schedule, preempt_schedule_irq, __cond_resched,
// preempt_schedule, try_to_wake_up, resched_curr, sched_tick, schedule_tail, do_exit's final
// schedule), kernel/sched/idle.c (do_idle with NO_HZ idle, kernel/time/tick-sched.c) and
// kernel/sched/fair.c (newidle balance, nohz_balancer_kick) — Linux v7.0-rc1 (7dadeaa6e851 and parents).
// Era differences that decide a cell are switches, set from the variant's era at boot: only
// __cond_resched()'s !irqs_disabled() test (82c387ef7568) is one; the rest of this file does
// the same thing in every era the variants cover (docs/harness.md, "Eras").
// The policy is a plain round robin: the path's bugs do not depend on CFS/EEVDF arithmetic.
using System;
using XenPreempt.Machine;

using XenPreempt.Annotations;

namespace XenPreempt.Kernel;

public enum sched_mode { SM_NONE, SM_PREEMPT, SM_IDLE }

public static partial class Linux
{
    /// <summary>A task is preempted by the tick once it has run this long with others waiting.</summary>
    internal const long sched_slice_ns = 3_000_000;

    internal static void sched_init() { }

    internal static task_struct fork_idle(int cpu)
    {
        var g = LinuxGuest.This;
        var idle = new task_struct($"swapper/{cpu}", 0) { cpu = cpu, is_idle = true, preempt_count = PREEMPT_OFFSET, nr_cpus_allowed = 1 };
        idle.thread = g.machine.CreateThread(idle.comm, () => enter_guest(g, idle, cpu_startup_entry));
        g.tasks.Add(idle);
        return idle;
    }

    /// <summary>Creates a workload task from a boot spec and wakes it on its CPU.</summary>
    internal static void kernel_thread_create(task_spec spec) =>
        kernel_thread_create(spec, workload.resolve(spec.kind), workload.is_percpu_kthread(spec.kind));

    /// <summary>Creates a task running <paramref name="body"/>; a <paramref name="bound"/> one never leaves its CPU.</summary>
    internal static void kernel_thread_create(task_spec spec, Action<task_spec> body, bool bound)
    {
        var g = LinuxGuest.This;
        if (spec.cpu < 0 || spec.cpu >= g.machine.Cpus.Length)
            throw new ArgumentException($"task {spec.comm}: CPU {spec.cpu} does not exist");
        // A new task first runs in ret_from_fork, holding the count __schedule left it.
        var p = new task_struct(spec.comm, 1000 + g.next_pid++) { cpu = spec.cpu, preempt_count = PREEMPT_OFFSET, spec = spec };
        if (bound)
            p.nr_cpus_allowed = 1;
        p.thread = g.machine.CreateThread(p.comm, () => enter_guest(g, p, () => ret_from_fork(p, body)));
        g.tasks.Add(p);
        g.live_workload_tasks++;
        if (spec.kind == "netwq")
            g.sleeping_workers.Add(p); // waits for queue_work() from the network softirq
        else
            enqueue_task(cpu_rq(spec.cpu), p);
    }

    /// <summary>queue_work(): wakes the workers that wait for network work.</summary>
    internal static void queue_work_wake_workers()
    {
        var g = LinuxGuest.This;
        foreach (var p in g.sleeping_workers)
            wake_up_process(p);
        g.sleeping_workers.Clear();
    }

    private static void enter_guest(LinuxGuest g, task_struct p, Action body)
    {
        LinuxGuest.t_this = g;
        LinuxGuest.t_current = p;
        body();
    }

    [NoPreemptAnalysis("a task's birth: it starts with the preempt count the switch into it left (schedule_tail drops it) and never returns (do_exit)")]
    private static void ret_from_fork(task_struct p, Action<task_spec> body)
    {
        schedule_tail();
        trace("sched", $"{p} starts on cpu{raw_smp_processor_id()}");
        body(p.spec!);
        do_exit();
    }

    /// <summary>The first thing a new task does: finish the switch that brought it here.</summary>
    private static void schedule_tail()
    {
        finish_task_switch();
        preempt_enable_no_resched();
    }

    [NoPreemptAnalysis("a task's death (__noreturn): it disables preemption for its final __schedule and is never switched back to")]
    private static void do_exit()
    {
        var g = LinuxGuest.This;
        var p = current;
        p.state = task_state.TASK_DEAD;
        trace("sched", $"{p} exits");
        g.live_workload_tasks--;
        preempt_disable();
        __schedule(sched_mode.SM_NONE);
        throw new InvalidOperationException("do_exit: a dead task was scheduled again");
    }

    /// <summary>The idle task's loop: sleep until there is work, pull work from busier CPUs.</summary>
    private static void cpu_startup_entry()
    {
        local_irq_enable();
        while (true)
        {
            while (!need_resched())
            {
                touch_softlockup_watchdog();
                if (idle_balance())
                    break;
                // NO_HZ idle: no periodic tick while there is nothing to do; a busy CPU's tick kicks
                // us (nohz_balancer_kick) when it has work we could pull.
                LinuxGuest.This.machine.Halt(stopTick: true);
            }
            __schedule(sched_mode.SM_IDLE);
        }
    }

    /// <summary>
    /// New-idle load balancing: an idle CPU pulls a queued task that may migrate. Which one (or none)
    /// is the oracle's choice; the default pulls the first candidate, as an imbalance would.
    /// </summary>
    private static bool idle_balance()
    {
        var g = LinuxGuest.This;
        int self = raw_smp_processor_id();
        var candidates = new System.Collections.Generic.List<(rq From, task_struct Task)>();
        for (int cpu = 0; cpu < g.runqueues.Length; cpu++)
        {
            if (cpu == self) continue;
            foreach (var t in g.runqueues[cpu].queue)
                if (t.migration_disabled == 0 && t.nr_cpus_allowed > 1)
                    candidates.Add((g.runqueues[cpu], t));
        }
        if (candidates.Count == 0)
            return false;
        int pick = g.machine.Choose(ChoiceKind.Migrate, candidates.Count + 1, 0, $"idle_balance cpu{self}");
        if (pick == candidates.Count)
            return false;
        var (from, task) = candidates[pick];
        from.queue.Remove(task);
        trace("migrate", $"{task} cpu{from.cpu} -> cpu{self} (idle balance)");
        enqueue_task(cpu_rq(self), task);
        return true;
    }

    /// <summary>A busy CPU with tasks that could move wakes one idle, tickless CPU to pull them.</summary>
    private static void nohz_balancer_kick(rq busy)
    {
        if (!busy.queue.Exists(t => t.migration_disabled == 0 && t.nr_cpus_allowed > 1))
            return;
        foreach (var other in LinuxGuest.This.runqueues)
            if (other.cpu != busy.cpu && other.curr.is_idle && other.queue.Count == 0)
            {
                resched_curr(other);
                return;
            }
    }

    private static void enqueue_task(rq rq, task_struct p)
    {
        p.cpu = rq.cpu;
        rq.queue.Add(p);
        if (rq.curr.is_idle)
            resched_curr(rq);
    }

    /// <summary>Wakes a task: the oracle places it (default: where it last ran).</summary>
    public static void wake_up_process(task_struct p)
    {
        var g = LinuxGuest.This;
        int target = p.nr_cpus_allowed == 1 ? p.cpu : g.machine.Choose(ChoiceKind.WakeCpu, g.runqueues.Length, p.cpu, $"wake {p}");
        trace("sched", $"wake {p} on cpu{target}");
        var rq = cpu_rq(target);
        enqueue_task(rq, p);
        // Wake-up preemption: a task that slept has the earlier deadline (EEVDF would pick it).
        if (!rq.curr.is_idle)
            resched_curr_lazy(rq);
    }

    /// <summary>Marks the CPU's current task for rescheduling and kicks that CPU if it is another one.</summary>
    public static void resched_curr(rq rq)
    {
        var curr = rq.curr;
        if (test_tsk_thread_flag(curr, TIF_NEED_RESCHED))
            return;
        curr.flags |= 1UL << TIF_NEED_RESCHED;
        trace("resched", $"need_resched {curr} on cpu{rq.cpu}");
        // At boot nobody runs yet: the idle task finds the flag when its CPU starts.
        var self = Machine.Machine.CurrentThreadOrNull?.Cpu;
        if (self is not null && rq.cpu != self.Id)
            smp_send_reschedule(rq.cpu);
    }

    /// <summary>With the lazy model a fair task is only asked to reschedule at the next tick.</summary>
    public static void resched_curr_lazy(rq rq)
    {
        if (preempt_model_lazy() && !rq.curr.is_idle)
        {
            rq.curr.flags |= 1UL << TIF_NEED_RESCHED_LAZY;
            return;
        }
        resched_curr(rq);
    }

    private static void smp_send_reschedule(int cpu) => LinuxGuest.This.machine.Cpus[cpu].Notify(EventPort.Resched);

    /// <summary>The scheduler's part of the timer interrupt.</summary>
    internal static void sched_tick()
    {
        var rq = this_rq();
        var curr = rq.curr;
        if (test_tsk_thread_flag(curr, TIF_NEED_RESCHED_LAZY))
            resched_curr(rq);
        long now = LinuxGuest.This.machine.CurrentCpu.Now;
        if (!curr.is_idle && rq.queue.Count > 0 && now - curr.exec_start >= sched_slice_ns)
            resched_curr_lazy(rq);
        nohz_balancer_kick(rq);
        watchdog_timer_fn(rq, now);
    }

    /// <summary>
    /// The core scheduler. Entered with preemption disabled once; returns, possibly on another
    /// CPU, when this task is picked again. No step happens between choosing the next task and
    /// switching to it: the run-queue lock would forbid it.
    /// </summary>
    internal static void __schedule(sched_mode mode)
    {
        var prev = current;
        schedule_debug(prev, mode);
        step("__schedule");
        raw_local_irq_set(true);
        var rq = this_rq();
        touch_softlockup_watchdog();
        bool dead = prev.state == task_state.TASK_DEAD;
        prev.flags &= ~((1UL << TIF_NEED_RESCHED) | (1UL << TIF_NEED_RESCHED_LAZY));
        if (!dead && !prev.is_idle)
            rq.queue.Add(prev);
        task_struct next = pick_next_task(rq);
        if (ReferenceEquals(next, prev))
        {
            rq.queue.Remove(prev);
            finish_task_switch();
            return;
        }
        rq.curr = next;
        next.cpu = rq.cpu;
        trace("switch", $"{prev} -> {next}{(mode == sched_mode.SM_PREEMPT ? " (preempt)" : "")}");
        touch_softlockup_watchdog();
        next.exec_start = LinuxGuest.This.machine.CurrentCpu.Now;
        if (dead)
            LinuxGuest.This.machine.ExitAndSwitchTo(next.thread);
        LinuxGuest.This.machine.SwitchTo(next.thread);
        finish_task_switch();
    }

    private static task_struct pick_next_task(rq rq)
    {
        if (rq.queue.Count == 0)
            return rq.idle;
        var next = rq.queue[0];
        rq.queue.RemoveAt(0);
        return next;
    }

    /// <summary>The tail of a switch, run by the task that was switched to: drop the lock, IRQs on.</summary>
    private static void finish_task_switch() => raw_local_irq_set(false);

    /// <summary>The checks __schedule makes of the task calling it.</summary>
    private static void schedule_debug(task_struct prev, sched_mode mode)
    {
        int expected = PREEMPT_OFFSET;
        if (prev.preempt_count != expected)
            printk($"BUG: scheduling while atomic: {prev.comm}/{prev.pid}/0x{prev.preempt_count - expected:x8}");
        // Every legitimate path enters with IRQs on (preempt_schedule_irq enables them first). The
        // kernel has no check for it (tglx, 2020: "schedule_debug() unfortunately lacks a check for
        // irqs_disabled()"), so we only record the fact; the harness checks it.
        trace("schedule", $"{prev} mode={mode} irqs={(irqs_disabled() ? "off" : "on")} count=0x{prev.preempt_count:x}");
    }

    /// <summary>Voluntary scheduling: schedule().</summary>
    public static void schedule()
    {
        do
        {
            preempt_disable();
            __schedule(sched_mode.SM_NONE);
            sched_preempt_enable_no_resched();
        } while (need_resched());
    }

    /// <summary>The reschedule at the end of an interrupt: IRQs off on entry and on return.</summary>
    public static void preempt_schedule_irq()
    {
        var curr = current;
        if (curr.preempt_count != 0 || !irqs_disabled())
            BUG("preempt_schedule_irq", "BUG_ON(preempt_count() || !irqs_disabled())");
        trace("preempt", $"{curr} preempted at interrupt exit");
        do
        {
            preempt_disable();
            raw_local_irq_set(false);
            __schedule(sched_mode.SM_PREEMPT);
            raw_local_irq_set(true);
            sched_preempt_enable_no_resched();
        } while (need_resched());
    }

    private static void preempt_schedule_common()
    {
        do
        {
            preempt_disable();
            __schedule(sched_mode.SM_PREEMPT);
            preempt_enable_no_resched();
        } while (need_resched());
    }

    /// <summary>The involuntary switch at preempt_enable(): the never-patched body of preempt_schedule().</summary>
    public static void __preempt_schedule()
    {
        if (!preemptible())
            return;
        preempt_schedule_common();
    }

    public static void __preempt_schedule_notrace() => __preempt_schedule();

    /// <summary>should_resched(0): nothing holds preemption off and a reschedule is wanted.</summary>
    private static bool should_resched(int offset) => current.preempt_count == offset && need_resched();

    /// <summary>
    /// The real work of cond_resched(): never patched. 82c387ef7568 "sched/core: Prevent rescheduling
    /// when interrupts are disabled" (Thomas Gleixner, v6.14-rc5, Feb 2025; backported to the 5.10,
    /// 5.15, 6.1, 6.6 and 6.12 stable series) added the <c>!irqs_disabled()</c> test: before it, a
    /// cond_resched() with IRQs off scheduled "from a completely bogus context"; after it, it does
    /// nothing. Whether this kernel has the test is the era of the variant it runs
    /// (<see cref="LinuxGuest.cond_resched_checks_irqs"/>).
    /// </summary>
    public static int __cond_resched()
    {
        step("__cond_resched");
        if (should_resched(0) && !(LinuxGuest.This.cond_resched_checks_irqs && irqs_disabled()))
        {
            preempt_schedule_common();
            return 1;
        }
        return 0;
    }

    /// <summary>The never-patched target of might_resched().</summary>
    public static int __might_resched() => __cond_resched();

    internal static bool preempt_model_lazy() => LinuxGuest.This.preempt_mode == preempt_dynamic_mode.preempt_dynamic_lazy;
}
