// SPDX-License-Identifier: MIT
using System;
using System.Diagnostics;
using System.IO;

namespace XenPreempt.Harness.Tests;

/// <summary>Runs the built xen-harness as a separate process (what a user runs), in a given working directory.</summary>
internal static class HarnessProcess
{
    public static (int Code, string Out, string Err) Run(string? workingDirectory, params string[] args)
    {
        var harness = Path.Combine(AppContext.BaseDirectory, "xen-harness.dll");
        var psi = new ProcessStartInfo("dotnet", new[] { harness })
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout, stderr.Result);
    }
}
