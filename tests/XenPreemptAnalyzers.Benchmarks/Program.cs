using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using XenPreemptAnalyzers.Benchmarks;
using XenPreemptAnalyzers.Performance;

// Modes: the BenchmarkDotNet suite (BenchmarkSwitcher's arguments), or one of the measurement commands.
// Usage errors print the usage and exit 1.
return args.FirstOrDefault() switch
{
    null or "help" or "--help" or "-h" => Usage(args.Length == 0 ? 1 : 0),
    "build-overhead" => Command(args, new() { ["--kind"] = "ordinary,dense", ["--files"] = "1000", ["--runs"] = "5", ["--server"] = "cold", ["--keep"] = null },
        o => BuildOverhead.Run(new BuildOverhead.Options(Kinds(o["--kind"]!), Numbers(o["--files"]!), Number(o["--runs"]!), o.ContainsKey("--keep"),
            o["--server"] switch { "cold" => false, "warm" => true, var other => throw new UsageException($"--server is cold or warm, not '{other}'") }))),
    "editor-latency" => Command(args, new() { ["--kind"] = "dense", ["--files"] = "1000", ["--samples"] = "50" },
        o => InProcessMeasurements.EditorLatency(Kinds(o["--kind"]!).Single(), Number(o["--files"]!), Number(o["--samples"]!))),
    "lightbulb-latency" => Command(args, new() { ["--files"] = "1000", ["--samples"] = "20" },
        o => LightBulbLatency.Run(Number(o["--files"]!), Number(o["--samples"]!))),
    "analyzer-time" => Command(args, new() { ["--kind"] = "ordinary,dense,many-branches,deep-nesting", ["--files"] = "250,500,1000", ["--runs"] = "5" },
        o => InProcessMeasurements.AnalyzerTime(Kinds(o["--kind"]!), Numbers(o["--files"]!), Number(o["--runs"]!))),
    "analysis-cost" => Command(args, new() { ["--kind"] = "dense", ["--files"] = "100", ["--runs"] = "5" },
        o => InProcessMeasurements.AnalysisCost(Kinds(o["--kind"]!).Single(), Number(o["--files"]!), Number(o["--runs"]!))),
    "harness-throughput" => Command(args, new() { ["--strategy"] = "dfs,pct,random", ["--variant"] = "ours", ["--config"] = "dynamic-full", ["--schedules"] = "2000", ["--runs"] = "3" },
        o => HarnessThroughput.Run(new HarnessThroughput.Options(o["--strategy"]!.Split(','), o["--variant"]!, o["--config"]!, Number(o["--schedules"]!), Number(o["--runs"]!)))),
    "corpus" => Command(args, new() { ["--path"] = "", ["--generated"] = "", ["--runs"] = "3", ["--name"] = "", ["--sets"] = CorpusRun.AllSets },
        o => CorpusRun.Run(new CorpusRun.Options(o["--path"]!, o["--generated"]!.Length > 0 ? o["--generated"] : null, Number(o["--runs"]!),
            o["--name"]!.Length > 0 ? o["--name"]! : o["--generated"]!.Length > 0 ? o["--generated"]! : o["--path"]!,
            Sets(o["--sets"]!)))),
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
    // BenchmarkDotNet's artifacts (generated projects, logs, reports) go to the temp directory, not the checkout.
    var config = DefaultConfig.Instance.WithArtifactsPath(Path.Combine(Path.GetTempPath(), "XenPreemptAnalyzers.Benchmarks.Artifacts"));
    var summaries = BenchmarkSwitcher.FromAssembly(typeof(CodeSizeBenchmarks).Assembly).Run(args, config);
    return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
}

// Parses "--name value" pairs (and value-less flags, given as null defaults) against the defaults; unknown
// options, missing or malformed values are usage errors.
static int Command(string[] args, Dictionary<string, string?> defaults, Func<Dictionary<string, string?>, int> run)
{
    var options = new Dictionary<string, string?>(defaults.Where(d => d.Value is not null), StringComparer.Ordinal);
    for (var i = 1; i < args.Length; i++)
    {
        if (!defaults.TryGetValue(args[i], out var value))
            return UsageError($"unknown option '{args[i]}' for {args[0]}");
        if (value is null)
        {
            options[args[i]] = "true";
            continue;
        }
        if (i + 1 >= args.Length)
            return UsageError($"{args[i]} needs a value");
        options[args[i]] = args[++i];
    }
    try
    {
        return run(options);
    }
    catch (UsageException usage)
    {
        return UsageError(usage.Message);
    }
}

static IReadOnlyList<CodeKind> Kinds(string text) => text.Split(',').Select(kind => kind switch
{
    "ordinary" => CodeKind.Ordinary,
    "dense" => CodeKind.Dense,
    "many-branches" => CodeKind.ManyBranches,
    "deep-nesting" => CodeKind.DeepNesting,
    "schedule" => CodeKind.OneSchedule,
    _ => throw new UsageException($"unknown kind '{kind}' (ordinary, dense, many-branches, deep-nesting, schedule)"),
}).ToList();

static IReadOnlyList<string> Sets(string text) => text.Split(',').Select(set =>
    CorpusRun.AllSets.Split(',').FirstOrDefault(known => string.Equals(known, set, StringComparison.OrdinalIgnoreCase))
        ?? throw new UsageException($"unknown analyzer set '{set}' ({CorpusRun.AllSets})")).ToList();

static IReadOnlyList<int> Numbers(string text) => text.Split(',').Select(Number).ToList();

static int Number(string text) =>
    int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
        ? value
        : throw new UsageException($"'{text}' is not a positive number");

static int UsageError(string message)
{
    Console.Error.WriteLine("error: " + message);
    return Usage(1);
}

static int Usage(int exitCode)
{
    var writer = exitCode == 0 ? Console.Out : Console.Error;
    writer.WriteLine("""
        usage: dotnet run -c Release --project tests/XenPreemptAnalyzers.Benchmarks -- <mode>

          --filter '*' [BenchmarkDotNet options]   the BenchmarkDotNet suite (e.g. --job short)
          build-overhead [--kind ordinary,dense,schedule] [--files 1000] [--runs 5] [--server cold|warm] [--keep]
                                                   builds a generated project with no analyzers, our package alone,
                                                   CA2000+CA1416 alone, interleaved: CPU min/median/max (cold) or wall (warm)
          editor-latency [--kind dense] [--files 1000] [--samples 50]
                                                   one-document analysis after an edit: median and p95
          lightbulb-latency [--files 1000] [--samples 20]
                                                   XPA0001's RegisterCodeFixesAsync (and the picked fix) after an edit
          analyzer-time [--kind ordinary,dense,many-branches,deep-nesting] [--files 250,500,1000] [--runs 5]
                                                   our analyzer's own time (driver telemetry) per kind and size
          corpus (--path <folder> | --generated ordinary:N|dense:N|schedule:N) [--runs 3] [--name label]
                 [--sets do-nothing,XPA,CA2000,CA1416]
                                                   any folder of sources (need not build) in-process: our diagnostics,
                                                   AD0001s, CPU beside the compiler alone, a do-nothing analyzer, CA2000, CA1416
          analysis-cost [--kind dense] [--files 100] [--runs 5]
                                                   ours beside an empty per-tree action: CPU and bytes allocated per run
          harness-throughput [--strategy dfs,pct,random] [--variant ours] [--config dynamic-full] [--schedules 2000] [--runs 3]
                                                   exploration schedules per CPU-second (steady state), bytes per step
        """);
    return exitCode;
}

/// <summary>A malformed option value.</summary>
internal sealed class UsageException(string message) : Exception(message);
