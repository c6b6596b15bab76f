// SPDX-License-Identifier: GPL-2.0-only
// Models: nothing in the kernel. The harness API for a user's own workload: which kernel threads run
// your code on which CPUs (created as kernel/kthread.c's kthread_run() and kthread_create_on_cpu()
// would leave them: migratable, or bound to one CPU), which device events, breakpoints and toolstack
// hypercalls the machine adds, and your own invariants over the event log. A tracepoint helper
// (trace_event) lets your code put typed events in that log, as TRACE_EVENT() does in the kernel.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using XenPreempt.Machine;

namespace XenPreempt.Kernel;

/// <summary>
/// A workload of your own: subclass it in your assembly (public, with a public parameterless
/// constructor), and <c>xen-harness explore --assembly your.dll</c> runs it under every preemption
/// model. <see cref="setup"/> is called once per run, so the invariants it adds start fresh each time;
/// it must describe the same workload every time (no clocks, no randomness: the machine's choices are
/// the only nondeterminism, which is what makes a replay token replay).
/// </summary>
public abstract class Workload
{
    /// <param name="name">What <c>--workload</c> selects and the replay token names: letters, digits, '-' and '_'.</param>
    /// <param name="description">One line for the report.</param>
    protected Workload(string name, string description)
    {
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new ArgumentException($"a workload's name is letters, digits, '-' and '_' (got '{name}')", nameof(name));
        this.name = name;
        this.description = description;
    }

    public readonly string name;
    public readonly string description;

    /// <summary>Describes the workload: its CPUs, tasks, what the machine injects, and the invariants.</summary>
    public abstract void setup(WorkloadBuilder w);
}

/// <summary>What a <see cref="Workload"/> is made of; every method returns the builder, for chaining.</summary>
public sealed class WorkloadBuilder
{
    internal readonly List<Action> boot_actions = new();
    internal readonly List<Invariant> invariants = new();
    internal readonly List<string> task_lines = new();

    internal WorkloadBuilder() { }

    /// <summary>vCPUs of the machine (1 to 64; default 2).</summary>
    public int cpus { get; private set; } = 2;
    /// <summary>How many external device events the explorer may raise, and where (default 0).</summary>
    public int device_events { get; private set; }
    /// <summary>How many int3 breakpoints (a tracer's) the explorer may plant at traceable steps (default 0).</summary>
    public int breakpoints { get; private set; }

    public WorkloadBuilder with_cpus(int n)
    {
        if (n is < 1 or > 64)
            throw new ArgumentOutOfRangeException(nameof(n), "a machine has 1 to 64 vCPUs");
        cpus = n;
        return this;
    }

    /// <summary>kthread_run(): a kernel thread running <paramref name="body"/>, woken on <paramref name="cpu"/>; the scheduler may migrate it.</summary>
    public WorkloadBuilder kthread(string comm, int cpu, Action body) => add_thread(comm, cpu, body, bound: false);

    /// <summary>kthread_create_on_cpu() + wake: a kernel thread bound to <paramref name="cpu"/> from creation (never migrated).</summary>
    public WorkloadBuilder kthread_on_cpu(string comm, int cpu, Action body) => add_thread(comm, cpu, body, bound: true);

    /// <summary>
    /// The toolstack (xl) on <paramref name="cpu"/>: one IOCTL_PRIVCMD_HYPERCALL of <paramref name="chunks"/>
    /// 1 ms chunks, which Xen preempts with a continuation whenever an event is pending, through the
    /// variant of the Xen path this run boots.
    /// </summary>
    public WorkloadBuilder toolstack_hypercall(string comm, int cpu, long chunks) => add_spec(new task_spec(comm, "hcall", cpu, check_positive(chunks, nameof(chunks))));

    /// <summary>A per-CPU kworker bound to <paramref name="cpu"/>: <paramref name="ms"/> ms of work, offering to yield after each.</summary>
    public WorkloadBuilder kworker(string comm, int cpu, long ms) => add_spec(new task_spec(comm, "kworker", cpu, check_positive(ms, nameof(ms))));

    /// <summary>Lets the explorer raise up to <paramref name="n"/> device events (network interrupts: the softirq wakes waiting workers).</summary>
    public WorkloadBuilder inject_device_events(int n)
    {
        device_events = n >= 0 ? n : throw new ArgumentOutOfRangeException(nameof(n));
        return this;
    }

    /// <summary>Lets the explorer plant up to <paramref name="n"/> int3 breakpoints in task context.</summary>
    public WorkloadBuilder inject_breakpoints(int n)
    {
        breakpoints = n >= 0 ? n : throw new ArgumentOutOfRangeException(nameof(n));
        return this;
    }

    /// <summary>Checks <paramref name="invariant"/> on this run's event log (besides the built-in ones).</summary>
    public WorkloadBuilder invariant(Invariant invariant)
    {
        invariants.Add(invariant ?? throw new ArgumentNullException(nameof(invariant)));
        return this;
    }

    /// <summary>Checks a property of each entry: a message is a violation, null is fine.</summary>
    public WorkloadBuilder invariant(string name, Func<TraceEntry, string?> check) => invariant(Invariant.FromCheck(name, check));

    private WorkloadBuilder add_thread(string comm, int cpu, Action body, bool bound)
    {
        check_task(comm, cpu);
        ArgumentNullException.ThrowIfNull(body);
        // What the report shows of the task: the method it runs (a lambda has no name worth showing).
        string runs = body.Method.Name.Contains('<') ? "(lambda)" : $"{body.Method.DeclaringType?.Name}.{body.Method.Name}";
        task_lines.Add($"{comm}:{(bound ? "kthread_on_cpu" : "kthread")}:{cpu}:{runs}");
        boot_actions.Add(() => Linux.kthread_create_user(comm, cpu, bound, body));
        return this;
    }

    private WorkloadBuilder add_spec(task_spec spec)
    {
        check_task(spec.comm, spec.cpu);
        task_lines.Add($"{spec.comm}:{spec.kind}:{spec.cpu}:{spec.arg}");
        boot_actions.Add(() => Linux.kernel_thread_create(spec));
        return this;
    }

    private void check_task(string comm, int cpu)
    {
        if (string.IsNullOrWhiteSpace(comm) || comm.IndexOfAny(new[] { ' ', ',' }) >= 0)
            throw new ArgumentException($"a task's comm is one word without commas (got '{comm}')", nameof(comm));
        if (cpu < 0 || cpu >= cpus)
            throw new ArgumentOutOfRangeException(nameof(cpu), $"task {comm}: CPU {cpu} does not exist (the workload has {cpus}; call with_cpus first)");
    }

    private static long check_positive(long n, string what) => n > 0 ? n : throw new ArgumentOutOfRangeException(what, "must be at least 1");
}

/// <summary>A typed event a workload's own code put in the event log (<see cref="Linux.trace_event"/>).</summary>
public abstract record WorkloadEvent : TraceEvent;

public static partial class Linux
{
    /// <summary>
    /// A tracepoint: puts <paramref name="ev"/> in the event log (kind "trace", its text the record's),
    /// where invariants find it as <see cref="TraceEntry.Event"/>. Not a step: no switch can happen here.
    /// </summary>
    public static void trace_event(WorkloadEvent ev) => LinuxGuest.This.machine.Trace.Record("trace", ev.ToString(), ev);

    /// <summary>A user's kernel thread: like <see cref="kernel_thread_create"/>, with the user's code as its body.</summary>
    internal static void kthread_create_user(string comm, int cpu, bool bound, Action body) =>
        kernel_thread_create(new task_spec(comm, "user", cpu, 0), _ => body(), bound);
}

public sealed partial class LinuxGuest
{
    /// <summary>The workloads registered in this build (one load context per build and user assembly).</summary>
    private static readonly Dictionary<string, Func<Workload>> registered_workloads = new(StringComparer.Ordinal);

    /// <summary>
    /// Finds the <see cref="Workload"/>s of <paramref name="assembly"/> (public, concrete, parameterless
    /// constructor), registers them for <c>workload=&lt;name&gt;</c>, and describes each: name, description,
    /// vCPUs, device events, breakpoints and its tasks (for the report). A name given twice is an error.
    /// </summary>
    public static IReadOnlyList<(string Name, string Description, int Cpus, int DeviceEvents, int Breakpoints, string Tasks)> register_workloads(Assembly assembly)
    {
        var found = new List<(string, string, int, int, int, string)>();
        var types = assembly.GetExportedTypes()
            .Where(t => typeof(Workload).IsAssignableFrom(t) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal);
        lock (registered_workloads)
        {
            foreach (var type in types)
            {
                Workload make() => (Workload)Activator.CreateInstance(type)!;
                var w = make();
                if (found.Any(f => f.Item1 == w.name))
                    throw new ArgumentException($"two workloads are named '{w.name}' ({type.FullName} and another)");
                var b = new WorkloadBuilder();
                w.setup(b);
                registered_workloads[w.name] = make;
                found.Add((w.name, w.description, b.cpus, b.device_events, b.breakpoints, string.Join(",", b.task_lines)));
            }
        }
        return found;
    }

    /// <summary>Boots a registered workload: its tasks are created, its invariants watch this machine.</summary>
    private void start_workload(string name)
    {
        Func<Workload>? make;
        lock (registered_workloads)
            registered_workloads.TryGetValue(name, out make);
        if (make is null)
            throw new ArgumentException($"no workload '{name}' is registered in this build");
        var b = new WorkloadBuilder();
        make().setup(b);
        if (b.cpus != machine.Cpus.Length)
            throw new ArgumentException($"workload {name} wants {b.cpus} vCPUs, the machine has {machine.Cpus.Length}");
        foreach (var inv in b.invariants)
            machine.AddInvariant(inv);
        foreach (var create in b.boot_actions)
            create();
    }
}
