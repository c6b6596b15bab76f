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
    public void C1_June2023Proposal_OnAPvhDom0_UnderDynamicFull_LeavesAStaleFlagOnCpu0()
    {
        var r = Run("c1", "june2023", "dynamic-full");
        Assert.Equal(Machine.RunOutcome.Completed, r.Run.Outcome);
        Assert.Contains("xen.pvh=1", r.Cmdline);
        Assert.Contains(r.Violations, v => v.Invariant == "flag-owner" && v.Message.Contains("CPU0's preemptible-hypercall state is set but kworker/0:1 runs there"));
        // The route: the callback vector's irqentry_exit() preempted xl inside the bracket.
        Assert.Contains(r.Trace, e => e.Kind == "preempt" && e.Detail.StartsWith("xl/1001 preempted at interrupt exit"));
        // xl really moved: it finished its hypercall on CPU1.
        Assert.Contains(r.Trace, e => e.Kind == "migrate" && e.Detail.StartsWith("xl/1001 cpu0 -> cpu1"));
        Assert.Contains(r.Trace, e => e.Kind == "hypercall" && e.Task == "xl" && e.Cpu == 1 && e.Detail == "domctl done");
        // On PVH nothing reads or clears the per-CPU state (only the PV upcall does): it stays set on CPU0.
        Assert.Equal("1", r.Trace[^1].Cpus[0].HcallState);
        // raw_cpu_write() silenced DEBUG_PREEMPT: the race is there, the warning is not.
        Assert.DoesNotContain(r.Console, l => l.StartsWith("BUG: using"));
    }

    /// <summary>c1's schedule on a PV dom0, with a kprobe-style breakpoint between the begin and the hypercall (the old c1).</summary>
    private static readonly Scenario C1OnPv = Scenarios.Find("c1")! with
    {
        Boot = "",
        Machine = Scenarios.Find("c1")!.Machine with { ExceptionBudget = 1 },
        Script = o => Scenarios.Find("c1")!.Script(o)
            .When(c => c.Kind == Machine.ChoiceKind.InjectException && c.Cpu == 0 && c.Site == "__xen_stac", _ => 1),
    };

    [Theory]
    [InlineData("june2023", "dynamic-full")]
    [InlineData("june2023", "dynamic-voluntary")]
    public void C1_OnPv_HasNoRoute_TheUpcallHandsOff_AndTheBreakpointNeverReschedules(string variant, string config)
    {
        var r = ScenarioRunner.Run(C1OnPv, variant, KernelConfigs.Find(config)!);
        Assert.Contains(r.Trace, e => e.Kind == "int3" && e.Detail == "breakpoint at __xen_stac");
        // Kernel-mode int3 is NMI-like (irqentry_nmi_exit): the task it interrupted is still running after it.
        int at = r.Trace.ToList().FindIndex(e => e.Kind == "int3");
        Assert.Equal("xl", r.Trace[at + 1].Task);
        Assert.DoesNotContain(r.Violations, v => v.Invariant == "flag-owner");
        Assert.True(r.Passed, string.Join("\n", r.Violations.Select(v => $"[{v.Invariant}] {v.Message}")));
    }

    [Theory]
    [InlineData("june2023", "dynamic-none")]   // the callback vector's irqentry_exit() does not preempt: no migration
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
    [InlineData("66a07b44e765", "dynamic-none")] // v5.12-v5.17: PREEMPT_DYNAMIC compiled the hack out already
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
    [InlineData("none")]
    [InlineData("voluntary")]
    public void C4_After82c387ef7568_TheCallbackNoLongerReschedules_AndTheHypercallKeepsTheCpu(string config)
    {
        var r = Run("c4-82c387ef7568", "fdfd811ddde3", config);
        // __cond_resched() refuses with IRQs off: no schedule from the callback at all …
        Assert.DoesNotContain(r.Violations, v => v.Invariant == "sched-context");
        Assert.DoesNotContain(r.Trace, e => e.Kind == "schedule" && e.Detail.Contains("irqs=off"));
        // … so the 100 ms hypercall never yields to the runnable kworker.
        Assert.Contains(r.Violations, v => v.Invariant == "hcall-latency");
        Assert.True(r.MaxHypercallLatencyNs > 90_000_000, $"latency {r.MaxHypercallLatencyNs} ns");
        // The variants of 2020 on enable IRQs around cond_resched(): the test changes nothing for them.
        Assert.Empty(Run("c4-82c387ef7568", "2020-fixes", config).Violations);
    }

    [Theory]
    [InlineData("dynamic-voluntary")]
    [InlineData("dynamic-none")]
    public void C5_DebugPreempt_PrintsTheKernelLine_WhenItem2CompilesTheMainlineAccessorsIntoAPreemptionBuild(string config)
    {
        // Per Bilse's patch without its item 3: the line he quotes, from the begin's __this_cpu_write().
        var r = Run("c5", "june2023~without-item3", config);
        Assert.Contains("BUG: using __this_cpu_write() in preemptible [00000000] code: xl/1001", r.Console);
        Assert.Contains("caller is xen_preemptible_hcall_set", r.Console);
        // Item 3's raw_cpu_write() silences it; the mainline code is compiled out under PREEMPTION.
        Assert.DoesNotContain(Run("c5", "june2023", config).Console, l => l.StartsWith("BUG: using"));
        Assert.DoesNotContain(Run("c5", "66a07b44e765", config).Console, l => l.StartsWith("BUG: using"));
    }

    public static TheoryData<string> ShippedVariants()
    {
        var d = new TheoryData<string>();
        foreach (var v in new[] { "fdfd811ddde3", "2020-irq-enable", "2020-fixes", "66a07b44e765", "4624a14f4daa", "june2023", "7dadeaa6e851", "ours" })
            d.Add(v);
        return d;
    }

    [Theory]
    [MemberData(nameof(ShippedVariants))]
    public void C5_NeverPrints_InAVariantUnderABuildItsCodeMet(string variant)
    {
        // DEBUG_PREEMPT needs PREEMPTION, and wherever the shipped __this_cpu_write() code is compiled in,
        // PREEMPTION is off: the line needs a build the code never met (fdfd811ddde3 under PREEMPT_DYNAMIC).
        foreach (var config in KernelConfigs.For(variant))
            Assert.DoesNotContain(Run("c5", variant, config.Name).Console, l => l.StartsWith("BUG: using"));
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

    [Theory]
    [InlineData("fdfd811ddde3", "none voluntary full")]
    [InlineData("2020-irq-enable", "none voluntary full")]
    [InlineData("2020-fixes", "none voluntary full")]
    [InlineData("66a07b44e765", "none voluntary full dynamic-none dynamic-voluntary dynamic-full")]
    [InlineData("4624a14f4daa", "none voluntary full lazy dynamic-none dynamic-voluntary dynamic-full dynamic-lazy")]
    [InlineData("june2023", "none voluntary full dynamic-none dynamic-voluntary dynamic-full")]
    [InlineData("7dadeaa6e851", "full lazy dynamic-full dynamic-lazy")]
    [InlineData("june2023+fixes", "none voluntary full dynamic-none dynamic-voluntary dynamic-full")]
    [InlineData("ours", "none voluntary full lazy dynamic-none dynamic-voluntary dynamic-full dynamic-lazy dynamic-none-key dynamic-full-key")]
    [InlineData("ours~no-clear", "none voluntary full lazy dynamic-none dynamic-voluntary dynamic-full dynamic-lazy dynamic-none-key dynamic-full-key")]
    public void EachVariant_RunsOnlyUnderTheBuildsItsCodeMet(string variant, string builds)
    {
        Assert.Equal(builds, string.Join(' ', KernelConfigs.For(variant).Select(c => c.Name)));
        foreach (var c in KernelConfigs.All.Where(c => !KernelConfigs.Supports(variant, c)))
        {
            var e = Assert.Throws<System.ArgumentException>(() => ScenarioRunner.Run(Scenarios.Find("c2")!, variant, c));
            Assert.Contains("its builds:", e.Message);
        }
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
