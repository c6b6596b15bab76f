// SPDX-License-Identifier: MIT
using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using XenPreempt.Harness.Exploration;
using XenPreempt.Harness.UserWorkloads;
using Xunit;

namespace XenPreempt.Harness.Tests;

/// <summary>
/// Issue 16: a user's workload, compiled against the port as the XenPreempt.Kernel package is, run by the
/// harness's own command line: found, explored under a model, replayed to the same run, and refused with
/// a usage error when it cannot be (the end-to-end test does the same with the real SDK and the packages).
/// </summary>
public sealed class UserWorkloadTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "xen-harness-user-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter { NewLine = "\n" };
        var e = new StringWriter { NewLine = "\n" };
        int code = Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    // Its own assembly name: the docs' generator opens samples/MyDriver as "MyDriver" in the same process, maybe at the same time.
    private string MyDriver() => UserSourceCompiler.Compile("MyDriverUnderTest",
        UserSourceCompiler.SourcesIn(Path.Combine(GeneratedDocsTests.RepositoryRoot(), "samples", "MyDriver")), Path.Combine(_dir, "mydriver"));

    private string Compile(string name, string source) => UserSourceCompiler.Compile(name, new[] { ("Source.cs", source) }, Path.Combine(_dir, name));

    [Fact]
    public void TheBuggyWorkload_BreaksItsInvariant_AndItsTokenReplaysToTheSameTrace()
    {
        string dll = MyDriver();
        var explore = Cli("explore", "--assembly", dll, "--workload", "buggy", "--config", "full", "--strategy", "dfs", "--iterations", "100", "--stop-on-first-bug");
        Assert.True(explore.Code == Program.ExitViolation, explore.Out + explore.Err);
        var found = Regex.Match(explore.Out, @"  token   (?<token>\S+)\n  replay  xen-harness replay --token \S+ --assembly (?<path>\S+)\n  trace hash (?<hash>[0-9a-f]{16})");
        Assert.True(found.Success, explore.Out);
        Assert.Equal(dll, found.Groups["path"].Value);
        Assert.Contains("VIOLATION [mydrv-inflight] ours / full / dfs", explore.Out);

        Assert.True(ReplayToken.TryDecode(found.Groups["token"].Value, out var token, out _));
        Assert.StartsWith("buggy@MyDriverUnderTest~2~", token!.Workload);
        var (_, _, first) = Explorer.Replay(token);
        var (_, _, second) = Explorer.Replay(token);
        Assert.Equal(found.Groups["hash"].Value, first.TraceHash.ToString("x16"));
        Assert.Equal(first.TraceHash, second.TraceHash);
        Assert.Contains(first.Violations, v => v.Invariant == "mydrv-inflight");
    }

    [Fact]
    public void TheFixedWorkload_PassesUnderEveryModel()
    {
        string dll = MyDriver();
        var explore = Cli("explore", "--assembly", dll, "--workload", "fixed", "--strategy", "dfs", "--iterations", "60");
        Assert.True(explore.Code == Program.ExitOk, explore.Out + explore.Err);
        Assert.Contains("harness: 8 passed, 0 failed", explore.Out);
    }

    [Fact]
    public void BadAssemblies_AndBadWorkloadNames_AreUsageErrors_ThatSayWhatWasFound()
    {
        var missing = Cli("explore", "--assembly", Path.Combine(_dir, "nope.dll"));
        Assert.Equal(Program.ExitUsage, missing.Code);
        Assert.Contains("does not exist", missing.Err);

        string none = Compile("NoWorkloads", "namespace NoWorkloads; public static class Driver { public static void f() => XenPreempt.Kernel.Linux.cond_resched(); }");
        var empty = Cli("explore", "--assembly", none);
        Assert.Equal(Program.ExitUsage, empty.Code);
        Assert.Contains("defines no workload", empty.Err);

        string dll = MyDriver();
        var unknown = Cli("explore", "--assembly", dll, "--workload", "nosuch");
        Assert.Equal(Program.ExitUsage, unknown.Code);
        Assert.Contains("--workload: MyDriverUnderTest defines no workload 'nosuch' (found: buggy, fixed)", unknown.Err);
        var several = Cli("explore", "--assembly", dll);
        Assert.Equal(Program.ExitUsage, several.Code);
        Assert.Contains("give one (found: buggy, fixed)", several.Err);
        var mutant = Cli("explore", "--assembly", dll, "--workload", "fixed", "--variant", "ours~patchable");
        Assert.Equal(Program.ExitUsage, mutant.Code);
    }

    [Fact]
    public void AWorkloadThatThrowsInSetup_IsAUsageError_AndAnInvariantThatThrows_IsItsViolation()
    {
        string dll = Compile("Throwing", """
            using XenPreempt.Kernel;
            using XenPreempt.Machine;
            namespace Throwing;
            public sealed class Bad() : Workload("bad", "setup throws")
            {
                public override void setup(WorkloadBuilder w) => w.kthread("t", 5, () => { });
            }
            """);
        var bad = Cli("explore", "--assembly", dll);
        Assert.Equal(Program.ExitUsage, bad.Code);
        Assert.Contains("CPU 5 does not exist", bad.Err);

        string thrower = Compile("Thrower", """
            using XenPreempt.Kernel;
            using XenPreempt.Machine;
            namespace Thrower;
            public sealed class Throws() : Workload("throws", "its invariant throws")
            {
                public override void setup(WorkloadBuilder w) => w
                    .kthread("t", 0, () => Linux.mdelay(1))
                    .invariant("nosy", e => e.Kind == "trace" ? null : throw new System.InvalidOperationException("boom"));
            }
            """);
        var run = Cli("scenario", "throws", "--assembly", thrower, "--variant", "ours", "--config", "none");
        Assert.True(run.Code == Program.ExitViolation, run.Out + run.Err);
        Assert.Contains("[nosy]", run.Out);
        Assert.Contains("the invariant threw InvalidOperationException: boom", run.Out);
    }

    [Fact]
    public void AUserTokenWithoutItsAssembly_SaysWhichAssemblyItNeeds()
    {
        var token = new ReplayToken("ours", "full", "buggy@Elsewhere+Driver~2~0~20000", new[] { 0, 1 });
        var replay = Cli("replay", "--token", token.Encode());
        Assert.Equal(Program.ExitUsage, replay.Code);
        Assert.Contains("give --assembly <path to Elsewhere.Driver.dll>", replay.Err);
    }
}
