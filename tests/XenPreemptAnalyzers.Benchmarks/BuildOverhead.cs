using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using XenPreemptAnalyzers.Performance;

namespace XenPreemptAnalyzers.Benchmarks;

/// <summary>
/// <c>build-overhead</c>: builds a generated project three ways — no analyzers at all (the SDK's NetAnalyzers off),
/// our package alone (packed from this checkout into a temporary feed, consumed as users consume it), and the SDK's
/// CA2000 and CA1416 alone (every other NetAnalyzers rule off) — interleaved, and prints min/median/max of each
/// build's CPU time and its ratio to the build without analyzers. Timed builds run without ReportAnalyzer. With
/// <c>--server cold</c> (the default) every build runs csc in a fresh process (<c>UseSharedCompilation=false</c>,
/// one in-process MSBuild node), so the build's CPU — MSBuild and csc, read as this program's waited-for children's
/// CPU (getrusage) — is the whole cost, JIT of the analyzers included; with <c>--server warm</c> the compiler server
/// compiles, and its CPU cannot be told apart from other builds using the same server, so only wall time is
/// printed. Cold, a fourth variant builds our package with <c>XenPreemptUseReadyToRun=false</c>: the IL analyzer,
/// JIT-compiled in every fresh compiler, against the ReadyToRun image the package gives the SDK's RID by default.
/// One extra build with <c>-p:ReportAnalyzer=true</c> per code size reports each analyzer's own time
/// (summed wall time of its callbacks), for reference. Everything lives in a temporary directory, deleted at the end.
/// </summary>
internal static class BuildOverhead
{
    private const string OurRule = "XPA0001";
    private static readonly string[] PeerRules = { "CA2000", "CA1416" };

    public static int Run(Options options)
    {
        var root = RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("xpa-build-overhead-").FullName;
        try
        {
            Console.WriteLine($"Working in {work}");
            var feed = Path.Combine(work, "feed");
            Dotnet(root, $"pack \"{Path.Combine(root, "src", "XenPreemptAnalyzers.Package")}\" -c Release -o \"{feed}\" -nologo -v:q");
            var version = PackageVersion(feed);
            WriteSharedFiles(work);

            var rows = new List<Row>();
            foreach (var kind in options.Kinds)
            {
                foreach (var files in options.Files)
                    rows.Add(Measure(work, kind, files, version, options));
            }
            Print(rows, options);
            return 0;
        }
        finally
        {
            if (options.Keep)
                Console.WriteLine($"Kept {work}");
            else
                Directory.Delete(work, recursive: true);
        }
    }

    private static Row Measure(string work, CodeKind kind, int files, string version, Options options)
    {
        var name = $"{InProcessMeasurements.Spell(kind)}-{files}";
        var sources = Path.Combine(work, name, "src");
        foreach (var source in KernelCodeGenerator.Generate(kind, files))
        {
            var path = Path.Combine(sources, source.Path);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, source.Text);
        }
        var projects = new Dictionary<Variant, string>
        {
            [Variant.None] = WriteProject(Path.Combine(work, name, "none"), Variant.None, version),
            [Variant.Xpa] = WriteProject(Path.Combine(work, name, "xpa"), Variant.Xpa, version),
            [Variant.Peers] = WriteProject(Path.Combine(work, name, "peers"), Variant.Peers, version),
        };
        // The first-use JIT the ReadyToRun image saves shows only in a fresh compiler process.
        if (!options.WarmServer)
            projects[Variant.XpaIL] = WriteProject(Path.Combine(work, name, "xpa-il"), Variant.XpaIL, version);
        foreach (var project in projects.Values)
            Dotnet(work, $"restore \"{project}\" -nologo -v:q");

        var timings = projects.Keys.ToDictionary(v => v, _ => new List<BuildTiming>());
        // One warm-up round (disk cache, the server if warm), then the variants in turn, so drift hits all alike.
        for (var run = -1; run < options.Runs; run++)
        {
            foreach (var (variant, project) in projects)
            {
                var timing = TimedBuild(project, options.WarmServer);
                if (run >= 0)
                    timings[variant].Add(timing);
            }
            if (run >= 0)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {name} run {run + 1}: CPU {timings[Variant.None][^1].CpuSeconds:F2} s none, {timings[Variant.Xpa][^1].CpuSeconds:F2} s XPA, {timings[Variant.Peers][^1].CpuSeconds:F2} s CA2000+CA1416{(timings.TryGetValue(Variant.XpaIL, out var il) ? string.Create(CultureInfo.InvariantCulture, $", {il[^1].CpuSeconds:F2} s XPA IL") : "")} (load {HarnessThroughput.LoadAverage()})"));
        }
        // For reference, not timed: each analyzer's own time in one ReportAnalyzer build of each analysed variant.
        var xpaReport = ReportBuild(projects[Variant.Xpa], Path.Combine(work, $"{name}-xpa-report.log"));
        var peersReport = ReportBuild(projects[Variant.Peers], Path.Combine(work, $"{name}-peers-report.log"));
        return new Row(kind, files, timings, xpaReport, peersReport);
    }

    /// <summary>
    /// The project: sources from ../src; our package only in the XPA variants (the IL one opted out of the
    /// ReadyToRun image), NetAnalyzers only in the peers'.
    /// </summary>
    private static string WriteProject(string directory, Variant variant, string version)
    {
        Directory.CreateDirectory(directory);
        var reference = variant is not (Variant.Xpa or Variant.XpaIL)
            ? ""
            : $"""
                <PropertyGroup>
                  <XenPreemptUseReadyToRun>{(variant == Variant.Xpa ? "true" : "false")}</XenPreemptUseReadyToRun>
                </PropertyGroup>
                <ItemGroup>
                  <PackageReference Include="XenPreemptAnalyzers" Version="{version}" PrivateAssets="all" />
                </ItemGroup>
              """;
        var netAnalyzers = variant == Variant.Peers ? "true" : "false";
        var project = Path.Combine(directory, "Generated.csproj");
        File.WriteAllText(project, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>disable</ImplicitUsings>
                <Nullable>disable</Nullable>
                <EnableDefaultCompileItems>false</EnableDefaultCompileItems>
                <GenerateDocumentationFile>false</GenerateDocumentationFile>
                <EnableNETAnalyzers>{netAnalyzers}</EnableNETAnalyzers>
                <AnalysisMode>None</AnalysisMode>
              </PropertyGroup>
              <ItemGroup>
                <Compile Include="../src/**/*.cs" />
              </ItemGroup>
            {reference}
            </Project>
            """);
        return project;
    }

    /// <summary>nuget.config (only the temporary feed, a private package folder), .editorconfig (the peers' rules on).</summary>
    private static void WriteSharedFiles(string work)
    {
        File.WriteAllText(Path.Combine(work, "nuget.config"), """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="packages" />
              </config>
              <packageSources>
                <clear />
                <add key="feed" value="feed" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(work, ".editorconfig"), """
            root = true

            [*.cs]
            dotnet_diagnostic.CA2000.severity = warning
            dotnet_diagnostic.CA1416.severity = warning
            """);
        // Keep the surroundings of the temporary directory out of the build.
        File.WriteAllText(Path.Combine(work, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(work, "Directory.Build.targets"), "<Project />\n");
        File.WriteAllText(Path.Combine(work, "Directory.Packages.props"), "<Project />\n");
    }

    /// <summary>A build without ReportAnalyzer: its CPU (this program's waited-for children, MSBuild and csc) and wall time.</summary>
    private static BuildTiming TimedBuild(string project, bool warmServer)
    {
        var server = warmServer ? "-p:UseSharedCompilation=true" : "-p:UseSharedCompilation=false -m:1 -nodeReuse:false";
        var cpuBefore = ChildrenCpu.Seconds();
        var wall = Stopwatch.StartNew();
        Dotnet(Path.GetDirectoryName(project)!, $"build \"{project}\" -c Release --no-restore --no-incremental -nologo -v:q {server}");
        return new BuildTiming(ChildrenCpu.Seconds() - cpuBefore, wall.Elapsed.TotalSeconds);
    }

    private static BuildReport ReportBuild(string project, string log)
    {
        Dotnet(Path.GetDirectoryName(project)!,
            $"build \"{project}\" -c Release --no-restore --no-incremental -nologo -noconlog -p:ReportAnalyzer=true \"-flp:verbosity=detailed;performancesummary;logfile={log}\"");
        return BuildReport.Parse(File.ReadAllText(log));
    }

    private static void Print(List<Row> rows, Options options)
    {
        Console.WriteLine();
        var how = options.WarmServer ? "warm compiler server (wall time only: the server's CPU is shared)" : "cold: csc in a fresh process per build (UseSharedCompilation=false, -m:1)";
        Console.WriteLine($"{options.Runs} builds of each variant, interleaved after one warm-up round; `dotnet build -c Release --no-incremental`, {how}; load {HarnessThroughput.LoadAverage()} at the end.");
        Console.WriteLine();
        var measure = options.WarmServer ? "wall s" : "CPU s";
        Console.WriteLine($"| code | files | no analyzers: {measure} min / median / max | XPA alone: {measure} | ratio | CA2000+CA1416: {measure} | ratio | XPA / (CA2000+CA1416) | ReportAnalyzer: XPA, CA2000, CA1416 (ms) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        var ilRows = new List<string>();
        foreach (var row in rows)
        {
            double Value(BuildTiming t) => options.WarmServer ? t.WallSeconds : t.CpuSeconds;
            string Spread(Variant v)
            {
                var values = row.Timings[v].Select(Value).ToList();
                return string.Create(CultureInfo.InvariantCulture, $"{values.Min():F2} / {Median(values):F2} / {values.Max():F2}");
            }
            var none = Median(row.Timings[Variant.None].Select(Value));
            var xpa = Median(row.Timings[Variant.Xpa].Select(Value));
            var peers = Median(row.Timings[Variant.Peers].Select(Value));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {InProcessMeasurements.Spell(row.Kind)} | {row.Files} | {Spread(Variant.None)} | {Spread(Variant.Xpa)} | {xpa / none:F3} | {Spread(Variant.Peers)} | {peers / none:F3} | {(xpa - none) / Math.Max(1e-9, peers - none):F2} | {row.XpaReport.AnalyzerSeconds(OurRule) * 1000:F0}, {row.PeersReport.AnalyzerSeconds(PeerRules[0]) * 1000:F0}, {row.PeersReport.AnalyzerSeconds(PeerRules[1]) * 1000:F0} |"));
            if (row.Timings.ContainsKey(Variant.XpaIL))
            {
                var il = Median(row.Timings[Variant.XpaIL].Select(Value));
                ilRows.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {InProcessMeasurements.Spell(row.Kind)} | {row.Files} | {Spread(Variant.None)} | {Spread(Variant.XpaIL)} | {il / none:F3} | {(il - none) / none * 100:F2} % | {Spread(Variant.Xpa)} | {xpa / none:F3} | {(xpa - none) / none * 100:F2} % |"));
            }
        }
        if (ilRows.Count == 0)
            return;
        // The same builds: our package's IL (XenPreemptUseReadyToRun=false) against its default, the image of the SDK's RID.
        Console.WriteLine();
        Console.WriteLine($"| code | files | no analyzers: {measure} min / median / max | XPA, IL (opt-out): {measure} | ratio | extra | XPA, ReadyToRun (default): {measure} | ratio | extra |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var line in ilRows)
            Console.WriteLine(line);
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0)
            return double.NaN;
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static string PackageVersion(string feed)
    {
        var package = Directory.GetFiles(feed, "XenPreemptAnalyzers.*.nupkg").Single();
        return Path.GetFileNameWithoutExtension(package)["XenPreemptAnalyzers.".Length..];
    }

    /// <summary>The checkout: the directory holding XenPreemptAnalyzers.sln above this program's output, or else above the current directory.</summary>
    internal static string RepositoryRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "XenPreemptAnalyzers.sln")))
                    return directory.FullName;
            }
        }
        throw new InvalidOperationException($"XenPreemptAnalyzers.sln not found above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}");
    }

    private static void Dotnet(string workingDirectory, string arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"dotnet {arguments} exited {process.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
    }

    internal sealed record Options(IReadOnlyList<CodeKind> Kinds, IReadOnlyList<int> Files, int Runs, bool Keep, bool WarmServer);

    private enum Variant { None, Xpa, Peers, XpaIL }

    private sealed record BuildTiming(double CpuSeconds, double WallSeconds);

    private sealed record Row(CodeKind Kind, int Files, Dictionary<Variant, List<BuildTiming>> Timings, BuildReport XpaReport, BuildReport PeersReport);

    /// <summary>CPU time of this process's terminated, waited-for children and their waited-for descendants (getrusage).</summary>
    private static class ChildrenCpu
    {
        private const int RusageChildren = -1;

        public static double Seconds()
        {
            if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
                throw new PlatformNotSupportedException("build-overhead reads children's CPU with getrusage (Linux, macOS)");
            if (GetRusage(RusageChildren, out var usage) != 0)
                throw new InvalidOperationException("getrusage failed");
            return usage.UserSeconds + usage.UserMicroseconds / 1e6 + usage.SystemSeconds + usage.SystemMicroseconds / 1e6;
        }

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getrusage", SetLastError = true)]
        private static extern int GetRusage(int who, out Rusage usage);

        /// <summary>struct rusage on 64-bit Linux and macOS: two timevals, then fourteen longs.</summary>
        [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
        private struct Rusage
        {
            public long UserSeconds;
            public long UserMicroseconds;
            public long SystemSeconds;
            public long SystemMicroseconds;
            public long MaxRss, Ixrss, Idrss, Isrss, Minflt, Majflt, Nswap, Inblock, Oublock, Msgsnd, Msgrcv, Nsignals, Nvcsw, Nivcsw;
        }
    }
}

/// <summary>What one build's detailed log says: the Csc task's time and ReportAnalyzer's per-analyzer times.</summary>
internal sealed partial class BuildReport
{
    private BuildReport(long cscMs, double totalAnalyzerSeconds, Dictionary<string, double> analyzerSeconds)
    {
        CscMs = cscMs;
        TotalAnalyzerSeconds = totalAnalyzerSeconds;
        AnalyzerSecondsById = analyzerSeconds;
    }

    public long CscMs { get; }

    public double TotalAnalyzerSeconds { get; }

    /// <summary>Each analyzer's time, under every diagnostic id it reports.</summary>
    public IReadOnlyDictionary<string, double> AnalyzerSecondsById { get; }

    /// <summary>The time of the analyzer that reports <paramref name="id"/>; 0 when it did not run.</summary>
    public double AnalyzerSeconds(string id) => AnalyzerSecondsById.TryGetValue(id, out var seconds) ? seconds : 0;

    // "      1234 ms  Csc                                        1 calls" (the task performance summary)
    [GeneratedRegex(@"^\s*(\d+) ms\s+Csc\s+\d+ calls", RegexOptions.Multiline)]
    private static partial Regex CscTask();

    // "Total analyzer execution time: 0.392 seconds."
    [GeneratedRegex(@"Total analyzer execution time: ([\d.]+) seconds")]
    private static partial Regex TotalAnalyzers();

    // "   0.008    2      Demo.Analyzers.CondReschedAnalyzer (DEMO001)": seconds, percent, type, ids
    [GeneratedRegex(@"^\s*([\d.]+)\s+(?:<?\d+)\s+[\w.+`]+ \(([A-Z]+\d+(?:, [A-Z]+\d+)*)\)\s*$", RegexOptions.Multiline)]
    private static partial Regex AnalyzerRow();

    public static BuildReport Parse(string log)
    {
        var csc = CscTask().Match(log);
        if (!csc.Success)
            throw new InvalidOperationException("no Csc task time in the build log (performance summary missing?)");
        var total = TotalAnalyzers().Match(log);
        if (!total.Success)
            throw new InvalidOperationException("no 'Total analyzer execution time' in the build log (ReportAnalyzer not applied?)");

        var byId = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (Match row in AnalyzerRow().Matches(log))
        {
            var seconds = double.Parse(row.Groups[1].Value, CultureInfo.InvariantCulture);
            foreach (var id in row.Groups[2].Value.Split(", "))
                byId[id] = byId.TryGetValue(id, out var existing) ? Math.Max(existing, seconds) : seconds;
        }
        return new BuildReport(
            long.Parse(csc.Groups[1].Value, CultureInfo.InvariantCulture),
            double.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture),
            byId);
    }
}
