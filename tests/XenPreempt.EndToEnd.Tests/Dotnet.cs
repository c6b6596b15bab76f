using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace XenPreempt.EndToEnd.Tests;

/// <summary>Runs the dotnet CLI (and installed tools) as child processes; finds the repository; copies samples.</summary>
internal static class Dotnet
{
    public static readonly string RepoRoot = FindRepoRoot();

    public static string Configuration =>
        typeof(Dotnet).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "Configuration").Value!;

    /// <summary>
    /// How long one child command may run before it counts as hung: a hang guard, not a pass/fail line. On a
    /// 2-core machine at load 20–60 a `dotnet build` that takes 20 s idle took over 3 minutes; a hang never ends.
    /// </summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(40);

    public static (int Code, string Output) Run(string directory, params string[] arguments) => Exec("dotnet", directory, null, arguments);

    public static (int Code, string Output) Exec(string fileName, string directory, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var info = StartInfo(fileName, directory, environment, arguments);
        using var process = Process.Start(info)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(HangGuard))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"hung (no exit within {HangGuard.TotalMinutes} minutes): {fileName} {string.Join(' ', arguments)}\n{output}");
        }
        process.WaitForExit();
        return (process.ExitCode, $"{fileName} {string.Join(' ', arguments)} -> {process.ExitCode}\n{output}");
    }

    /// <summary>A process start for a child dotnet/tool process, with the test host's MSBuild settings removed.</summary>
    public static ProcessStartInfo StartInfo(string fileName, string directory, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var info = new ProcessStartInfo(fileName) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        // The test host's MSBuild settings must not leak into the child builds.
        info.Environment.Remove("MSBuildSDKsPath");
        info.Environment.Remove("MSBUILD_EXE_PATH");
        info.Environment.Remove("MSBuildExtensionsPath");
        info.Environment.Remove("MSBuildLoadMicrosoftTargetsReadOnly");
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // No build servers left behind by a test run.
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["UseSharedCompilation"] = "false";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            info.Environment[key] = value;
        return info;
    }

    public static string NewTempDirectory(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), prefix + "-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Copies samples/&lt;name&gt; (sources, project, .editorconfig; not bin/obj) into <paramref name="target"/>.</summary>
    public static void CopySample(string name, string target)
    {
        var source = Path.Combine(RepoRoot, "samples", name);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
        {
            var fileName = Path.GetFileName(file);
            if (fileName is "nuget.config" || fileName.EndsWith(".sarif", StringComparison.Ordinal))
                continue;
            File.Copy(file, Path.Combine(target, fileName));
        }
    }

    /// <summary>A nuget.config that adds <paramref name="feed"/> beside the machine's default source.</summary>
    public static void WriteNuGetConfig(string directory, string feed, string packagesFolder) =>
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{packagesFolder}" />
              </config>
              <packageSources>
                <add key="e2e-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);

    private static readonly Regex DiagnosticLine = new(
        @"^\s*(?:.*[/\\])?(?<file>[^/\\(]+\.cs)\((?<line>\d+),(?<col>\d+)\): (?<severity>warning|error|info) (?<id>XPA\d{4}):",
        RegexOptions.Multiline);

    /// <summary>The distinct "File.cs:line severity XPAnnnn" findings in a build log, sorted.</summary>
    public static string[] Findings(string output) =>
        DiagnosticLine.Matches(output)
            .Select(m => $"{m.Groups["file"].Value}:{m.Groups["line"].Value} {m.Groups["severity"].Value} {m.Groups["id"].Value}")
            .Distinct()
            .OrderBy(s => s, StringComparer.Ordinal)
            .ToArray();

    public static void TryDelete(string directory)
    {
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "XenPreemptAnalyzers.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("XenPreemptAnalyzers.sln not found above " + AppContext.BaseDirectory);
    }
}
