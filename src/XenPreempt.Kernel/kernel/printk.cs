// SPDX-License-Identifier: GPL-2.0-only
// Models: kernel/printk/printk.c (printk), include/asm-generic/bug.h (WARN, BUG) — Linux v6.18.
// Also the glue every primitive uses to meet the machine: a step is a point where the simulated
// hardware may switch vCPUs or deliver an interrupt, as between two instructions.
using System.Diagnostics;
using XenPreempt.Machine;

namespace XenPreempt.Kernel;

public static partial class Linux
{
    public static void printk(string line) => LinuxGuest.This.machine.Print(line);

    public static void WARN(string where, string what) => printk($"WARNING: {what} at {where}");

    public static void BUG(string where, string what)
    {
        printk($"kernel BUG at {where}: {what}");
        throw new GuestPanicException($"kernel BUG at {where}: {what}");
    }

    /// <summary>
    /// An instruction boundary: the machine may let another vCPU run, or interrupt us here. Task
    /// context is where a tracer's breakpoint (and an external event worth exploring) lands; interrupt
    /// context and the idle loop are not offered, which keeps the explored space to what matters.
    /// </summary>
    internal static void step(string site)
    {
        var curr = LinuxGuest.t_current;
        bool task_context = curr is not null && !curr.is_idle && !in_interrupt();
        LinuxGuest.This.machine.Step(site, task_context ? StepFlags.Traceable : StepFlags.None);
    }

    internal static void trace(string kind, string detail) => LinuxGuest.This.machine.Trace.Record(kind, detail);

    /// <summary>The port function that called into the primitive that complains (%pS of the return address).</summary>
    internal static string caller_site()
    {
        var frames = new StackTrace(2, false).GetFrames();
        foreach (var f in frames)
        {
            var m = f.GetMethod();
            if (m is null || m.DeclaringType == typeof(Linux))
                continue;
            return m.Name;
        }
        return "?";
    }
}
