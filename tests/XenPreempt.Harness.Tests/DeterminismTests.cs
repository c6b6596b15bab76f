// SPDX-License-Identifier: MIT
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace XenPreempt.Harness.Tests;

public class DeterminismTests
{
    [Theory]
    [InlineData("c1", "june2023", "dynamic-full")]
    [InlineData("c3", "2020-irq-enable", "none")]
    public void SameScript_SameTrace(string scenario, string variant, string config)
    {
        var a = ScenarioTests.Run(scenario, variant, config);
        var b = ScenarioTests.Run(scenario, variant, config);
        Assert.Equal(a.TraceHash, b.TraceHash);
        Assert.Equal(a.Trace.Count, b.Trace.Count);
    }

    [Fact]
    public void SameSeed_SameTrace_DifferentSeed_DifferentChoices()
    {
        var s = Scenarios.Find("c1")!;
        var cfg = KernelConfigs.Find("dynamic-full")!;
        var a = ScenarioRunner.Run(s, "june2023", cfg, seed: 7);
        var b = ScenarioRunner.Run(s, "june2023", cfg, seed: 7);
        var c = ScenarioRunner.Run(s, "june2023", cfg, seed: 8);
        Assert.Equal(a.TraceHash, b.TraceHash);
        Assert.NotEqual(a.Choices.Select(x => x.Index), c.Choices.Select(x => x.Index));
    }

    [Fact]
    public void RecordedChoices_ReplayToTheSameTrace()
    {
        var s = Scenarios.Find("c1")!;
        var cfg = KernelConfigs.Find("dynamic-full")!;
        var original = ScenarioRunner.Run(s, "june2023", cfg, seed: 3);
        var replay = ScenarioRunner.Run(s, "june2023", cfg, replay: original.Choices.Select(c => c.Index).ToArray());
        Assert.Equal(original.TraceHash, replay.TraceHash);
        Assert.Equal(original.Violations.Select(v => v.Message), replay.Violations.Select(v => v.Message));
    }

    [Fact]
    public void SameScenario_SameTraceHash_AcrossTwoProcesses()
    {
        var inProcessRun = ScenarioRunner.Run(Scenarios.Find("c1")!, "june2023", KernelConfigs.Find("dynamic-full")!, seed: 11);
        string Hash()
        {
            var (code, output, _) = HarnessProcess.Run(null, "scenario", "c1", "--variant", "june2023", "--config", "dynamic-full", "--seed", "11");
            Assert.Equal(inProcessRun.Violations.Count > 0 ? Program.ExitViolation : Program.ExitOk, code);
            var m = Regex.Match(output, "trace hash ([0-9a-f]{16})");
            Assert.True(m.Success, output);
            return m.Groups[1].Value;
        }
        var inProcess = inProcessRun.TraceHash.ToString("x16");
        Assert.Equal(inProcess, Hash());
        Assert.Equal(inProcess, Hash());
    }
}
