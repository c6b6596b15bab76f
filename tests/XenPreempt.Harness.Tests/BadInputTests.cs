// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using XenPreempt.Harness.Exploration;
using Xunit;

namespace XenPreempt.Harness.Tests;

/// <summary>These tests change the process's working directory: nothing else may run beside them.</summary>
[CollectionDefinition(nameof(WorkingDirectoryCollection), DisableParallelization = true)]
public sealed class WorkingDirectoryCollection;

/// <summary>
/// Every option and every file the harness takes, given a bad value: exit 1, one line on stderr that
/// names the option (and says what it accepts), the usage on stdout, and no file written anywhere —
/// the harness runs in an empty working directory, and the files it is given sit beside it.
/// </summary>
[Collection(nameof(WorkingDirectoryCollection))]
public sealed class BadInputTests : IDisposable
{
    private readonly DirectoryInfo _sandbox = Directory.CreateTempSubdirectory("xen-harness-bad-input-");
    private readonly string _cwd;
    private readonly string _previousCwd = Directory.GetCurrentDirectory();

    public BadInputTests()
    {
        _cwd = Directory.CreateDirectory(Path.Combine(_sandbox.FullName, "cwd")).FullName;
        void Write(string name, string text) => File.WriteAllText(Path.Combine(_sandbox.FullName, name), text);
        Write("a-file", "not a directory");
        Write("not-json.json", "hello");
        Write("empty.json", "");
        Write("no-token.json", "{\"version\": 1}");
        Write("array.json", "[1, 2]");
        Write("number-token.json", "{\"token\": 5}");
        Write("corrupt-token.json", "{\"token\": \"xh1.ours.none.std~2~1~20000.AAAA.00000000\"}");
        Write("unknown-config.json", $"{{\"token\": \"{Token("ours", "sometimes", "std~2~1~20000")}\"}}");
        Directory.CreateDirectory(Path.Combine(_sandbox.FullName, "a-dir"));
        Directory.SetCurrentDirectory(_cwd);
    }

    public void Dispose()
    {
        Directory.SetCurrentDirectory(_previousCwd);
        _sandbox.Delete(recursive: true);
    }

    private static string Token(string variant, string config, string workload) =>
        new ReplayToken(variant, config, workload, Array.Empty<int>()).Encode();

    private static string Base64Url(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>(what the one line must name, the arguments); {sandbox} is the directory beside the working directory.</summary>
    public static TheoryData<string, string[]> Cases()
    {
        var d = new TheoryData<string, string[]>();
        void Add(string names, params string[] args) => d.Add(names, args);

        // The command itself.
        Add("explode", "explode");
        Add("extra", "list", "extra");
        Add("extra", "selftest", "extra");

        // scenario: the argument and every option.
        Add("<name>", "scenario", "c9", "--variant", "ours", "--config", "none");
        Add("--variant", "scenario", "c1", "--config", "none");
        Add("--variant", "scenario", "c1", "--variant", "nosuch", "--config", "none");
        Add("--config", "scenario", "c1", "--variant", "ours", "--config", "sometimes");
        Add("--seed", "scenario", "c1", "--variant", "ours", "--config", "none", "--seed", "minus-one");
        Add("--seed", "scenario", "c1", "--variant", "ours", "--config", "none", "--seed", "-1");
        Add("--rows", "scenario", "c1", "--variant", "ours", "--config", "none", "--rows", "0");
        Add("--rows", "scenario", "c1", "--variant", "ours", "--config", "none", "--rows", "many");
        Add("maybe", "scenario", "c1", "--variant", "ours", "--config", "none", "--verbose", "maybe"); // a switch takes no value: the stray word is named
        Add("give a command", new string[0]);
        Add("--faults", "scenario", "c1", "--variant", "ours", "--config", "none", "--faults", "gremlins");
        Add("--bogus", "scenario", "c1", "--variant", "ours", "--config", "none", "--bogus");

        // explore: every option.
        Add("--variant", "explore", "--variant", "nosuch");
        Add("--variant", "explore", "--variant", "ours~nosuch");
        Add("--config", "explore", "--config", "sometimes");
        Add("--strategy", "explore", "--strategy", "bfs");
        Add("--workload", "explore", "--workload", "c9");
        Add("--tasks", "explore", "--tasks", "xl:hcall");
        Add("--tasks", "explore", "--tasks", "xl:fly:0:1");
        Add("--tasks", "explore", "--tasks", "xl:hcall:-1:10");
        Add("--tasks", "explore", "--tasks", "xl:hcall:7:10");
        Add("--tasks", "explore", "--tasks", "xl:hcall:1:10", "--cpus", "1");
        Add("--cpus", "explore", "--cpus", "0");
        Add("--cpus", "explore", "--cpus", "65");
        Add("--cpus", "explore", "--cpus", "two");
        Add("--preemption-bound", "explore", "--preemption-bound", "-1");
        Add("--max-injections", "explore", "--max-injections", "-1");
        Add("--max-injections", "explore", "--max-injections", "lots");
        Add("--pct-depth", "explore", "--pct-depth", "0");
        Add("--pct-depth", "explore", "--pct-depth", "101");
        Add("--iterations", "explore", "--iterations", "0");
        Add("--iterations", "explore", "--iterations", "-5");
        Add("--iterations", "explore", "--iterations", "99999999999999999999");
        Add("--seed", "explore", "--seed", "x");
        Add("--max-steps", "explore", "--max-steps", "0");
        Add("--time-limit", "explore", "--time-limit", "0");
        Add("--time-limit", "explore", "--time-limit", "-1");
        Add("--time-limit", "explore", "--time-limit", "soon");
        Add("--time-limit", "explore", "--time-limit", "Infinity");
        Add("--time-limit", "explore", "--time-limit", "NaN");
        Add("maybe", "explore", "--stop-on-first-bug", "maybe");
        Add("--format", "explore", "--format", "xml");
        Add("--faults", "explore", "--faults", "spurious-events,gremlins");
        Add("--report-dir", "explore", "--variant", "ours", "--config", "none", "--iterations", "1", "--report-dir", "{sandbox}/a-file");
        Add("--report-dir", "explore", "--variant", "ours", "--config", "none", "--iterations", "1", "--report-dir", "{sandbox}/a-file/sub");

        // agreement: its options, and the files it compares with or writes (checked before any work).
        Add("--variant", "agreement", "--variant", "nosuch");
        Add("--config", "agreement", "--config", "sometimes");
        Add("--dfs-iterations", "agreement", "--dfs-iterations", "-1");
        Add("--pct-iterations", "agreement", "--pct-iterations", "many");
        Add("--pct-depth", "agreement", "--pct-depth", "0");
        Add("--check", "agreement", "--check", "{sandbox}/nonexistent.md");
        Add("--write", "agreement", "--write", "{sandbox}/a-dir");
        Add("--write", "agreement", "--write", "{sandbox}/a-file/agreement.md");

        // replay and minimize: the token, the trace file, and every way they can be wrong.
        foreach (var cmd in new[] { "replay", "minimize" })
        {
            Add("--token", cmd);
            Add("--token", cmd, "--token", Token("ours", "none", "std~2~1~20000"), "--trace-file", "{sandbox}/no-token.json");
            Add("--token", cmd, "--token", "xh1.garbage");
            Add("--token", cmd, "--token", "xh1.ours.none.std~2~1~20000.AAAA.00000000");
            Add("--token", cmd, "--token", Token("ours", "sometimes", "std~2~1~20000"));
            Add("--token", cmd, "--token", Token("nosuch", "none", "std~2~1~20000"));
            Add("--token", cmd, "--token", Token("ours~nosuch", "none", "std~2~1~20000"));
            Add("--token", cmd, "--token", Token("ours", "none", "nosuch~2~1~20000"));
            Add("--token", cmd, "--token", Token("ours", "none", "std~2~1"));
            Add("--token", cmd, "--token", Token("ours", "none", "std~0~1~20000"));
            Add("--token", cmd, "--token", Token("ours", "none", "std~2~1~0"));
            Add("--token", cmd, "--token", Token("ours", "none", "std~2~1~20000~!!"));
            Add("--token", cmd, "--token", Token("ours", "none", "std~2~1~20000~" + Base64Url("xl:fly:0:1")));
            Add("--token", cmd, "--token", Token("ours", "none", "std~2~1~20000~" + Base64Url("xl:hcall:5:1")));
            Add("--token", cmd, "--token", Token("ours", "none", "std~2~1~20000~~gremlins"));
            Add("--trace-file", cmd, "--trace-file", "{sandbox}/nonexistent.json");
            Add("--trace-file", cmd, "--trace-file", "{sandbox}/a-dir");
            Add("--trace-file", cmd, "--trace-file", "{sandbox}/not-json.json");
            Add("--trace-file", cmd, "--trace-file", "{sandbox}/empty.json");
            Add("--trace-file", cmd, "--trace-file", "{sandbox}/no-token.json");
            Add("--trace-file", cmd, "--trace-file", "{sandbox}/array.json");
            Add("--trace-file", cmd, "--trace-file", "{sandbox}/number-token.json");
            Add("--trace-file", cmd, "--trace-file", "{sandbox}/corrupt-token.json");
            Add("--trace-file", cmd, "--trace-file", "{sandbox}/unknown-config.json");
        }
        Add("maybe", "replay", "--token", Token("ours", "none", "std~2~1~20000"), "--verbose", "maybe");
        // A schedule that violates nothing has nothing to minimise.
        Add("--token", "minimize", "--token", Token("ours", "none", "std~2~1~20000"));
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInput_IsExitOne_WithOneLineNamingTheOption_TheUsage_AndNoFileWritten(string names, string[] args)
    {
        var before = Snapshot();
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Program.Run(args.Select(a => a.Replace("{sandbox}", _sandbox.FullName)).ToArray(), o, e);

        Assert.True(code == Program.ExitUsage, $"exit {code}\nstderr: {e}\nstdout: {o}");
        var lines = e.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got {lines.Length}:\n{e}");
        Assert.Contains(names, lines[0]);
        Assert.Contains("Usage:", o.ToString());
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public void AValueOutOfItsSet_SaysWhatIsAccepted()
    {
        var e = new StringWriter();
        Program.Run(new[] { "explore", "--strategy", "bfs" }, new StringWriter(), e);
        Assert.Equal("--strategy: 'bfs' is not accepted (one of: dfs, pct, random, portfolio)", e.ToString().Trim());
        e = new StringWriter();
        Program.Run(new[] { "explore", "--cpus", "two" }, new StringWriter(), e);
        Assert.Equal("--cpus must be a whole number from 1 to 64 (got 'two')", e.ToString().Trim());
        e = new StringWriter();
        Program.Run(new[] { "explore", "--faults", "gremlins" }, new StringWriter(), e);
        Assert.Equal("--faults: 'gremlins' is not a fault (accepted: spurious-events, event-storm, nested-irq, hcall-fail, never-yield)", e.ToString().Trim());
    }

    [Fact]
    public void AReportDir_GetsTheReport_AndNothingIsWrittenBesideIt()
    {
        var code = Program.Run(new[] { "explore", "--variant", "4624a14f4daa", "--config", "dynamic-none", "--strategy", "random", "--iterations", "2", "--report-dir", "out/report" },
            new StringWriter(), new StringWriter());
        Assert.Equal(Program.ExitViolation, code);
        Assert.Equal(new[] { "out" }, Directory.GetFileSystemEntries(_cwd).Select(Path.GetFileName));
        var written = Directory.GetFileSystemEntries(Path.Combine(_cwd, "out", "report")).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray();
        Assert.Contains("report.json", written);
        Assert.All(written, n => Assert.Matches(@"^(report\.json|bug-\d{4}\.trace\.json)$", n));
    }

    // Every file and directory under the sandbox (the working directory included), with its size.
    private string[] Snapshot() =>
        Directory.GetFileSystemEntries(_sandbox.FullName, "*", SearchOption.AllDirectories)
            .Select(p => File.Exists(p) ? $"{p} {new FileInfo(p).Length}" : p + "/")
            .OrderBy(p => p, StringComparer.Ordinal)
            .ToArray();
}
