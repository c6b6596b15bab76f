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
/// <c>build-overhead</c>: builds a generated project with <c>-p:ReportAnalyzer=true</c>, with and without our
/// package (packed from this checkout into a temporary feed, consumed as users consume it), with CA2000 and
/// CA1416 enabled on the same code through <c>.editorconfig</c>; prints the medians of the Csc task's time and
/// of each analyzer's time. Everything lives in a temporary directory, deleted at the end.
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
                    rows.Add(Measure(work, kind, files, version, options.Runs));
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

    private static Row Measure(string work, CodeKind kind, int files, string version, int runs)
    {
        var name = $"{InProcessMeasurements.Spell(kind)}-{files}";
        var sources = Path.Combine(work, name, "src");
        foreach (var source in KernelCodeGenerator.Generate(kind, files))
        {
            var path = Path.Combine(sources, source.Path);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, source.Text);
        }
        var with = WriteProject(Path.Combine(work, name, "with"), version);
        var without = WriteProject(Path.Combine(work, name, "without"), version: null);
        Dotnet(work, $"restore \"{with}\" -nologo -v:q");
        Dotnet(work, $"restore \"{without}\" -nologo -v:q");

        var withRuns = new List<BuildReport>();
        var withoutRuns = new List<BuildReport>();
        // One warm-up pair (compiler server, disk cache), then alternate so drift hits both sides alike.
        for (var run = -1; run < runs; run++)
        {
            var a = Build(with, Path.Combine(work, $"{name}-with-{run + 1}.log"));
            var b = Build(without, Path.Combine(work, $"{name}-without-{run + 1}.log"));
            if (run < 0)
                continue;
            withRuns.Add(a);
            withoutRuns.Add(b);
            Console.WriteLine($"  {name} run {run + 1}: Csc {a.CscMs} ms with ours ({a.AnalyzerSeconds(OurRule) * 1000:F0} ms in ours), {b.CscMs} ms without");
        }
        return new Row(kind, files, withRuns, withoutRuns);
    }

    /// <summary>The project: sources from ../src, our package only in the "with" variant.</summary>
    private static string WriteProject(string directory, string? version)
    {
        Directory.CreateDirectory(directory);
        var reference = version is null
            ? ""
            : $"""
                <ItemGroup>
                  <PackageReference Include="XenPreemptAnalyzers" Version="{version}" PrivateAssets="all" />
                </ItemGroup>
              """;
        var project = Path.Combine(directory, "Generated.csproj");
        File.WriteAllText(project, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>disable</ImplicitUsings>
                <Nullable>disable</Nullable>
                <EnableDefaultCompileItems>false</EnableDefaultCompileItems>
                <GenerateDocumentationFile>false</GenerateDocumentationFile>
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

    private static BuildReport Build(string project, string log)
    {
        Dotnet(Path.GetDirectoryName(project)!,
            $"build \"{project}\" -c Release --no-restore --no-incremental -nologo -noconlog -p:ReportAnalyzer=true \"-flp:verbosity=detailed;performancesummary;logfile={log}\"");
        return BuildReport.Parse(File.ReadAllText(log));
    }

    private static void Print(List<Row> rows, Options options)
    {
        Console.WriteLine();
        Console.WriteLine($"Medians of {options.Runs} builds each (after one warm-up pair); `dotnet build -c Release --no-incremental -p:ReportAnalyzer=true`.");
        Console.WriteLine();
        Console.WriteLine("| code | files | Csc without ours (ms) | Csc with ours (ms) | ratio | XPA (ms) | XPA % of Csc | CA2000 (ms) | CA1416 (ms) | all analyzers (ms) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            var without = Median(row.Without.Select(r => (double)r.CscMs));
            var with = Median(row.With.Select(r => (double)r.CscMs));
            var ours = Median(row.With.Select(r => r.AnalyzerSeconds(OurRule) * 1000));
            var ca2000 = Median(row.With.Select(r => r.AnalyzerSeconds(PeerRules[0]) * 1000));
            var ca1416 = Median(row.With.Select(r => r.AnalyzerSeconds(PeerRules[1]) * 1000));
            var total = Median(row.With.Select(r => r.TotalAnalyzerSeconds * 1000));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {InProcessMeasurements.Spell(row.Kind)} | {row.Files} | {without:F0} | {with:F0} | {with / without:F3} | {ours:F0} | {100 * ours / with:F2} % | {ca2000:F0} | {ca1416:F0} | {total:F0} |"));
        }
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

    internal sealed record Options(IReadOnlyList<CodeKind> Kinds, IReadOnlyList<int> Files, int Runs, bool Keep);

    private sealed record Row(CodeKind Kind, int Files, List<BuildReport> With, List<BuildReport> Without);
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
