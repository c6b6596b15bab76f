// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using XenPreempt.Harness.UserWorkloads;
using XenPreempt.Machine;

namespace XenPreempt.Harness;

/// <summary>The xen-harness command line. Exit codes: 0 ok, 1 usage, 2 violation, 3 internal error.</summary>
public static partial class Program
{
    public const int ExitOk = 0, ExitUsage = 1, ExitViolation = 2, ExitInternal = 3;

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        // Anything a command lets escape is a bug of ours, not of the user's input: exit 3, never
        // System.CommandLine's default handler (which would exit 1, as for a usage error).
        try
        {
            var root = BuildCommand(stdout, stderr, args.Length > 0 ? args[0] : null);
            var parse = root.Parse(args);
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            stderr.WriteLine($"xen-harness: internal error: {e.GetType().Name}: {e.Message}");
            if (Environment.GetEnvironmentVariable("XEN_HARNESS_DEBUG") == "1") stderr.WriteLine(e);
            return ExitInternal;
        }
    }

    /// <summary>
    /// The command line. Only the command being run is built in full (some need the port's variant names,
    /// which need a build of the port); the others are their name and description, for the root's help and
    /// its "did you mean". So <c>--help</c>, <c>list</c> and usage errors do no work they do not need.
    /// </summary>
    private static RootCommand BuildCommand(TextWriter stdout, TextWriter stderr, string? invoked)
    {
        var root = new RootCommand("xen-harness: runs the reference port of the Linux Xen hypercall/upcall path on a deterministic simulated multi-CPU machine.");
        var commands = new (string Name, string Description, Func<Command> Build)[]
        {
            ("scenario", ScenarioDescription, () => ScenarioCommand(stdout, stderr)),
            ("explore", ExploreDescription, () => ExploreCommand(stdout, stderr)),
            ("replay", ReplayDescription, () => ReplayCommand(stdout, stderr)),
            ("minimize", MinimizeDescription, () => MinimizeCommand(stdout, stderr)),
            ("merge", MergeDescription, () => MergeCommand(stdout, stderr)),
            ("selftest", SelftestDescription, () => SelftestCommand(stdout)),
            ("agreement", AgreementDescription, () => AgreementCommand(stdout, stderr)),
            ("list", ListDescription, () => ListCommand(stdout)),
        };
        foreach (var (name, description, build) in commands)
            root.Subcommands.Add(name == invoked ? build() : new Command(name, description));
        // No command at all: say so on one line (System.CommandLine would add a second line for
        // whatever else was given), with the usage.
        root.SetAction(pr => UsageError(pr, stderr, $"xen-harness: give a command ({string.Join(", ", root.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))})"));
        return root;
    }

    private const string ScenarioDescription = "Run one named failure scenario and print its per-CPU trace and verdict.";
    private const string ListDescription = "List scenarios, variants and configurations.";
    private const string AgreementDescription = "Static ⇄ dynamic agreement: the analyzers and the explorer on the same builds of the port (see 'agreement --help').";

    private static Command ScenarioCommand(TextWriter stdout, TextWriter stderr)
    {
        var assembly = AssemblyOption();
        var name = OneOfUnlessAssembly(new Argument<string>("name") { Description = "Scenario: " + string.Join(", ", Scenarios.All.Select(s => s.Name)) + "; with --assembly, a workload of yours (run with the machine's default choices)." }, Scenarios.All.Select(s => s.Name).ToArray(), assembly);
        var variant = OneOf(new Option<string>("--variant") { Description = "Variant of the path (names: 'list').", Required = true }, VariantNames, "variant");
        var config = OneOf(new Option<string>("--config") { Description = "Kernel configuration (see 'list').", Required = true }, KernelConfigs.All.Select(c => c.Name).ToArray());
        var seed = OptionalSeed("Seed for the decisions the scenario's script leaves open (and, with --faults, for where faults strike; default 1).");
        var verbose = new Option<bool>("--verbose") { Description = "Print every trace row, not only the last ones." };
        var rows = IntOption("--rows", "Trace rows to print (default 40).", 40, 1, int.MaxValue);
        var faults = FaultsOption();

        var scenario = new Command("scenario", ScenarioDescription);
        scenario.Arguments.Add(name);
        scenario.Options.Add(variant);
        scenario.Options.Add(config);
        scenario.Options.Add(seed);
        scenario.Options.Add(verbose);
        scenario.Options.Add(rows);
        scenario.Options.Add(faults);
        scenario.Options.Add(assembly);
        scenario.SetAction(pr =>
        {
            string scenarioName = pr.GetValue(name)!;
            if (!TryOpenAssembly(pr.GetValue(assembly), out var user, out string problem))
                return UsageError(pr, stderr, problem);
            if (user is not null)
            {
                if (PickUserWorkload(user, scenarioName, out problem) is not Scenario mine)
                    return UsageError(pr, stderr, problem);
                if (!UserWorkloadCatalog.AcceptsVariant(pr.GetValue(variant)!))
                    return UsageError(pr, stderr, $"--variant: '{pr.GetValue(variant)}' rebuilds the port; with --assembly give the port's own variants");
                scenarioName = mine.Name;
            }
            return RunScenario(stdout, stderr, scenarioName, pr.GetValue(variant)!, pr.GetValue(config)!,
                pr.GetValue(seed), pr.GetValue(verbose) ? 0 : pr.GetValue(rows), ParseFaults(pr.GetValue(faults)));
        });
        return scenario;
    }

    private static Command ListCommand(TextWriter stdout)
    {
        var list = new Command("list", ListDescription);
        list.SetAction(_ => ListAll(stdout));
        return list;
    }

    // The variant names come from the port itself (any build lists them all).
    private static string[] VariantNames() => PortBuilder.Get(KernelConfigs.All[0]).Variants.Select(v => v.Name).ToArray();

    private static int ListAll(TextWriter o)
    {
        o.WriteLine("Scenarios:");
        foreach (var s in Scenarios.All)
            o.WriteLine($"  {s.Name,-6} {s.Title}");
        o.WriteLine("Variants:");
        foreach (var (n, m) in PortBuilder.Get(KernelConfigs.All[0]).Variants)
            o.WriteLine($"  {n,-16} {m}");
        o.WriteLine("Seeded mutants of our fix (explore --variant ours~<name>):");
        foreach (var m in Exploration.Mutants.All)
            o.WriteLine($"  {m.Variant,-26} {m.Mistake} (expect {m.ExpectedInvariant})");
        o.WriteLine("Configurations:");
        foreach (var c in KernelConfigs.All)
            o.WriteLine($"  {c.Name,-18} {c.Description}");
        o.WriteLine("Faults (--faults):");
        foreach (var f in FaultOptions.All.Where(f => !f.Hidden))
            o.WriteLine($"  {f.Name,-18} {f.Description}");
        return ExitOk;
    }

    private static int RunScenario(TextWriter o, TextWriter err, string name, string variant, string configName, ulong? seed, int rows, IReadOnlyList<string> faults)
    {
        var scenario = Exploration.Workloads.Find(name)!;
        var config = KernelConfigs.Find(configName)!;
        if (!KernelConfigs.Supports(variant, config))
        {
            o.WriteLine($"scenario {name}: variant {variant} has no configuration '{configName}': {KernelConfigs.UnsupportedReason(variant)}");
            return ExitOk;
        }
        ScenarioResult r;
        try
        {
            r = ScenarioRunner.Run(scenario, variant, config, seed, faults: faults);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            err.WriteLine($"xen-harness: internal error: {e.GetType().Name}: {e.Message}");
            if (Environment.GetEnvironmentVariable("XEN_HARNESS_DEBUG") == "1") err.WriteLine(e);
            return ExitInternal;
        }
        Print(o, r, rows);
        if (r.Run.Outcome == RunOutcome.InternalError)
            return ExitInternal;
        return r.Violations.Count > 0 ? ExitViolation : ExitOk;
    }

    internal static void Print(TextWriter o, ScenarioResult r, int rows)
    {
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine($"scenario {r.Scenario.Name}: {r.Scenario.Title}");
        o.WriteLine($"  {r.Scenario.Description}");
        o.WriteLine($"variant  {r.Variant}");
        o.WriteLine($"config   {r.Config.Name}: {r.Config.Description} [{string.Join(' ', r.Config.Symbols)}]");
        o.WriteLine($"cmdline  {r.Cmdline}");
        if (r.Faults.Count > 0)
            o.WriteLine($"faults   {string.Join(", ", r.Faults)}");
        o.WriteLine();
        TraceTable.Write(o, r.Trace, r.Violations.Select(v => v.Step).ToHashSet(), rows);
        o.WriteLine();
        o.WriteLine("console:");
        foreach (var line in r.Console)
            o.WriteLine("  " + line);
        o.WriteLine();
        o.WriteLine($"outcome  {r.Run.Outcome} after {r.Run.Steps.ToString(inv)} steps, {(r.Run.TimeNs / 1_000_000.0).ToString("F1", inv)} ms simulated{(r.Run.Message is null ? "" : ": " + r.Run.Message)}");
        o.WriteLine($"max hypercall latency  {(r.MaxHypercallLatencyNs / 1_000_000.0).ToString("F1", inv)} ms after need_resched");
        o.WriteLine($"choices  {r.Choices.Count.ToString(inv)} decisions; trace hash {r.TraceHash:x16}");
        if (r.Run.Outcome == RunOutcome.InternalError)
        {
            o.WriteLine($"verdict  INTERNAL ERROR: {r.Run.Message} (the trace above is the run up to it)");
            return;
        }
        if (r.Violations.Count == 0)
        {
            o.WriteLine("verdict  OK: no invariant violated");
            return;
        }
        o.WriteLine($"verdict  VIOLATION ({r.Violations.Count.ToString(inv)})");
        foreach (var v in r.Violations)
            o.WriteLine($"  [{v.Invariant}] at step {v.Step.ToString(inv)} ({(v.TimeNs / 1_000_000.0).ToString("F3", inv)} ms): {v.Message}");
    }
}
