// SPDX-License-Identifier: MIT
using System.Linq;
using Xunit;

namespace XenPreempt.Harness.Tests;

/// <summary>
/// Each failure scenario of the reference notes happens on the variants that have it, with a
/// scripted schedule, and does not happen on those that do not.
/// </summary>
public class ScenarioTests
{
    internal static ScenarioResult Run(string scenario, string variant, string config) =>
        ScenarioRunner.Run(Scenarios.Find(scenario)!, variant, KernelConfigs.Find(config)!);

    private static string[] Invariants(ScenarioResult r) => r.Violations.Select(v => v.Invariant).Distinct().ToArray();

    [Fact]
    public void C1_June2023Proposal_UnderDynamicFull_LeavesAStaleFlagOnCpu0_AndTheKworkerTakesTheHandOff()
    {
        var r = Run("c1", "june2023", "dynamic-full");
        Assert.Equal(Machine.RunOutcome.Completed, r.Run.Outcome);
        Assert.Contains(r.Violations, v => v.Invariant == "flag-owner" && v.Message.Contains("CPU0's preemptible-hypercall state is set but kworker/0:1 runs there"));
        Assert.Contains(r.Violations, v => v.Invariant == "flag-owner" && v.Message.StartsWith("kworker/0:1 is not in a preemptible hypercall but changed the flag"));
        // xl really moved: it finished its hypercall on CPU1.
        Assert.Contains(r.Trace, e => e.Kind == "migrate" && e.Detail.StartsWith("xl/1001 cpu0 -> cpu1"));
        Assert.Contains(r.Trace, e => e.Kind == "hypercall" && e.Task == "xl" && e.Cpu == 1 && e.Detail == "domctl done");
        // raw_cpu_write() silenced DEBUG_PREEMPT: the race is there, the warning is not.
        Assert.DoesNotContain(r.Console, l => l.StartsWith("BUG: using"));
    }

    [Theory]
    [InlineData("june2023", "dynamic-none")]   // no preemption at the breakpoint's exit: no migration
    [InlineData("june2023", "none")]           // static none: irqentry_exit never preempts
    [InlineData("4624a14f4daa", "dynamic-full")] // the hack is compiled out under CONFIG_PREEMPTION
    [InlineData("ours", "dynamic-full")]       // the state is the task's: migration cannot strand it
    public void C1_IsAbsent(string variant, string config)
    {
        var r = Run("c1", variant, config);
        Assert.DoesNotContain(r.Violations, v => v.Invariant == "flag-owner");
    }

    [Theory]
    [InlineData("4624a14f4daa", "dynamic-none")]
    [InlineData("4624a14f4daa", "dynamic-voluntary")]
    [InlineData("4624a14f4daa", "dynamic-none-key")]
    public void C2_PatchedReschedule_StarvesTheKworkerForTheWholeHypercall(string variant, string config)
    {
        var r = Run("c2", variant, config);
        Assert.Contains(r.Console, l => l.StartsWith("watchdog: BUG: soft lockup - CPU#0 stuck for 2") && l.EndsWith("[xl:1001]"));
        Assert.Contains(r.Violations, v => v.Invariant == "hcall-latency");
        Assert.True(r.MaxHypercallLatencyNs > 29_000_000_000, $"latency {r.MaxHypercallLatencyNs} ns");
        // The kworker first runs only when the 30 s hypercall is over.
        var firstKworkerRun = r.Trace.First(e => e.Kind == "sched" && e.Detail.StartsWith("kworker/0:1/1002 starts"));
        Assert.True(firstKworkerRun.TimeNs > 29_000_000_000);
    }

    [Theory]
    [InlineData("june2023", "dynamic-none")]
    [InlineData("june2023", "dynamic-voluntary")]
    [InlineData("ours", "dynamic-none")]
    [InlineData("ours", "dynamic-voluntary")]
    [InlineData("ours", "dynamic-none-key")]
    public void C2_RawReschedule_YieldsWithinOneContinuationPeriod(string variant, string config)
    {
        var r = Run("c2", variant, config);
        Assert.DoesNotContain(r.Console, l => l.Contains("soft lockup"));
        Assert.True(r.MaxHypercallLatencyNs <= Checker.DefaultLatencyBoundNs, $"latency {r.MaxHypercallLatencyNs} ns");
        var firstKworkerRun = r.Trace.First(e => e.Kind == "sched" && e.Detail.StartsWith("kworker/0:1/1002 starts"));
        Assert.True(firstKworkerRun.TimeNs < 10_000_000, $"kworker first ran at {firstKworkerRun.TimeNs} ns");
    }

    [Theory]
    [InlineData("none")]
    [InlineData("voluntary")]
    public void C3_NestedUpcallInSoftirq_PrintsTheSleepingInAtomicBug_BeforeTheGuard(string config)
    {
        var r = Run("c3", "2020-irq-enable", config);
        Assert.Contains(r.Console, l => l.StartsWith("BUG: sleeping function called from invalid context at 2020-irq-enable.cs:"));
        Assert.Contains(r.Console, l => l.StartsWith("in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 1001, name: xl"));
        var clean = Run("c3", "2020-fixes", config);
        Assert.DoesNotContain(clean.Console, l => l.StartsWith("BUG:"));
        Assert.Empty(clean.Violations);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("voluntary")]
    public void C4_CondReschedWithIrqsDisabled_InTheOriginalCode(string config)
    {
        var r = Run("c4", "fdfd811ddde3", config);
        // _cond_resched() evades might_sleep(), and schedule_debug() has no IRQ check: the kernel is
        // silent, the harness is not.
        Assert.Contains(r.Violations, v => v.Invariant == "sched-context" && v.Message.Contains("irqs=off"));
        var fixedRun = Run("c4", "2020-fixes", config);
        Assert.Empty(fixedRun.Violations);
    }

    [Theory]
    [InlineData("dynamic-voluntary")]
    [InlineData("dynamic-none")]
    public void C5_DebugPreempt_PrintsTheKernelLine_ForThisCpuWriteInAPreemptionBuild(string config)
    {
        var r = Run("c5", "fdfd811ddde3", config);
        Assert.Contains("BUG: using __this_cpu_write() in preemptible [00000000] code: xl/1001", r.Console);
        Assert.Contains("caller is xen_preemptible_hcall_begin", r.Console);
        // Per Bilse's raw_cpu_write() silences it; the compiled-out stubs never write.
        Assert.DoesNotContain(Run("c5", "june2023", config).Console, l => l.StartsWith("BUG: using"));
        Assert.DoesNotContain(Run("c5", "2020-fixes", config).Console, l => l.StartsWith("BUG: using"));
    }

    [Fact]
    public void C5_IsAbsent_WithoutPreemption_BecauseDebugPreemptDependsOnIt()
    {
        var r = Run("c5", "fdfd811ddde3", "voluntary");
        Assert.DoesNotContain(r.Console, l => l.StartsWith("BUG: using"));
    }

    public static TheoryData<string, string> OurFixEverywhere()
    {
        var data = new TheoryData<string, string>();
        foreach (var s in Scenarios.All)
            foreach (var c in KernelConfigs.All)
                data.Add(s.Name, c.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(OurFixEverywhere))]
    public void OurFix_PassesEveryScenario_UnderEveryConfiguration(string scenario, string config)
    {
        var r = Run(scenario, "ours", config);
        Assert.Equal(Machine.RunOutcome.Completed, r.Run.Outcome);
        Assert.True(r.Violations.Count == 0, string.Join("\n", r.Violations.Select(v => $"[{v.Invariant}] {v.Message}")));
        Assert.DoesNotContain(r.Console, l => l.StartsWith("BUG") || l.StartsWith("WARNING") || l.Contains("soft lockup"));
    }

    [Fact]
    public void Variant7dadeaa6e851_OffersOnlyFullAndLazy()
    {
        Assert.False(KernelConfigs.Supports("7dadeaa6e851", KernelConfigs.Find("none")!));
        Assert.False(KernelConfigs.Supports("7dadeaa6e851", KernelConfigs.Find("dynamic-voluntary")!));
        Assert.True(KernelConfigs.Supports("7dadeaa6e851", KernelConfigs.Find("lazy")!));
        var r = Run("c2", "7dadeaa6e851", "dynamic-lazy");
        Assert.Empty(r.Violations);
    }
}
