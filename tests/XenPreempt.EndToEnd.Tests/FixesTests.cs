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
    public void Dotnet_format_applies_the_packaged_fixes_to_the_sample()
    {
        var dir = feed.CopySample("KernelPort");
        var restore = Dotnet.Run(dir, "restore", "--ignore-failed-sources");
        Assert.True(restore.Code == 0, restore.Output);

        var verify = Dotnet.Run(dir, "format", "analyzers", "KernelPort.csproj", "--severity", "warn", "--verify-no-changes", "--no-restore");
        Assert.True(verify.Code == 2, "verify before the fix should find XPA diagnostics (exit 2):\n" + verify.Output);

        // One id per run: given several ids at once, dotnet format (SDK 10.0.401) keeps only the first id's fixes
        // in a document that two ids touch (here XPA0002 and XPA0004 won, XPA0005 and XPA0006 were dropped; and XPA0004's fix was
        // preempt_disable()/preempt_enable() around the access instead of this_cpu_inc()).
        foreach (var id in new[] { "XPA0002", "XPA0004", "XPA0005", "XPA0006" })
        {
            var fix = Dotnet.Run(dir, "format", "analyzers", "KernelPort.csproj", "--diagnostics", id, "--severity", "warn", "--no-restore");
            Assert.True(fix.Code == 0, fix.Output);
        }

        var upcall = File.ReadAllText(Path.Combine(dir, "Upcall.cs"));
        Assert.Contains("        raw_irqentry_exit_cond_resched();", upcall);                       // XPA0002
        var privcmd = File.ReadAllText(Path.Combine(dir, "Privcmd.cs"));
        Assert.Contains("        this_cpu_inc(irq_count);", privcmd);                                   // XPA0004: the preempt-safe accessor
        Assert.DoesNotContain("__this_cpu_inc", privcmd);
        Assert.Contains("        {\n            xen_preemptible_hcall_end();\n            return -14;\n        }", privcmd.Replace("\r\n", "\n")); // XPA0005
        Assert.Contains("            local_irq_enable();\n            msleep(1);\n            local_irq_disable();", upcall.Replace("\r\n", "\n")); // XPA0006

        // What is left: XPA0001 on the hypercall region, whose fix moves the state to a [PerTask] member, and
        // the sample has none to move it to (samples/KernelPortFixed declares one).
        var build = feed.Build(dir);
        Assert.True(build.Code == 0, build.Output);
        Assert.Equal(["Privcmd.cs:12 warning XPA0001"], Dotnet.Findings(build.Output));
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
            "--supported-diagnostics", "XPA0002", "XPA0004", "XPA0005", "XPA0006",
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

        var build = feed.Build(dir);
        Assert.True(build.Code == 0, build.Output);
        Assert.Equal(["Privcmd.cs:12 warning XPA0001"], Dotnet.Findings(build.Output));
    }
}
