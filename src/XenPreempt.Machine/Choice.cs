// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;

namespace XenPreempt.Machine;

/// <summary>What a choice decides. Every source of nondeterminism in a run is one of these.</summary>
public enum ChoiceKind : byte
{
    /// <summary>Which vCPU executes the next step.</summary>
    NextCpu,
    /// <summary>Whether an external (device) event is raised now, and on which vCPU.</summary>
    InjectEvent,
    /// <summary>Whether a tracing exception (int3/#DB) hits the stepping vCPU at a traceable site.</summary>
    InjectException,
    /// <summary>Which CPU a woken task is placed on.</summary>
    WakeCpu,
    /// <summary>Which task, if any, an idle CPU pulls from another run queue (load balancing).</summary>
    Migrate,
    /// <summary>How long a hypercall runs, in chunks.</summary>
    HypercallLength,
    /// <summary>Whether, and where, a fault strikes (only offered when faults are enabled: see <see cref="Faults"/>).</summary>
    InjectFault,
}

/// <summary>
/// One decision point: <paramref name="Options"/> alternatives, the one taken when nobody cares
/// (<paramref name="Default"/>), the vCPU it concerns and a human-readable site label. For a
/// <see cref="ChoiceKind.NextCpu"/> choice, <paramref name="Candidates"/> has one bit per vCPU id that
/// may step, and option k is the k-th of them in ascending id order (an option index is not a vCPU id:
/// a halted vCPU is not among the options).
/// </summary>
public readonly record struct Choice(ChoiceKind Kind, int Options, int Default, int Cpu, string Site, ulong Candidates = 0)
{
    /// <summary>The vCPU id a NextCpu option stands for.</summary>
    public int CpuOfOption(int option)
    {
        if (Candidates == 0 || (uint)option >= (uint)Options)
            throw new InvalidOperationException($"{Kind} at {Site}: option {option} of {Options} names no vCPU (candidates {Candidates:x})");
        ulong rest = Candidates;
        for (int i = 0; i < option; i++)
            rest &= rest - 1; // drop the lowest set bit
        return System.Numerics.BitOperations.TrailingZeroCount(rest);
    }

    /// <summary>The candidate mask of vCPU ids (each below 64).</summary>
    public static ulong MaskOf(ReadOnlySpan<int> cpus)
    {
        ulong mask = 0;
        foreach (int cpu in cpus)
            mask |= 1UL << cpu;
        return mask;
    }
}

/// <summary>The only source of nondeterminism: every strategy (random, scripted, DFS, PCT) is one.</summary>
public interface IChoiceOracle
{
    /// <summary>Returns an index in [0, choice.Options).</summary>
    int Choose(in Choice choice);
}

/// <summary>One recorded decision: enough to replay it and to detect divergence.</summary>
public readonly record struct ChoiceRecord(ChoiceKind Kind, int Options, int Index, int Default = 0);

/// <summary>Always takes the default: the machine's "nothing unusual happens" run.</summary>
public sealed class DefaultOracle : IChoiceOracle
{
    public static readonly DefaultOracle Instance = new();
    public int Choose(in Choice choice) => choice.Default;
}

/// <summary>
/// A seeded random oracle. Uses its own generator (SplitMix64), never System.Random, so a seed
/// gives the same run on every .NET version.
/// </summary>
public sealed class RandomOracle : IChoiceOracle
{
    private ulong _state;
    private readonly double _injectionProbability;

    public RandomOracle(ulong seed, double injectionProbability = 0.02)
    {
        _state = seed;
        _injectionProbability = injectionProbability;
    }

    public int Choose(in Choice choice)
    {
        if (choice.Options <= 1)
            return 0;
        // Injections and faults are rare events: a uniform pick would flood the run with them. Option
        // 0 is "nothing"; when something is injected, any of the other options is equally likely.
        if (choice.Kind is ChoiceKind.InjectEvent or ChoiceKind.InjectException or ChoiceKind.InjectFault)
            return NextDouble() < _injectionProbability ? 1 + (int)(Next() % (ulong)(choice.Options - 1)) : 0;
        return (int)(Next() % (ulong)choice.Options);
    }

    private ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));
}

/// <summary>
/// Follows a list of choices, one per decision in order; past its end it takes the defaults.
/// A scripted index outside the options at that point means the run diverged from the script.
/// </summary>
public sealed class ScriptedOracle : IChoiceOracle
{
    private readonly IReadOnlyList<int> _script;
    private int _next;

    public ScriptedOracle(IReadOnlyList<int> script) => _script = script;

    public int Choose(in Choice choice)
    {
        if (_next >= _script.Count)
            return choice.Default;
        int index = _script[_next++];
        if ((uint)index >= (uint)choice.Options)
            throw new ReplayDivergenceException(
                $"replay diverged at choice {_next - 1}: script says {index} but {choice.Kind} at {choice.Site} has {choice.Options} option(s)");
        return index;
    }
}

/// <summary>
/// A rule-based script: the first rule whose predicate matches a decision answers it; otherwise the
/// default. Scenarios are written this way ("when xl reaches the hypercall on CPU0, inject an
/// exception") and recorded as a plain choice list for replay.
/// </summary>
public sealed class RuleOracle : IChoiceOracle
{
    private readonly List<(Func<Choice, bool> When, Func<Choice, int> Then, int Remaining)> _rules = new();
    private readonly IChoiceOracle _fallback;

    /// <param name="fallback">Answers what no rule does; the machine's defaults if null.</param>
    public RuleOracle(IChoiceOracle? fallback = null) => _fallback = fallback ?? DefaultOracle.Instance;

    /// <summary>Adds a rule that fires at most <paramref name="times"/> times (0 = unlimited).</summary>
    public RuleOracle When(Func<Choice, bool> when, Func<Choice, int> then, int times = 1)
    {
        _rules.Add((when, then, times == 0 ? int.MaxValue : times));
        return this;
    }

    public int Choose(in Choice choice)
    {
        for (int i = 0; i < _rules.Count; i++)
        {
            var rule = _rules[i];
            if (rule.Remaining <= 0 || !rule.When(choice))
                continue;
            _rules[i] = (rule.When, rule.Then, rule.Remaining - 1);
            return rule.Then(choice);
        }
        return _fallback.Choose(choice);
    }
}

/// <summary>Wraps an oracle and records every decision it makes.</summary>
public sealed class RecordingOracle : IChoiceOracle
{
    private readonly IChoiceOracle _inner;
    public List<ChoiceRecord> Log { get; } = new();

    public RecordingOracle(IChoiceOracle inner) => _inner = inner;

    public int Choose(in Choice choice)
    {
        int index = _inner.Choose(choice);
        Log.Add(new ChoiceRecord(choice.Kind, choice.Options, index, choice.Default));
        return index;
    }
}

/// <summary>
/// Decides where faults strike (<see cref="ChoiceKind.InjectFault"/>) from its own seeded generator,
/// rarely; every other choice is the inner oracle's. A scripted scenario keeps its script and gets
/// seeded faults on top.
/// </summary>
public sealed class FaultOracle : IChoiceOracle
{
    private readonly IChoiceOracle _inner;
    private readonly RandomOracle _faults;

    public FaultOracle(IChoiceOracle inner, ulong seed, double probability)
    {
        _inner = inner;
        _faults = new RandomOracle(seed, probability);
    }

    public int Choose(in Choice choice) => choice.Kind == ChoiceKind.InjectFault ? _faults.Choose(choice) : _inner.Choose(choice);
}

/// <summary>A replay asked for a decision the run no longer offers.</summary>
public sealed class ReplayDivergenceException(string message) : Exception(message);
