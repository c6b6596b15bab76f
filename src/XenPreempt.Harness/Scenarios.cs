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
        new Scenario("c1", "per-CPU migration race",
            "xl sets the preemptible-hypercall state on CPU0; a device interrupt on CPU1 queues work for CPU0's kworker; " +
            "a tracing breakpoint between begin and the hypercall leaves through irqentry_exit, which (under full preemption) " +
            "switches xl out; CPU1 pulls xl and runs the hypercall there. CPU0 keeps a stale flag, CPU1 has none, and the " +
            "kworker on CPU0 takes the hand-off branch at its next upcall.",
            "xl:hcall:0:40,kworker/0:1:netwq:0:5",
            Small with { EventBudget = 1, ExceptionBudget = 1 },
            o => o
                // As xl sets the preemptible-hypercall state on CPU0 (wherever the variant keeps it),
                // a network interrupt is raised on CPU1 … (variants that compiled the state out get it
                // at the next instruction instead; their kworker must still be woken)
                .When(c => c.Kind == ChoiceKind.InjectEvent && c.Cpu == 0 && IsHypercallBegin(c.Site), _ => 2)
                .When(c => c.Kind == ChoiceKind.InjectEvent && c.Cpu == 0 && c.Site == "__xen_stac", _ => 2)
                // … CPU1 takes it before xl's next instruction, queueing work for CPU0's kworker …
                .When(c => c.Kind == ChoiceKind.NextCpu && c.Cpu == 0 && c.Site == "__xen_stac", _ => 1)
                // … and a breakpoint hits xl between begin and the hypercall.
                .When(c => c.Kind == ChoiceKind.InjectException && c.Cpu == 0 && c.Site == "__xen_stac", _ => 1)),

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

    // The step at which a variant's xen_preemptible_hcall_begin() writes its state.
    private static bool IsHypercallBegin(string site) =>
        site is "__this_cpu_write:xen_in_preemptible_hcall" or "raw_cpu_write:xen_in_preemptible_hcall" or "set_thread_flag";
}
