// SPDX-License-Identifier: MIT
using System.Linq;
using XenPreempt.Machine;
using Xunit;

namespace XenPreempt.Harness.Tests;

/// <summary>Issue 13: flag-owner judges from the writes in the event log, and cannot pass for want of them.</summary>
public class CheckerTests
{
    private static int _step;

    private static TraceEntry Entry(string task, string kind, string detail, TraceEvent? ev, params CpuView[] cpus) =>
        new(++_step, _step * 1000, 0, task, kind, detail, cpus, ev);

    private static CpuView Cpu(string current, string state) => new(current, state, 0, false);

    [Fact]
    public void AStateTheWritesLeaveSet_UnderATaskOutsideAnyHypercall_IsAFlagOwnerViolation()
    {
        var c = new Checker(Checker.DefaultLatencyBoundNs);
        c.Observe(Entry("xl", "privcmd", "xl/1001 IOCTL_PRIVCMD_HYPERCALL op=36", new PrivcmdHypercall("xl/1001", Done: false), Cpu("xl", "0"), Cpu("swapper/1", "0")));
        c.Observe(Entry("xl", "percpu", "xen_in_preemptible_hcall[cpu0] = 1 (raw_cpu_write)",
            new PerCpuWrite(Checker.HcallStateVariable, 0, "1", "raw_cpu_write"), Cpu("xl", "1"), Cpu("swapper/1", "0")));
        Assert.Empty(c.Violations);
        c.Observe(Entry("xl", "switch", "xl/1001 -> kworker/0:1/1002 (preempt)", null, Cpu("kworker/0:1", "1"), Cpu("swapper/1", "0")));
        Assert.Contains(c.Violations, v => v.Invariant == "flag-owner" && v.Message.Contains("kworker/0:1 runs there"));
    }

    [Fact]
    public void APerTaskFlag_FollowsItsTask_ThroughASwitch()
    {
        var c = new Checker(Checker.DefaultLatencyBoundNs);
        c.Observe(Entry("xl", "privcmd", "xl/1001 IOCTL_PRIVCMD_HYPERCALL op=36", new PrivcmdHypercall("xl/1001", Done: false), Cpu("xl", "0"), Cpu("swapper/1", "0")));
        c.Observe(Entry("xl", "tif", "xl/1001 TIF_XEN_PREEMPTIBLE_HCALL = 1", new TaskFlagWrite("xl/1001", Checker.HcallStateFlag, true), Cpu("xl", "1"), Cpu("swapper/1", "0")));
        // xl is switched out: the flag leaves with it, and CPU0's state (the running task's) is clear.
        c.Observe(Entry("xl", "switch", "xl/1001 -> kworker/0:1/1002 (preempt)", null, Cpu("kworker/0:1", "0"), Cpu("swapper/1", "0")));
        // xl comes back on CPU1 with its flag.
        c.Observe(Entry("swapper/1", "switch", "swapper/1/0 -> xl/1001", null, Cpu("kworker/0:1", "0"), Cpu("xl", "1")));
        Assert.Empty(c.Violations);
    }

    [Fact]
    public void AWriteOfTheStateByATaskOutsideAnyHypercall_IsAFlagOwnerViolation_WhateverItsWording()
    {
        var c = new Checker(Checker.DefaultLatencyBoundNs);
        c.Observe(Entry("kworker/0:1", "anything", "any wording at all", new PerCpuWrite(Checker.HcallStateVariable, 0, "1", "this_cpu_write"),
            Cpu("kworker/0:1", "1"), Cpu("swapper/1", "0")));
        Assert.Contains(c.Violations, v => v.Invariant == "flag-owner" && v.Message.Contains("changed the flag"));
    }

    [Fact]
    public void AStateTheVariantReportsButNoWriteExplains_FailsLoudly()
    {
        // The variant's accessor says CPU0's state is set, the event log has no write that set it: a write
        // escaped the log, and judging flag-owner on what is left would pass vacuously.
        var c = new Checker(Checker.DefaultLatencyBoundNs);
        var e = Assert.Throws<CheckerBlindException>(() => c.Observe(Entry("xl", "sched", "x", null, Cpu("kworker/0:1", "1"), Cpu("swapper/1", "0"))));
        Assert.Contains("no traced write set it", e.Message);
    }

    [Fact]
    public void AStateTheLogSetsButTheVariantsAccessorMisses_IsJudgedFromTheLog()
    {
        // After a code fix moves the state to the task, the variant's accessor may still read the old
        // per-CPU slot ("0"): the writes are what is judged.
        var c = new Checker(Checker.DefaultLatencyBoundNs);
        c.Observe(Entry("kworker/0:1", "tif", "kworker/0:1/1002 TIF_XEN_PREEMPTIBLE_HCALL = 1", new TaskFlagWrite("kworker/0:1/1002", Checker.HcallStateFlag, true),
            Cpu("kworker/0:1", "0"), Cpu("swapper/1", "0")));
        Assert.Contains(c.Violations, v => v.Invariant == "flag-owner" && v.Message.Contains("kworker/0:1 runs there"));
    }

    [Fact]
    public void AnEntryWithoutPerCpuSnapshots_FailsLoudly()
    {
        var c = new Checker(Checker.DefaultLatencyBoundNs);
        Assert.Throws<CheckerBlindException>(() => c.Observe(Entry("xl", "sched", "x", null)));
    }

    [Fact]
    public void AMachineThatTakesNoSnapshots_CannotBeChecked()
    {
        var machine = new Machine.Machine(new MachineConfig { Cpus = 2, RecordCpuViews = false }, DefaultOracle.Instance);
        Assert.Throws<CheckerBlindException>(() => new Checker(Checker.DefaultLatencyBoundNs).Attach(machine));
    }

    [Fact]
    public void ADirectPerCpuSlotWrite_IsInTheEventLog_SoTheWrongCpuMutantIsJudgedOnEveryWrite()
    {
        // ours~wrong-cpu restores the per-CPU state with per_cpu(var, cpu) = true: that write is traced too
        // (a typed PerCpuWrite), so the run is judged, not refused as blind.
        var cell = Exploration.Explorer.Run(new Exploration.ExploreOptions
        {
            Variants = new[] { "ours~wrong-cpu" },
            Configs = new[] { KernelConfigs.Find("dynamic-full")! },
            Strategies = new[] { "pct" },
            Iterations = 200,
        }).Single();
        Assert.Contains(cell.Violations, v => v.Violation.Invariant == "flag-owner");
    }
}
