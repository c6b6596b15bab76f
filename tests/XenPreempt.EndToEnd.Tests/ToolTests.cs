using System.Collections.Generic;
using System.IO;
using Xunit;

namespace XenPreempt.EndToEnd.Tests;

/// <summary>The harness as a .NET tool: packed, installed from the temporary folder with dotnet tool install, run.</summary>
[Collection(PackedFeedCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class ToolTests(PackedFeed feed)
{
    [Fact]
    public void Xen_harness_installs_from_the_local_folder_and_runs()
    {
        feed.Pack(Path.Combine("src", "XenPreempt.Harness", "XenPreempt.Harness.csproj"));
        var tools = Path.Combine(feed.Root, "tools");
        var env = new Dictionary<string, string> { ["NUGET_PACKAGES"] = feed.Packages };

        var install = Dotnet.Exec("dotnet", feed.Root, env,
            "tool", "install", "--tool-path", tools, "--add-source", feed.Feed, "xen-harness", "--version", "0.1.0", "--ignore-failed-sources");
        Assert.True(install.Code == 0, install.Output);
        Assert.Contains("Tool 'xen-harness' (version '0.1.0') was successfully installed.", install.Output);

        var harness = Path.Combine(tools, "xen-harness");
        var scenario = Dotnet.Exec(harness, feed.Root, null, "scenario", "c1", "--variant", "ours", "--config", "none");
        Assert.True(scenario.Code == 0, scenario.Output);
        Assert.Contains("verdict  OK: no invariant violated", scenario.Output);

        var explore = Dotnet.Exec(harness, feed.Root, null,
            "explore", "--variant", "ours", "--config", "dynamic-full", "--strategy", "dfs", "--iterations", "200", "--time-limit", "5");
        Assert.True(explore.Code == 0, explore.Output);
        Assert.Contains("harness: 1 passed, 0 failed", explore.Output);

        var violation = Dotnet.Exec(harness, feed.Root, null, "scenario", "c1", "--variant", "june2023", "--config", "dynamic-full");
        Assert.True(violation.Code == 2, violation.Output);
        Assert.Contains("verdict  VIOLATION", violation.Output);
    }
}
