using System.IO;
using Xunit;

namespace XenPreempt.EndToEnd.Tests;

/// <summary>
/// The code fixes from the packed XenPreemptAnalyzers, applied by a real command-line client to a copy of
/// samples/KernelPort (restore only; dotnet format loads the analyzers and fixes from the package).
/// </summary>
[Collection(PackedFeedCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class FixesTests(PackedFeed feed)
{
    [Fact]
    public void Dotnet_format_id_by_id_fixes_every_warning_of_the_sample_as_the_fixed_sample_does()
    {
        var dir = feed.CopySample("KernelPort");
        var restore = Dotnet.Run(dir, "restore", "--ignore-failed-sources");
        Assert.True(restore.Code == 0, restore.Output);

        var verify = Dotnet.Run(dir, "format", "analyzers", "KernelPort.csproj", "--severity", "info", "--verify-no-changes", "--no-restore");
        Assert.True(verify.Code == 2, "verify before the fix should find XPA diagnostics (exit 2):\n" + verify.Output);

        // One id per run, as docs/fix-clients.md says: given several ids at once, dotnet format (SDK 10.0.401) keeps
        // only the first id's fixes in a document that two ids touch. XPA0003 is Info: --severity info.
        foreach (var id in new[] { "XPA0001", "XPA0002", "XPA0003", "XPA0004", "XPA0005", "XPA0006" })
        {
            var fix = Dotnet.Run(dir, "format", "analyzers", "KernelPort.csproj", "--diagnostics", id, "--severity", id == "XPA0003" ? "info" : "warn", "--no-restore");
            Assert.True(fix.Code == 0, fix.Output);
        }
        // Only the XPA ids: the SDK's own info rules (CA2211 on the public static field, as in KernelPortFixed) are not ours.
        var clean = Dotnet.Run(dir, "format", "analyzers", "KernelPort.csproj", "--diagnostics", "XPA0001", "XPA0002", "XPA0003", "XPA0004", "XPA0005", "XPA0006",
            "--severity", "info", "--verify-no-changes", "--no-restore");
        Assert.True(clean.Code == 0, "something is left to fix:\n" + clean.Output);

        var upcall = File.ReadAllText(Path.Combine(dir, "Upcall.cs")).Replace("\r\n", "\n");
        Assert.Contains("        raw_irqentry_exit_cond_resched();", upcall);                                             // XPA0002
        Assert.Contains("            local_irq_enable();\n            msleep(1);\n            local_irq_disable();", upcall); // XPA0006
        var privcmd = File.ReadAllText(Path.Combine(dir, "Privcmd.cs")).Replace("\r\n", "\n");
        Assert.Contains("        this_cpu_inc(irq_count);", privcmd);                                                   // XPA0004
        Assert.DoesNotContain("__this_cpu_inc", privcmd);
        Assert.Contains("        {\n            xen_preemptible_hcall_end();\n            return -14;\n        }", privcmd); // XPA0005
        Assert.Contains("        irqentry_exit_cond_resched();", File.ReadAllText(Path.Combine(dir, "Irq.cs")));         // XPA0003
        var primitives = File.ReadAllText(Path.Combine(dir, "Primitives.cs")).Replace("\r\n", "\n");             // XPA0001: a per-task slot
        Assert.Contains("    [PerTask] public static bool current_in_preemptible_hcall;\n", primitives);
        Assert.Contains("    public static void xen_preemptible_hcall_begin() => current_in_preemptible_hcall = true;\n", primitives);
        Assert.Contains("    public static void xen_preemptible_hcall_end() => current_in_preemptible_hcall = false;\n", primitives);

        // The diagnostics of the result are samples/KernelPortFixed's: none, even with every rule an error and XPA0003 a warning.
        var fixedSample = feed.CopySample("KernelPortFixed");
        var expected = feed.Build(fixedSample, "-p:XenPreemptAnalysisMode=strict");
        var actual = feed.Build(dir, "-p:XenPreemptAnalysisMode=strict");
        Assert.True(actual.Code == 0, actual.Output);
        Assert.Equal(Dotnet.Findings(expected.Output), Dotnet.Findings(actual.Output));
        Assert.Empty(Dotnet.Findings(actual.Output));
        Assert.Contains(" 0 Warning(s)", actual.Output);
    }

    /// <summary>Roslynator's CLI (from the repository's tool manifest: run <c>dotnet tool restore</c> first).</summary>
    [Fact]
    public void Roslynator_fix_applies_the_packaged_fixes_to_the_sample()
    {
        var dir = feed.CopySample("KernelPort");
        var restore = Dotnet.Run(dir, "restore", "--ignore-failed-sources");
        Assert.True(restore.Code == 0, restore.Output);

        // Run from the repository so that its .config/dotnet-tools.json resolves the tool.
        var fix = Dotnet.Run(Dotnet.RepoRoot, "tool", "run", "roslynator", "fix", Path.Combine(dir, "KernelPort.csproj"),
            "--supported-diagnostics", "XPA0001", "XPA0002", "XPA0004", "XPA0005", "XPA0006",
            // XPA0004 offers several fixes; roslynator applies none of them unless told which (equivalence key).
            "--diagnostic-fix-map", "XPA0004=XPA0004.UsePreemptSafeOp");
        Assert.True(fix.Code == 0, "run `dotnet tool restore` first if roslynator is missing:\n" + fix.Output);
        Assert.Contains("Fix 1 XPA0002", fix.Output);

        var upcall = File.ReadAllText(Path.Combine(dir, "Upcall.cs")).Replace("\r\n", "\n");
        Assert.Contains("        raw_irqentry_exit_cond_resched();", upcall);                                             // XPA0002
        Assert.Contains("            local_irq_enable();\n            msleep(1);\n            local_irq_disable();", upcall); // XPA0006
        var privcmd = File.ReadAllText(Path.Combine(dir, "Privcmd.cs")).Replace("\r\n", "\n");
        Assert.Contains("        this_cpu_inc(irq_count);", privcmd);                                                   // XPA0004
        Assert.Contains("xen_preemptible_hcall_end();\n            return -14;", privcmd);                                 // XPA0005
        Assert.Contains("[PerTask] public static bool current_in_preemptible_hcall;", File.ReadAllText(Path.Combine(dir, "Primitives.cs"))); // XPA0001

        // Every warning had one fix (or a mapped one): nothing is left, and Roslynator says so with exit code 0.
        var build = feed.Build(dir);
        Assert.True(build.Code == 0, build.Output);
        Assert.Empty(Dotnet.Findings(build.Output));
    }
}
