// SPDX-License-Identifier: GPL-2.0-only
// Models: include/linux/delay.h (mdelay: udelay(1000) once per millisecond, "a delay ... with busy
// waiting"; udelay; neither sleeps nor calls might_sleep(), so neither is a scheduling point, though
// under CONFIG_PREEMPTION an interrupt may still preempt the waiting task) — Linux commit 0eaed89c18ae.
// Here the wait is simulated time on the vCPU, one step per millisecond (udelay: one step), each a
// place where the machine may switch vCPUs or deliver an event: the CPU-bound work of a driver.
using XenPreempt.Machine;

namespace XenPreempt.Kernel;

public static partial class Linux
{
    /// <summary>udelay(): busy-waits <paramref name="usecs"/> microseconds (one step).</summary>
    public static void udelay(long usecs) => delay_step("udelay", usecs * 1_000);

    /// <summary>mdelay(): busy-waits <paramref name="msecs"/> milliseconds, one step per millisecond.</summary>
    public static void mdelay(long msecs)
    {
        for (long ms = 0; ms < msecs; ms++)
            delay_step("mdelay", 1_000_000);
    }

    private static void delay_step(string site, long ns)
    {
        var curr = LinuxGuest.t_current;
        bool task_context = curr is not null && !curr.is_idle && !in_interrupt();
        LinuxGuest.This.machine.Step(site, task_context ? StepFlags.Traceable : StepFlags.None, ns);
    }
}
