// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using XenPreempt.Machine;

namespace XenPreempt.Harness;

/// <summary>Everything one run produced.</summary>
public sealed record ScenarioResult(
    Scenario Scenario,
    string Variant,
    KernelConfig Config,
    string Cmdline,
    RunResult Run,
    IReadOnlyList<Violation> Violations,
    long MaxHypercallLatencyNs,
    ulong TraceHash,
    IReadOnlyList<TraceEntry> Trace,
    IReadOnlyList<string> Console,
    IReadOnlyList<ChoiceRecord> Choices)
{
    /// <summary>The faults the run was given (<see cref="FaultOptions"/> names).</summary>
    public IReadOnlyList<string> Faults { get; init; } = Array.Empty<string>();

    public bool Passed => Violations.Count == 0 && Run.Outcome == RunOutcome.Completed;
}

public static class ScenarioRunner
{
    /// <summary>The kernel command line a scenario boots with.</summary>
    public static string Cmdline(Scenario scenario, string variant, KernelConfig config)
    {
        var words = new List<string>();
        if (config.BootPreempt.Length > 0)
            words.Add("preempt=" + config.BootPreempt);
        words.Add("xen.variant=" + variant);
        if (scenario.Tasks.Length > 0)
            words.Add("tasks=" + scenario.Tasks);
        if (scenario.Boot.Length > 0)
            words.Add(scenario.Boot);
        return string.Join(' ', words);
    }

    /// <summary>
    /// Runs a scenario. With <paramref name="replay"/>, follows that choice list instead of the
    /// scenario's script; with <paramref name="seed"/>, decisions the script leaves open are seeded
    /// random (injections stay scripted).
    /// </summary>
    /// <param name="build">A build of the port to run instead of the configuration's own (e.g. after code fixes).</param>
    /// <param name="faults">
    /// Faults to inject (<see cref="FaultOptions"/> names): up to <see cref="FaultOptions.ScenarioBudget"/>
    /// of them, placed by a fault oracle seeded with <paramref name="seed"/> (1 if none); the script
    /// and the other decisions stay as they are.
    /// </param>
    public static ScenarioResult Run(Scenario scenario, string variant, KernelConfig config, ulong? seed = null, IReadOnlyList<int>? replay = null, PortBuild? build = null,
        IReadOnlyList<string>? faults = null)
    {
        if (!KernelConfigs.Supports(variant, config))
            throw new ArgumentException(KernelConfigs.UnsupportedReason(variant));
        // "ours~mutant" boots ours, compiled with the mutant; "name+fixes" boots name after the code fixes.
        build ??= UserWorkloads.UserWorkloadCatalog.BuildFor(scenario, config) ?? PortBuilder.ForVariant(config, variant);
        faults ??= Array.Empty<string>();
        string cmdline = Cmdline(FaultOptions.ApplyToWorkload(scenario, faults), Exploration.Mutants.Parse(variant).Variant, config);
        IChoiceOracle? fallback = seed is ulong s ? new RandomOracle(s, injectionProbability: 0) : null;
        if (faults.Count > 0)
            fallback = new FaultOracle(fallback ?? DefaultOracle.Instance, seed ?? 1, FaultOptions.ScenarioProbability);
        IChoiceOracle oracle = replay is not null ? new ScriptedOracle(replay) : scenario.Script(new RuleOracle(fallback));
        var machine = FaultOptions.ApplyToMachine(scenario.Machine, faults, FaultOptions.ScenarioBudget);
        var x = Exploration.Execution.Run(build, cmdline, machine, oracle);
        return new ScenarioResult(scenario, variant, config, cmdline, x.Run, x.Violations, x.MaxHypercallLatencyNs,
            x.TraceHash, x.Machine.Trace.Entries, x.Machine.Console, x.Choices) { Faults = faults };
    }
}
