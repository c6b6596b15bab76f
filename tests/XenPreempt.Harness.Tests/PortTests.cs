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
    public void BadKernelCommandLine_IsRejected()
    {
        var build = PortBuilder.Get(KernelConfigs.Find("none")!);
        Assert.Throws<ArgumentException>(() => build.CreateGuest("xen.variant=ours bogus=1"));
        Assert.Throws<ArgumentException>(() => build.CreateGuest("tasks=xl:hcall:zero:1"));
    }
}
