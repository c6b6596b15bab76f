// SPDX-License-Identifier: MIT
using System.Linq;
using XenPreempt.Harness.Exploration;
using Xunit;

namespace XenPreempt.Harness.Tests;

/// <summary>Every seeded mutant of our fix is caught by dfs and by pct, with the invariant it breaks.</summary>
public class MutantTests
{
    [Theory]
    [InlineData("no-clear", "dynamic-full", "dfs")]
    [InlineData("no-clear", "dynamic-full", "pct")]
    [InlineData("wrong-cpu", "voluntary", "dfs")]
    [InlineData("wrong-cpu", "voluntary", "pct")]
    [InlineData("patchable", "dynamic-none", "dfs")]
    [InlineData("patchable", "dynamic-none", "pct")]
    [InlineData("injected-preemption", "dynamic-none", "dfs")]
    [InlineData("injected-preemption", "dynamic-none", "pct")]
    [InlineData("open-region", "dynamic-full", "dfs")]
    [InlineData("open-region", "voluntary", "pct")]
    [InlineData("without-item3", "dynamic-none", "dfs")]
    [InlineData("without-item3", "dynamic-full", "pct")]
    // percpu-pv-handoff and this-cpu-write need the PVH vector: they are caught on c1's PVH boot by its script
    // (TheScript_KeysOnTheStateWritten_NotOnTheAccessorSpelling) and by the agreement check (docs/agreement.md).
    public void Mutant_IsCaught(string mutant, string config, string strategy)
    {
        var m = Mutants.Find(mutant)!;
        Assert.False(m.ShownCorrect);
        var cell = Explorer.Run(new ExploreOptions
        {
            Variants = new[] { m.Variant },
            Configs = new[] { KernelConfigs.Find(config)! },
            Strategies = new[] { strategy },
            Workload = m.Workload,
            // On c1's PVH boot the race needs only where the device event lands: dfs spends its budget on that.
            PreemptionBound = m.Workload == "c1" ? 0 : 2,
            Iterations = 20_000,
            TimeLimitSeconds = 3600, // a hang guard only: the iteration count ends the run
            StopOnFirstBug = true,
        }).Single();
        Assert.Contains(cell.Violations, v => v.Violation.Invariant == m.ExpectedInvariant);
    }

    /// <summary>
    /// A per-CPU state with a correct clear -> reschedule -> restore hand-off on PV and PVH: no faithful route
    /// switches a task inside the bracket any other way (kernel-mode int3/#DB never reschedule; nothing in the
    /// bracket is traceable), so dfs and pct find nothing, on PV and on a PVH dom0, under every model.
    /// </summary>
    [Theory]
    [InlineData("std", "dynamic-full")]
    [InlineData("c1", "dynamic-full")]
    public void PerCpuStateWithACorrectHandOff_IsShownCorrect(string workload, string config)
    {
        var m = Mutants.Find("percpu-handoff")!;
        Assert.True(m.ShownCorrect);
        foreach (var strategy in new[] { "dfs", "pct" })
        {
            var cell = Explorer.Run(new ExploreOptions
            {
                Variants = new[] { m.Variant },
                Configs = new[] { KernelConfigs.Find(config)! },
                Strategies = new[] { strategy },
                Workload = workload,
                // On c1's PVH boot: every placement of the device event (bound 0), as for the mutants it would catch.
                PreemptionBound = workload == "c1" ? 0 : 2,
                Iterations = 500,
                TimeLimitSeconds = 3600, // a hang guard only: the iteration count ends the run
            }).Single();
            Assert.True(cell.Schedules >= 500 || cell.Exhaustive, $"{strategy}: only {cell.Schedules} schedules");
            Assert.True(cell.Violations.Count == 0, string.Join("\n", cell.Violations.Select(v => $"[{v.Violation.Invariant}] {v.Violation.Message}")));
        }
        // The same per-CPU state without the PVH hand-off is caught on the PVH dom0 (percpu-pv-handoff above).
    }

    [Fact]
    public void TheScript_KeysOnTheStateWritten_NotOnTheAccessorSpelling()
    {
        // this-cpu-write spells the begin this_cpu_write(); c1's script must still raise its event as the
        // state is set (the step is named by what it writes), so the race happens exactly as with raw_cpu_write.
        foreach (var variant in new[] { "ours~this-cpu-write", "ours~percpu-pv-handoff", "june2023" })
        {
            var r = ScenarioRunner.Run(Scenarios.Find("c1")!, variant, KernelConfigs.Find("dynamic-full")!);
            var trace = r.Trace.ToList();
            int inject = trace.FindIndex(e => e.Kind == "inject" && e.Detail == "device event on vCPU1");
            int write = trace.FindIndex(e => e.Kind == "percpu" && e.Detail.StartsWith("xen_in_preemptible_hcall[cpu0] = 1", System.StringComparison.Ordinal));
            Assert.True(inject >= 0 && write == inject + 1, $"{variant}: the event was not raised at the begin's write (inject {inject}, write {write})");
            Assert.Contains(r.Violations, v => v.Invariant == "flag-owner");
        }
        Assert.Contains(ScenarioRunner.Run(Scenarios.Find("c1")!, "ours~this-cpu-write", KernelConfigs.Find("dynamic-full")!).Trace,
            e => e.Kind == "percpu" && e.Detail.EndsWith("(this_cpu_write)", System.StringComparison.Ordinal));
        Assert.True(Scenarios.IsHypercallBegin("hcall_state=1:this_cpu_write:xen_in_preemptible_hcall"));
        Assert.True(Scenarios.IsHypercallBegin("hcall_state=1:set_thread_flag:TIF_XEN_PREEMPTIBLE_HCALL"));
        Assert.False(Scenarios.IsHypercallBegin("hcall_state=0:raw_cpu_write:xen_in_preemptible_hcall"));
    }

    [Fact]
    public void EveryMutant_ChangesTheSource_ItClaimsTo()
    {
        foreach (var m in Mutants.All)
        {
            var source = PortBuilder.PortSources.Single(s => s.Path == m.File).Text.Replace("\r\n", "\n");
            Assert.NotEqual(source, m.Apply(source));
            Assert.Equal((m.Base, m), Mutants.Parse(m.Variant));
        }
    }

    [Fact]
    public void OurFix_DfsExhaustsBound2_WithoutInjections_AndFindsNothing()
    {
        foreach (var config in new[] { "voluntary", "dynamic-none", "dynamic-full" })
        {
            var cell = Explorer.Run(new ExploreOptions
            {
                Variants = new[] { "ours" },
                Configs = new[] { KernelConfigs.Find(config)! },
                Strategies = new[] { "dfs" },
                MaxInjections = 0,
                Iterations = 100_000,
                TimeLimitSeconds = 3600, // a hang guard only: the iteration count ends the run
            }).Single();
            Assert.True(cell.Exhaustive, $"{config}: not exhaustive after {cell.Schedules} schedules");
            Assert.Empty(cell.Violations);
        }
    }
}
