// SPDX-License-Identifier: GPL-2.0-only
// Models: include/linux/percpu-defs.h (DEFINE_PER_CPU, this_cpu_*, __this_cpu_*, raw_cpu_*,
// per_cpu) and lib/smp_processor_id.c (check_preemption_disabled, the CONFIG_DEBUG_PREEMPT
// check) — Linux v6.18 (9b44fff6 snapshot of percpu-defs.h; 942e6f8a of smp_processor_id.c).
using System;
using XenPreempt.Machine;

namespace XenPreempt.Kernel;

/// <summary>
/// A per-CPU variable: like the kernel's, it is an offset into every CPU's per-CPU area, not
/// storage. The values live in the booted guest, one slot per CPU.
/// </summary>
public sealed class PerCpu<T>
{
    internal PerCpu(string name, T init, bool traced)
    {
        this.name = name;
        this.init = init;
        this.traced = traced;
    }

    public readonly string name;
    internal readonly T init;
    /// <summary>
    /// This variable is the preemptible-hypercall state: its writes are recorded in the machine's
    /// trace (the state the checkers watch), and the step before each write is named by what it
    /// writes (<see cref="Linux.HCALL_STATE_SITE"/>), whatever accessor spelling wrote it.
    /// </summary>
    internal readonly bool traced;

    /// <summary>The variable's storage in one guest, without tracing (the accessors below trace).</summary>
    internal T[] slots(LinuxGuest g)
    {
        if (!g.percpu_areas.TryGetValue(this, out var a))
        {
            var slots = new T[g.machine.Cpus.Length];
            Array.Fill(slots, init);
            g.percpu_areas[this] = a = slots;
        }
        return (T[])a;
    }

    private PerCpuArea<T>? last_area;

    /// <summary>
    /// The per-CPU area as code that indexes it by CPU sees it (<c>per_cpu(var, cpu) = v</c>): a write
    /// through it is traced like an accessor's, so no write of a traced variable escapes the event log.
    /// </summary>
    internal PerCpuArea<T> area(LinuxGuest g)
    {
        var a = last_area; // one reference read: a guest on another thread never sees a torn pair
        if (a is null || !ReferenceEquals(a.guest, g))
            last_area = a = new PerCpuArea<T>(this, g);
        return a;
    }
}

/// <summary>A per-CPU variable's slots in one guest, indexed by CPU; writes to a traced variable are traced.</summary>
public sealed class PerCpuArea<T>
{
    internal PerCpuArea(PerCpu<T> var, LinuxGuest guest)
    {
        this.var = var;
        this.guest = guest;
    }

    private readonly PerCpu<T> var;
    internal readonly LinuxGuest guest;

    public T this[int cpu]
    {
        get => var.slots(guest)[cpu];
        set => Linux.store_percpu(var, guest, cpu, value, "per_cpu");
    }
}

public static partial class Linux
{
    /// <summary>DEFINE_PER_CPU(type, name).</summary>
    public static PerCpu<T> DEFINE_PER_CPU<T>(string name, T init = default!, bool traced = false) => new(name, init, traced);

    /// <summary>The CPU we run on, without any check: the caller accepts that it may change at once.</summary>
    public static int raw_smp_processor_id() => Machine.Machine.CurrentThread.Cpu!.Id;

    /// <summary>The CPU we run on; with CONFIG_DEBUG_PREEMPT, complains when called preemptible.</summary>
    public static int smp_processor_id()
    {
#if CONFIG_DEBUG_PREEMPT
        check_preemption_disabled("smp_processor_id", "");
#endif
        return raw_smp_processor_id();
    }

    public static T per_cpu<T>(PerCpu<T> var, int cpu)
    {
        step("per_cpu");
        return var.slots(LinuxGuest.This)[cpu];
    }

    // Checked accessors: the caller promises preemption (or migration, or IRQs) is off.
    public static T __this_cpu_read<T>(PerCpu<T> var) { __this_cpu_preempt_check("read"); return raw_cpu_read(var); }
    public static void __this_cpu_write<T>(PerCpu<T> var, T value) { __this_cpu_preempt_check("write"); raw_cpu_write(var, value, "__this_cpu_write"); }
    public static T __this_cpu_xchg<T>(PerCpu<T> var, T value) { __this_cpu_preempt_check("xchg"); return xchg_on_this_cpu(var, value, "__this_cpu_xchg"); }
    public static void __this_cpu_add(PerCpu<int> var, int n) { __this_cpu_preempt_check("add"); add_on_this_cpu(var, n, "__this_cpu_add"); }
    public static void __this_cpu_inc(PerCpu<int> var) { __this_cpu_preempt_check("inc"); add_on_this_cpu(var, 1, "__this_cpu_inc"); }
    public static void __this_cpu_dec(PerCpu<int> var) { __this_cpu_preempt_check("dec"); add_on_this_cpu(var, -1, "__this_cpu_dec"); }

    // Preempt-safe accessors: one instruction (a %gs-relative mov on x86), so the CPU cannot change
    // in the middle; no check needed.
    public static T this_cpu_read<T>(PerCpu<T> var) => raw_cpu_read(var);
    public static void this_cpu_write<T>(PerCpu<T> var, T value) => raw_cpu_write(var, value, "this_cpu_write");
    public static T this_cpu_xchg<T>(PerCpu<T> var, T value) => xchg_on_this_cpu(var, value, "this_cpu_xchg");
    public static void this_cpu_add(PerCpu<int> var, int n) => add_on_this_cpu(var, n, "this_cpu_add");
    public static void this_cpu_inc(PerCpu<int> var) => add_on_this_cpu(var, 1, "this_cpu_inc");
    public static void this_cpu_dec(PerCpu<int> var) => add_on_this_cpu(var, -1, "this_cpu_dec");

    // Unchecked accessors: no check at all. They silence CONFIG_DEBUG_PREEMPT; they fix nothing.
    public static T raw_cpu_read<T>(PerCpu<T> var)
    {
        step("raw_cpu_read:" + var.name);
        return var.slots(LinuxGuest.This)[raw_smp_processor_id()];
    }

    public static void raw_cpu_write<T>(PerCpu<T> var, T value) => raw_cpu_write(var, value, "raw_cpu_write");

    /// <summary>
    /// The step name of a write of the preemptible-hypercall state: <c>hcall_state=VALUE:accessor:variable</c>.
    /// Scenario scripts and tools key on this prefix (the semantics), not on the accessor's spelling.
    /// </summary>
    public const string HCALL_STATE_SITE = "hcall_state=";

    private static string write_site<T>(PerCpu<T> var, T value, string how) =>
        var.traced ? $"{HCALL_STATE_SITE}{format(value)}:{how}:{var.name}" : how + ":" + var.name;

    private static void raw_cpu_write<T>(PerCpu<T> var, T value, string how)
    {
        step(write_site(var, value, how));
        store_percpu(var, LinuxGuest.This, raw_smp_processor_id(), value, how);
    }

    /// <summary>Stores a slot; a change to a traced variable is a typed <see cref="PerCpuWrite"/> in the trace.</summary>
    internal static void store_percpu<T>(PerCpu<T> var, LinuxGuest g, int cpu, T value, string how)
    {
        var slots = var.slots(g);
        T old = slots[cpu];
        slots[cpu] = value;
        if (var.traced && !System.Collections.Generic.EqualityComparer<T>.Default.Equals(old, value))
            g.machine.Trace.Record("percpu", $"{var.name}[cpu{cpu}] = {format(value)} ({how})", new PerCpuWrite(var.name, cpu, format(value), how));
    }

    private static T xchg_on_this_cpu<T>(PerCpu<T> var, T value, string how)
    {
        step(write_site(var, value, how));
        int cpu = raw_smp_processor_id();
        var slots = var.slots(LinuxGuest.This);
        T old = slots[cpu];
        slots[cpu] = value;
        if (var.traced)
            trace_write(var, cpu, value, $"{var.name}[cpu{cpu}] = {format(value)} ({how}, was {format(old)})", how);
        return old;
    }

    private static void add_on_this_cpu(PerCpu<int> var, int n, string how)
    {
        step(how + ":" + var.name);
        var.slots(LinuxGuest.This)[raw_smp_processor_id()] += n;
    }

    private static void trace_write<T>(PerCpu<T> var, int cpu, T value, string detail, string how) =>
        LinuxGuest.This.machine.Trace.Record("percpu", detail, new PerCpuWrite(var.name, cpu, format(value), how));

    private static string format<T>(T value) => value is bool b ? (b ? "1" : "0") : value?.ToString() ?? "null";

    private static void __this_cpu_preempt_check(string op)
    {
#if CONFIG_DEBUG_PREEMPT
        check_preemption_disabled("__this_cpu_", op);
#endif
    }

    /// <summary>
    /// lib/smp_processor_id.c: silent when the CPU cannot change under us — preemption off, IRQs
    /// off, a per-CPU thread, migration disabled — and otherwise the exact line the kernel prints.
    /// </summary>
    internal static void check_preemption_disabled(string what1, string what2)
    {
        var curr = current;
        if (curr.preempt_count != 0 || irqs_disabled() || curr.nr_cpus_allowed == 1 || curr.migration_disabled != 0)
            return;
        printk($"BUG: using {what1}{what2}() in preemptible [{curr.preempt_count:x8}] code: {curr.comm}/{curr.pid}");
        printk($"caller is {caller_site()}");
    }
}
