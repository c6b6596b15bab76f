// SPDX-License-Identifier: MIT
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Xunit;

namespace XenPreempt.Harness.Tests;

/// <summary>
/// Issue 14 item 9: help and usage errors build no port; a compiled port image is reused by the next
/// process. Judged by what lands in the image cache, never by a stopwatch.
/// </summary>
public class StartupTests
{
    private static (int Code, string Out, string Err) Harness(string cacheDir, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet", new[] { Path.Combine(AppContext.BaseDirectory, "xen-harness.dll") })
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment[PortImageCache.DirectoryVariable] = cacheDir;
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout, stderr.Result);
    }

    private static string[] Images(string cacheDir)
    {
        string dir = Path.Combine(cacheDir, "port-images");
        return Directory.Exists(dir) ? Directory.GetFiles(dir, "*.dll") : Array.Empty<string>();
    }

    [Fact]
    public void HelpAndUsageErrors_BuildNoPort_AndListsImageIsReusedByTheNextProcess()
    {
        var cache = Directory.CreateTempSubdirectory("xen-harness-cache-");
        try
        {
            Assert.Equal(Program.ExitOk, Harness(cache.FullName, "--help").Code);
            Assert.Equal(Program.ExitOk, Harness(cache.FullName, "explore", "--help").Code);
            Assert.Equal(Program.ExitUsage, Harness(cache.FullName, "explore", "--cpus", "x").Code);
            Assert.Equal(Program.ExitUsage, Harness(cache.FullName, "scenario", "c9", "--config", "none").Code);
            Assert.Empty(Images(cache.FullName)); // nothing was compiled for any of them

            var (code, first, _) = Harness(cache.FullName, "list");
            Assert.Equal(Program.ExitOk, code);
            var image = Assert.Single(Images(cache.FullName));
            var written = File.GetLastWriteTimeUtc(image);

            var (again, second, _) = Harness(cache.FullName, "list");
            Assert.Equal(Program.ExitOk, again);
            Assert.Equal(first, second);
            Assert.Equal(image, Assert.Single(Images(cache.FullName)));
            Assert.Equal(written, File.GetLastWriteTimeUtc(image)); // read, not rebuilt

            // A --variant value is checked against the port's names: the image list built, read again.
            Assert.Equal(Program.ExitUsage, Harness(cache.FullName, "explore", "--variant", "nosuch").Code);
            Assert.Equal(image, Assert.Single(Images(cache.FullName)));
            Assert.Equal(written, File.GetLastWriteTimeUtc(image));
        }
        finally
        {
            cache.Delete(true);
        }
    }

    [Fact]
    public void ADamagedImage_IsRebuilt_NotLoaded()
    {
        var cache = Directory.CreateTempSubdirectory("xen-harness-cache-");
        try
        {
            Assert.Equal(Program.ExitOk, Harness(cache.FullName, "list").Code);
            var image = Assert.Single(Images(cache.FullName));
            File.WriteAllBytes(image, new byte[] { 1, 2, 3 });
            var (code, output, error) = Harness(cache.FullName, "list");
            Assert.True(code == Program.ExitOk, error);
            Assert.Contains("Variants:", output);
        }
        finally
        {
            cache.Delete(true);
        }
    }

    [Theory]
    [InlineData("nosuch+fixes")]
    [InlineData("ours~nosuch")]
    public void AnUnknownVariantName_IsAUsageError(string variant)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        Assert.Equal(Program.ExitUsage, Program.Run(new[] { "explore", "--variant", variant, "--iterations", "1" }, o, e));
        Assert.Contains("--variant", e.ToString());
    }
}
