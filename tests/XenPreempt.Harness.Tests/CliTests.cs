// SPDX-License-Identifier: MIT
using System.IO;
using Xunit;

namespace XenPreempt.Harness.Tests;

public class CliTests
{
    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Scenario_PrintsTraceTable_AndVerdict_ExitTwoOnViolation()
    {
        var (code, output, _) = Cli("scenario", "c1", "--variant", "june2023", "--config", "dynamic-full");
        Assert.Equal(Program.ExitViolation, code);
        Assert.Contains("cpu0 [cur hcall pc irq]", output);
        Assert.Contains("cpu1 [cur hcall pc irq]", output);
        Assert.Contains("verdict  VIOLATION", output);
        Assert.Contains("[flag-owner]", output);
    }

    [Fact]
    public void Scenario_ExitZero_WhenNothingIsViolated()
    {
        var (code, output, _) = Cli("scenario", "c1", "--variant", "ours", "--config", "dynamic-full");
        Assert.Equal(Program.ExitOk, code);
        Assert.Contains("verdict  OK", output);
    }

    [Theory]
    [InlineData("scenario", "c9", "--variant", "ours", "--config", "none")]
    [InlineData("scenario", "c1", "--variant", "nosuch", "--config", "none")]
    [InlineData("scenario", "c1", "--variant", "ours", "--config", "sometimes")]
    [InlineData("scenario", "c1", "--config", "none")]
    [InlineData("scenario", "c1", "--variant", "ours", "--config", "none", "--seed", "minus-one")]
    [InlineData("scenario", "c1", "--variant", "ours", "--config", "none", "--rows", "0")]
    [InlineData("scenario", "c1", "--variant", "ours", "--config", "none", "--rows", "many")]
    [InlineData("explode")]
    public void BadInput_IsAUsageError_ExitOne(params string[] args)
    {
        var (code, output, error) = Cli(args);
        Assert.Equal(Program.ExitUsage, code);
        Assert.False(string.IsNullOrWhiteSpace(error + output));
    }

    [Fact]
    public void List_NamesEveryScenarioVariantAndConfiguration()
    {
        var (code, output, _) = Cli("list");
        Assert.Equal(0, code);
        foreach (var v in new[] { "fdfd811ddde3", "2020-fixes", "66a07b44e765", "4624a14f4daa", "june2023", "7dadeaa6e851", "ours" })
            Assert.Contains(v, output);
        foreach (var c in KernelConfigs.All)
            Assert.Contains(c.Name, output);
    }
}
