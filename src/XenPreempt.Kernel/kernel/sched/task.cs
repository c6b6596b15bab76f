// SPDX-License-Identifier: GPL-2.0-only
// Models: include/linux/sched.h (task_struct, thread flags, need_resched),
// include/linux/thread_info.h (set/clear/test_thread_flag), kernel/sched/sched.h (struct rq) —
// Linux v7.0-rc1 (7dadeaa6e851; TIF_NEED_RESCHED_LAZY from 7c70cb94d29c).
using System.Collections.Generic;
using XenPreempt.Annotations;
using XenPreempt.Machine;

namespace XenPreempt.Kernel;

public enum task_state { TASK_RUNNING, TASK_DEAD }

/// <summary>The parts of a task the path needs.</summary>
public sealed class task_struct
{
    internal task_struct(string comm, int pid) { this.comm = comm; this.pid = pid; }

    public readonly string comm;
    public readonly int pid;
    internal SimThread thread = null!;
    /// <summary>task_cpu(): the run queue the task belongs to.</summary>
    public int cpu;
    /// <summary>thread_info->preempt_count (per task, as on arm64).</summary>
    public int preempt_count;
    /// <summary>thread_info->flags: TIF_* bits.</summary>
    public ulong flags;
    public int migration_disabled;
    public int nr_cpus_allowed = int.MaxValue;
    public task_state state = task_state.TASK_RUNNING;
    public bool is_idle;
    internal long exec_start;
    internal task_spec? spec;

    /// <summary>Ground truth for checkers: inside privcmd's hypercall ioctl (not the kernel's own notion).</summary>
    public bool in_privcmd_hypercall;

    public override string ToString() => $"{comm}/{pid}";
}

/// <summary>A CPU's run queue: the running task, the queued runnable ones, the idle task.</summary>
public sealed class rq
{
    internal rq(int cpu, task_struct idle) { this.cpu = cpu; this.idle = idle; curr = idle; }

    public readonly int cpu;
    public readonly task_struct idle;
    public task_struct curr;
    /// <summary>Runnable tasks waiting for this CPU, in FIFO order.</summary>
    public readonly List<task_struct> queue = new();
    internal long watchdog_touch_ts;
    internal long softlockup_reported_ts = -1;
    internal long watchdog_next_wake = Linux.watchdog_period_ns;
}

public static partial class Linux
{
    public const int TIF_NEED_RESCHED = 3;
    public const int TIF_NEED_RESCHED_LAZY = 4;
    /// <summary>Our fix: "this task is inside a preemptible hypercall" travels with the task.</summary>
    [PerTask]
    public const int TIF_XEN_PREEMPTIBLE_HCALL = 16;

    /// <summary>The running task.</summary>
    public static task_struct current => LinuxGuest.t_current!;

    public static void set_thread_flag(int flag) => set_tsk_thread_flag(current, flag);
    public static void clear_thread_flag(int flag) => clear_tsk_thread_flag(current, flag);
    public static bool test_thread_flag(int flag) => test_tsk_thread_flag(current, flag);

    public static void set_tsk_thread_flag(task_struct t, int flag)
    {
        step(flag == TIF_XEN_PREEMPTIBLE_HCALL ? HCALL_STATE_SITE + "1:set_thread_flag:TIF_XEN_PREEMPTIBLE_HCALL" : "set_thread_flag");
        ulong old = t.flags;
        t.flags |= 1UL << flag;
        if (flag == TIF_XEN_PREEMPTIBLE_HCALL && t.flags != old)
            trace_flag(t, nameof(TIF_XEN_PREEMPTIBLE_HCALL), true);
    }

    public static void clear_tsk_thread_flag(task_struct t, int flag)
    {
        step(flag == TIF_XEN_PREEMPTIBLE_HCALL ? HCALL_STATE_SITE + "0:clear_thread_flag:TIF_XEN_PREEMPTIBLE_HCALL" : "clear_thread_flag");
        ulong old = t.flags;
        t.flags &= ~(1UL << flag);
        if (flag == TIF_XEN_PREEMPTIBLE_HCALL && t.flags != old)
            trace_flag(t, nameof(TIF_XEN_PREEMPTIBLE_HCALL), false);
    }

    /// <summary>
    /// A traced per-task flag changed: the line, and the typed <see cref="TaskFlagWrite"/> checkers follow.
    /// Only changes are traced, as for a traced per-CPU variable: clearing a clear flag writes nothing.
    /// </summary>
    private static void trace_flag(task_struct t, string flag, bool value) =>
        LinuxGuest.This.machine.Trace.Record("tif", $"{t} {flag} = {(value ? 1 : 0)}", new TaskFlagWrite(t.ToString(), flag, value));

    public static bool test_tsk_thread_flag(task_struct t, int flag) => (t.flags & (1UL << flag)) != 0;

    /// <summary>need_resched(): only TIF_NEED_RESCHED; the lazy bit waits for the tick or user return.</summary>
    public static bool need_resched() => test_tsk_thread_flag(current, TIF_NEED_RESCHED);

    internal static rq cpu_rq(int cpu) => LinuxGuest.This.runqueues[cpu];
    internal static rq this_rq() => cpu_rq(raw_smp_processor_id());
}
