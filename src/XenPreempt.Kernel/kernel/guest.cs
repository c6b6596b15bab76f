// SPDX-License-Identifier: GPL-2.0-only
// Models: init/main.c (boot, the command line), kernel/sched/core.c (the per-CPU run queues
// the guest keeps), kernel/cpu.c (bringing up one idle task per CPU) — Linux v7.0-rc1
// (commit 7dadeaa6e851 and its parents) as the generic base every variant runs on.
using System;
using System.Collections.Generic;
using System.Globalization;
using XenPreempt.Machine;

namespace XenPreempt.Kernel;

/// <summary>This image's entry points for the tool that loads it (the harness), found by their interface.</summary>
public sealed class LinuxGuestImage : IGuestImage
{
    public IGuest Create(string cmdline) => LinuxGuest.create(cmdline);

    public IReadOnlyList<(string Name, string Models)> Variants => LinuxGuest.variants();

    public IReadOnlyList<(string Name, string CodeType)> VariantCode => LinuxGuest.variant_code();
}

/// <summary>
/// One booted Linux guest: its per-CPU areas, tasks, run queues, static-call targets and console.
/// Port code never holds it: like <c>current</c> in the kernel, the running stack finds it through
/// a thread-local pointer, so many guests (one per exploration run) can live in one process.
/// </summary>
public sealed partial class LinuxGuest : IGuest
{
    [ThreadStatic] internal static LinuxGuest? t_this;
    [ThreadStatic] internal static task_struct? t_current;

    internal readonly Dictionary<object, Array> percpu_areas = new(ReferenceEqualityComparer.Instance);
    internal readonly Dictionary<object, Func<int>?> static_call_targets = new(ReferenceEqualityComparer.Instance);
    internal readonly Dictionary<object, bool> static_key_values = new(ReferenceEqualityComparer.Instance);
    internal readonly List<task_struct> tasks = new();
    internal rq[] runqueues = Array.Empty<rq>();
    internal Machine.Machine machine = null!;
    internal int next_pid = 1;
    internal int live_workload_tasks;
    internal readonly List<task_struct> sleeping_workers = new();

    private LinuxGuest(boot_params boot) => this.boot = boot;

    internal readonly boot_params boot;

    /// <summary>
    /// Creates a guest from a kernel command line, e.g.
    /// <c>preempt=full xen.variant=june2023 tasks=xl:hcall:0:30000,kworker/0:1:hog:0:200</c>.
    /// </summary>
    public static IGuest create(string cmdline) => new LinuxGuest(boot_params.parse(cmdline));

    /// <summary>The variants this build contains, in history order: name and what it models.</summary>
    public static IReadOnlyList<(string Name, string Models)> variants() => xen_variants.describe();

    /// <summary>The Kconfig symbols this build was compiled with.</summary>
    public static IReadOnlyList<string> kconfig() => Kconfig.enabled();

    internal static LinuxGuest This => t_this ?? throw new InvalidOperationException("not running inside a guest");

    public bool WorkloadDone => live_workload_tasks == 0 && tasks.Count > 0;

    public SimThread[] Boot(Machine.Machine m)
    {
        machine = m;
        int ncpus = m.Cpus.Length;
        runqueues = new rq[ncpus];
        var idle = new SimThread[ncpus];
        t_this = this;
        try
        {
            Linux.sched_init();
            for (int cpu = 0; cpu < ncpus; cpu++)
            {
                var idle_task = Linux.fork_idle(cpu);
                runqueues[cpu] = new rq(cpu, idle_task);
                idle[cpu] = idle_task.thread;
            }
            Linux.preempt_dynamic_init(boot.preempt);
            xen_variants.select(boot.variant);
            foreach (var spec in boot.tasks)
                Linux.kernel_thread_create(spec);
            if (boot.workload is string name)
                start_workload(name);
        }
        finally
        {
            t_this = null;
        }
        return idle;
    }

    public void EventCallback(UpcallFrame frame) => deliver_event(new pt_regs(frame.InHypercall, frame.InterruptedIrqsDisabled));

    public void Exception(ExceptionFrame frame) => Linux.exc_int3(new pt_regs(false, Linux.irqs_disabled()), frame.Site);

    public CpuView Describe(int cpu)
    {
        if (xen_ops is null || runqueues.Length <= cpu || runqueues[cpu] is null)
            return new CpuView("-", "-", 0, false);
        var rq = runqueues[cpu];
        var curr = rq.curr;
        string hcall = xen_variants.current_ops().hcall_state_of(this, cpu);
        bool irqs_off = machine.Cpus[cpu].UpcallMask;
        return new CpuView(curr.comm, hcall, curr.preempt_count, irqs_off);
    }

    /// <summary>Ground truth for checkers: the tasks inside a privcmd hypercall bracket right now.</summary>
    public IReadOnlyList<task_struct> all_tasks => tasks;
}

/// <summary>What one task of the workload does (from the <c>tasks=</c> boot parameter).</summary>
public sealed record task_spec(string comm, string kind, int cpu, long arg);

/// <summary>The parsed kernel command line.</summary>
public sealed class boot_params
{
    public string preempt = "";
    public string variant = "ours";
    public bool xen_pvh;
    /// <summary>
    /// sched.cond_resched_irqs=0|1 (harness only): run the scheduler without or with 82c387ef7568's
    /// test whatever the variant's era, to show what a variant's code does on the other side of it.
    /// </summary>
    public bool? cond_resched_irqs;
    /// <summary>workload=NAME (harness only): boot a user's registered <see cref="Workload"/> (kernel/user_workload.cs).</summary>
    public string? workload;
    public readonly List<task_spec> tasks = new();

    /// <summary>Parses <c>key=value</c> words; an unknown key or a bad value is an error, not a guess.</summary>
    public static boot_params parse(string cmdline)
    {
        var p = new boot_params();
        foreach (var word in cmdline.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = word.IndexOf('=');
            string key = eq < 0 ? word : word[..eq];
            string value = eq < 0 ? "" : word[(eq + 1)..];
            switch (key)
            {
                case "preempt": p.preempt = value; break;
                case "xen.variant": p.variant = value; break;
                case "xen.pvh": p.xen_pvh = value is "1" or "y" or ""; break;
                case "sched.cond_resched_irqs":
                    p.cond_resched_irqs = value switch
                    {
                        "1" or "y" => true,
                        "0" or "n" => false,
                        _ => throw new ArgumentException($"bad value '{value}' for sched.cond_resched_irqs (0 or 1)"),
                    };
                    break;
                case "tasks": parse_tasks(p, value); break;
                case "workload": p.workload = value; break;
                default: throw new ArgumentException($"unknown kernel parameter '{key}'");
            }
        }
        return p;
    }

    // comm:kind:cpu:arg[,…]; the last three fields are fixed, so comm may contain ':' ("kworker/0:1").
    private static void parse_tasks(boot_params p, string value)
    {
        foreach (var item in value.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = item.Split(':');
            if (f.Length < 4 || !int.TryParse(f[^2], NumberStyles.None, CultureInfo.InvariantCulture, out int cpu)
                || !long.TryParse(f[^1], NumberStyles.None, CultureInfo.InvariantCulture, out long arg))
                throw new ArgumentException($"bad task '{item}': expected comm:kind:cpu:arg");
            p.tasks.Add(new task_spec(string.Join(':', f[..^3]), f[^3], cpu, arg));
        }
    }
}
