// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Linq;
using XenPreempt.Machine;

namespace XenPreempt.Harness;

/// <summary>
/// A named failure scenario from the reference notes: the workload, the machine, and a script of the
/// few decisions that matter (everything else takes the machine's default, or a seeded choice).
/// </summary>
public sealed record Scenario(
    string Name,
    string Title,
    string Description,
    string Tasks,
    MachineConfig Machine,
    Func<RuleOracle, RuleOracle> Script,
    string Boot = "");

public static class Scenarios
{
    private static readonly MachineConfig Small = new() { Cpus = 2, MaxTimeNs = 60_000_000_000, MaxSteps = 3_000_000 };

    public static readonly IReadOnlyList<Scenario> All = new[]
    {
        new Scenario("c1", "per-CPU migration race (PVH dom0)",
            "On a PVH dom0 the event channel arrives through the callback vector (sysvec_xen_hvm_callback), an ordinary " +
            "interrupt that leaves through irqentry_exit() and knows no hand-off. xl sets the per-CPU preemptible-hypercall " +
            "state on CPU0; a device interrupt on CPU1 wakes CPU0's kworker, whose reschedule IPI reaches xl before its " +
            "hypercall; under full preemption irqentry_exit() switches xl out with the state still set, and CPU1 pulls xl and " +
            "runs the hypercall there. CPU0 keeps a stale flag while the kworker runs. (On PV the same interrupt goes through " +
            "xen_pv_evtchn_do_upcall()'s clear/restore, and a kernel-mode int3/#DB never reschedules: no route; docs/harness.md.)",
            // 15 ms: shorter than the latency bound, so that under none/voluntary (where the PVH vector never
            // preempts: scenario pvh) the scenario shows the race or nothing, not the latency.
            "xl:hcall:0:15,kworker/0:1:netwq:0:5",
            Small with { EventBudget = 1 },
            o => o
                // As xl writes 1 to its preemptible-hypercall state on CPU0 (whatever the variant keeps it in,
                // whatever accessor it uses), a network interrupt is raised on CPU1 … (variants that compiled the
                // state out get it at the next instruction instead; their kworker must still be woken)
                .When(c => c.Kind == ChoiceKind.InjectEvent && c.Cpu == 0 && IsHypercallBegin(c.Site), _ => 2)
                .When(c => c.Kind == ChoiceKind.InjectEvent && c.Cpu == 0 && c.Site == "__xen_stac", _ => 2)
                // … and CPU1 takes it before xl's next instruction, waking CPU0's kworker: the reschedule IPI
                // reaches xl inside the bracket.
                .When(c => c.Kind == ChoiceKind.NextCpu && c.Cpu == 0 && c.Site == "__xen_stac", _ => 1),
            Boot: "xen.pvh=1"),

        new Scenario("c2", "no-op reschedule",
            "A 30 s (simulated) toolstack hypercall on CPU0 while CPU0's pinned kworker is runnable. If the upcall's " +
            "reschedule is patched to a no-op, the kworker starves for the whole call and the 20 s soft-lockup check fires.",
            "xl:hcall:0:30000,kworker/0:1:kworker:0:20",
            Small,
            o => o),

        new Scenario("c3", "nested upcall in softirq",
            "xl is in a long hypercall; a network interrupt's softirq issues its own hypercall, which Xen preempts; the nested " +
            "upcall sees the flag still set (xl's) and need_resched, and reschedules from softirq context.",
            "xl:hcall:0:100,kworker/0:1:kworker:0:20",
            Small with { EventBudget = 1 },
            o => o.When(c => c.Kind == ChoiceKind.InjectEvent && c.Cpu == 0 && c.Site == "xen:domctl", _ => 1 /* on vCPU0 */)),

        new Scenario("c4", "cond_resched with IRQs disabled",
            "xl's hypercall is preempted by Xen with a reschedule pending; the event callback runs with IRQs disabled and " +
            "reschedules from there.",
            "xl:hcall:0:100,kworker/0:1:kworker:0:20",
            Small,
            o => o),

        new Scenario("c4-82c387ef7568", "cond_resched with IRQs disabled, after 82c387ef7568",
            "c4 on a scheduler with 82c387ef7568 (v6.14, Feb 2025; backported to 5.10 and later stable series): " +
            "__cond_resched() refuses to schedule with IRQs disabled, so the IRQs-off callback's _cond_resched() does nothing: " +
            "no schedule with IRQs off any more, and the hypercall never yields to the runnable kworker.",
            "xl:hcall:0:100,kworker/0:1:kworker:0:20",
            Small,
            o => o,
            Boot: "sched.cond_resched_irqs=1"),

        new Scenario("c5", "DEBUG_PREEMPT",
            "xl writes the per-CPU flag with __this_cpu_write() in a preemptible context of a CONFIG_PREEMPTION kernel: " +
            "CONFIG_DEBUG_PREEMPT prints the kernel's BUG line.",
            "xl:hcall:0:20",
            Small,
            o => o),

        new Scenario("pvh", "PVH dom0: no hand-off",
            "As c2 and c1 together on a PVH dom0: the callback vector is an ordinary interrupt, so per-CPU state set by the " +
            "bracket is never cleared or restored, and a long hypercall yields only if irqentry_exit preempts.",
            "xl:hcall:0:2000,kworker/0:1:kworker:0:20",
            Small,
            o => o,
            Boot: "xen.pvh=1"),
    };

    public static Scenario? Find(string name) => All.FirstOrDefault(s => s.Name == name);

    /// <summary>
    /// The step at which a variant's begin writes 1 to the preemptible-hypercall state: the port names
    /// every write of that state by what it writes (the per-CPU variable or the thread flag the variant
    /// keeps it in, through any accessor), so a new spelling cannot slip past the script.
    /// </summary>
    public static bool IsHypercallBegin(string site) => site.StartsWith(HcallStateSite + "1:", StringComparison.Ordinal);

    /// <summary>The port's step-name prefix for writes of the preemptible-hypercall state (include/percpu.cs, HCALL_STATE_SITE).</summary>
    public const string HcallStateSite = "hcall_state=";
}
