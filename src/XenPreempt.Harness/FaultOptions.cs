// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Linq;
using XenPreempt.Machine;

namespace XenPreempt.Harness;

/// <summary>One fault the harness can switch on (<c>--faults</c>).</summary>
/// <param name="Name">Its name on the command line and in replay tokens.</param>
/// <param name="Description">What it does, for the help text and 'list'.</param>
/// <param name="Machine">The machine fault it enables (None for a workload fault).</param>
/// <param name="Hidden">Test-only: accepted, but not listed.</param>
public sealed record FaultOption(string Name, string Description, Faults Machine, bool Hidden = false);

/// <summary>
/// The faults <c>--faults</c> accepts. Machine faults are injected by the one choice oracle (so dfs
/// explores them and a token replays them); <c>never-yield</c> changes the workload. A set of faults
/// is written canonically, in table order, joined by '+', e.g. <c>spurious-events+hcall-fail</c>.
/// </summary>
public static class FaultOptions
{
    /// <summary>The task <c>never-yield</c> adds: a kernel thread on CPU0 that spins forever.</summary>
    public const string NeverYieldTask = "spinner:spin:0:0";

    /// <summary>How many faults a scenario run may inject (explore uses <c>--max-injections</c>).</summary>
    public const int ScenarioBudget = 4;

    /// <summary>How likely a scenario's seeded fault oracle injects a fault where one is offered.</summary>
    public const double ScenarioProbability = 0.02;

    public static readonly IReadOnlyList<FaultOption> All = new[]
    {
        new FaultOption("spurious-events", "Xen raises an upcall with no event-channel port pending", Faults.SpuriousEvents),
        new FaultOption("event-storm", "a device interrupts one vCPU at every step, 32 times in a row", Faults.EventStorm),
        new FaultOption("nested-irq", "a device event arrives inside an event callback (hard IRQ or softirq)", Faults.NestedIrq),
        new FaultOption("hcall-fail", "a hypercall fails part-way with -EAGAIN (xl retries) or -EFAULT (xl gets the error)", Faults.HypercallFailure),
        new FaultOption("never-yield", $"adds a kernel thread on CPU0 that spins forever without cond_resched() ({NeverYieldTask})", Faults.None),
        new FaultOption("internal-error", "test-only: a machine assertion fails at step 20", Faults.InternalError, Hidden: true),
    };

    /// <summary>The names help and 'list' show.</summary>
    public static IEnumerable<string> ListedNames => All.Where(f => !f.Hidden).Select(f => f.Name);

    /// <summary>
    /// Parses names (each may itself be a comma- or '+'-separated list) into the canonical set;
    /// an unknown name is an error naming what is accepted.
    /// </summary>
    public static bool TryParse(IEnumerable<string> names, out IReadOnlyList<string> faults, out string error)
    {
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names.SelectMany(n => n.Split(new[] { ',', '+' }, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!All.Any(f => f.Name == name))
            {
                faults = Array.Empty<string>();
                error = $"'{name}' is not a fault (accepted: {string.Join(", ", ListedNames)})";
                return false;
            }
            wanted.Add(name);
        }
        faults = All.Where(f => wanted.Contains(f.Name)).Select(f => f.Name).ToArray();
        error = "";
        return true;
    }

    /// <summary>The canonical text of a set: names in table order, joined by '+' ("" for none).</summary>
    public static string Encode(IReadOnlyList<string> faults) => string.Join('+', faults);

    /// <summary>The machine faults a set enables.</summary>
    public static Faults MachineFaults(IReadOnlyList<string> faults) =>
        All.Where(f => faults.Contains(f.Name)).Aggregate(Faults.None, (acc, f) => acc | f.Machine);

    /// <summary>The workload as the faults change it (never-yield adds its spinner).</summary>
    public static Scenario ApplyToWorkload(Scenario workload, IReadOnlyList<string> faults) =>
        faults.Contains("never-yield") ? workload with { Tasks = workload.Tasks + "," + NeverYieldTask } : workload;

    /// <summary>The machine with the faults enabled and <paramref name="budget"/> of them to inject.</summary>
    public static MachineConfig ApplyToMachine(MachineConfig machine, IReadOnlyList<string> faults, int budget)
    {
        var f = MachineFaults(faults);
        return f == Faults.None ? machine : machine with { Faults = f, FaultBudget = budget };
    }
}
