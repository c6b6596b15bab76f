// SPDX-License-Identifier: MIT
using System;
using System.IO;
using System.Linq;
using Xunit;

namespace XenPreempt.Harness.Tests;

public class PortTests
{
    public static TheoryData<string> Configs()
    {
        var d = new TheoryData<string>();
        foreach (var c in KernelConfigs.All) d.Add(c.Name);
        return d;
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void ThePort_CompilesUnderEveryConfiguration(string config)
    {
        var build = PortBuilder.Get(KernelConfigs.Find(config)!);
        Assert.Equal(8, build.Variants.Count);
    }

    [Fact]
    public void EveryPortFile_HasItsSpdxHeader_AndNamesWhatItModels()
    {
        Assert.NotEmpty(PortBuilder.PortSources);
        foreach (var (path, text) in PortBuilder.PortSources)
        {
            var lines = text.Split('\n');
            Assert.True(lines[0].TrimEnd() == "// SPDX-License-Identifier: GPL-2.0-only", $"{path}: first line must be the GPL-2.0-only SPDX header");
            Assert.True(lines.Take(12).Any(l => l.StartsWith("// Models:", StringComparison.Ordinal)), $"{path}: must say what kernel source it models");
        }
    }

    [Fact]
    public void ThePortHasItsOwnLicence()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "XenPreemptAnalyzers.sln")))
            dir = Path.GetDirectoryName(dir);
        Assert.NotNull(dir);
        var licence = File.ReadAllText(Path.Combine(dir!, "src", "XenPreempt.Kernel", "LICENSE"));
        Assert.Contains("GPL-2.0-only", licence);
    }

    [Fact]
    public void TheHarnessNamesTheHypercallStateWrites_AsThePortDoes()
    {
        var linux = PortBuilder.Get(KernelConfigs.Find("none")!).Assembly.GetType("XenPreempt.Kernel.Linux")!;
        Assert.Equal(Scenarios.HcallStateSite, linux.GetField("HCALL_STATE_SITE")!.GetRawConstantValue());
    }

    [Theory]
    [InlineData("dynamic-full")]
    [InlineData("full")]
    [InlineData("lazy")]
    [InlineData("none")]
    public void AKernelModeBreakpoint_IsNmiLike_AndChangesNothingButItsOwnTraceLine(string config)
    {
        // A breakpoint at every traceable step of xl and the kworker, with reschedules pending: each handler
        // runs between irqentry_nmi_enter() and irqentry_nmi_exit() (the count shows NMI and hard-IRQ context,
        // in which preempt_schedule_irq() would BUG) and leaves without rescheduling, so the run is the run
        // without breakpoints, line for line. (When the handler left through irqentry_exit(), full preemption
        // switched tasks at the breakpoints.)
        var cfg = KernelConfigs.Find(config)!;
        string preempt = cfg.BootPreempt.Length > 0 ? $"preempt={cfg.BootPreempt} " : "";
        string cmdline = preempt + "xen.variant=june2023 tasks=xl:hcall:0:10,kworker/0:1:kworker:0:5";
        Machine.TraceLog Trace(bool breakpoints)
        {
            var machine = new Machine.MachineConfig { Cpus = 1, MaxTimeNs = 200_000_000, MaxSteps = 50_000, ExceptionBudget = breakpoints ? 1_000 : 0 };
            var oracle = new Machine.RuleOracle().When(c => c.Kind == Machine.ChoiceKind.InjectException, _ => 1, times: 0);
            var r = Exploration.Execution.Run(PortBuilder.Get(cfg), cmdline, machine, oracle);
            Assert.Equal(Machine.RunOutcome.Completed, r.Run.Outcome);
            return r.Machine.Trace;
        }
        var traced = Trace(breakpoints: true).Entries;
        var breakpoints = traced.Where(e => e.Kind == "int3").ToList();
        Assert.True(breakpoints.Count > 10, $"only {breakpoints.Count} breakpoints");
        foreach (var b in breakpoints)
            Assert.Equal(0x110000, b.Cpus[0].PreemptCount & 0xff0000);
        static string Line(Machine.TraceEntry e) => $"{e.Step} {e.TimeNs} {e.Task} {e.Kind}: {e.Detail}";
        var withoutBreakpointLines = traced.Where(e => !(e.Kind == "int3" || e.Kind == "inject" && e.Detail.StartsWith("int3 ", StringComparison.Ordinal))).Select(Line);
        Assert.Equal(Trace(breakpoints: false).Entries.Select(Line), withoutBreakpointLines);
        Assert.Contains(traced, e => e.Kind == "preempt" || e.Kind == "switch"); // the run does switch tasks: the comparison means something
    }

    [Fact]
    public void BadKernelCommandLine_IsRejected()
    {
        var build = PortBuilder.Get(KernelConfigs.Find("none")!);
        Assert.Throws<ArgumentException>(() => build.CreateGuest("xen.variant=ours bogus=1"));
        Assert.Throws<ArgumentException>(() => build.CreateGuest("tasks=xl:hcall:zero:1"));
        Assert.Throws<ArgumentException>(() => build.CreateGuest("xen.variant=ours sched.cond_resched_irqs=maybe"));
    }
}
