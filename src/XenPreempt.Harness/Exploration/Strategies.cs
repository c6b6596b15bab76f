// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Linq;
using XenPreempt.Machine;

namespace XenPreempt.Harness.Exploration;

/// <summary>
/// A search strategy: decides every choice of one schedule (one run of the machine), learns from
/// it, and says whether there is another schedule to try.
/// </summary>
public interface IStrategy
{
    string Name { get; }

    /// <summary>Prepares the next schedule; false when the strategy has nothing left to try.</summary>
    bool Next();

    /// <summary>The oracle for the schedule just prepared.</summary>
    IChoiceOracle Oracle { get; }

    /// <summary>True when the search space (within the strategy's bounds) has been covered.</summary>
    bool Exhausted { get; }

    /// <summary>A one-word description of the bound in force (for the report).</summary>
    string Bound { get; }
}

/// <summary>
/// Stateless depth-first search with a preemption bound (CHESS): every schedule re-executes from
/// boot, following the choice stack's prefix and taking defaults after it; backtracking flips the
/// deepest choice that still has an untried alternative within the bound. A preemption is picking a
/// vCPU other than the default one at a NextCpu choice, except when the stepping vCPU is halting
/// (switching away from an idle CPU is free). Injections and data choices (wake-up placement,
/// migration) are not preemptions: the machine's injection budgets bound them.
/// </summary>
public sealed class DfsStrategy : IStrategy, IChoiceOracle
{
    private sealed class Frame
    {
        public ChoiceKind Kind;
        public int Options;
        public int Default;
        public int Chosen;
        public bool CostsPreemption;
        public int Tried; // alternatives tried so far, in the order default, 0, 1, … skipping the default
    }

    private readonly List<Frame> _stack = new();
    private readonly int _bound;
    private int _depth;
    private bool _started;

    public DfsStrategy(int preemptionBound) => _bound = preemptionBound;

    public string Name => "dfs";
    public string Bound => $"b={_bound}";
    public IChoiceOracle Oracle => this;
    public bool Exhausted { get; private set; }

    public bool Next()
    {
        if (!_started)
        {
            _started = true;
            _depth = 0;
            return true;
        }
        // Backtrack: drop frames past the deepest one with an alternative left.
        while (_stack.Count > 0)
        {
            var top = _stack[^1];
            if (AdvanceAlternative(top, PreemptionsBelow(_stack.Count - 1)))
            {
                _depth = 0;
                return true;
            }
            _stack.RemoveAt(_stack.Count - 1);
        }
        Exhausted = true;
        return false;
    }

    public int Choose(in Choice choice)
    {
        if (_depth < _stack.Count)
        {
            var f = _stack[_depth++];
            if (f.Kind != choice.Kind || f.Options != choice.Options)
                throw new ReplayDivergenceException($"nondeterminism: dfs replay diverged at choice {_depth - 1}: expected {f.Kind}/{f.Options}, got {choice.Kind}/{choice.Options} at {choice.Site}");
            return f.Chosen;
        }
        // Scheduling choices cost budget when they depart from the default: another vCPU than the one
        // that would continue (except at a halt: switching away from an idle vCPU is free), a task not
        // pulled or pulled from elsewhere, a wake-up placed elsewhere. Injections have their own budget.
        bool costs = choice.Kind switch
        {
            ChoiceKind.NextCpu => choice.Site != "halt",
            ChoiceKind.Migrate or ChoiceKind.WakeCpu => true,
            _ => false,
        };
        _stack.Add(new Frame { Kind = choice.Kind, Options = choice.Options, Default = choice.Default, Chosen = choice.Default, CostsPreemption = costs });
        _depth++;
        return choice.Default;
    }

    private int PreemptionsBelow(int index)
    {
        int n = 0;
        for (int i = 0; i < index; i++)
            if (_stack[i].CostsPreemption && _stack[i].Chosen != _stack[i].Default)
                n++;
        return n;
    }

    private bool AdvanceAlternative(Frame f, int preemptionsBelow)
    {
        // A non-default pick of a preemption-costing choice needs budget left.
        if (f.CostsPreemption && preemptionsBelow + 1 > _bound)
            return false;
        while (++f.Tried < f.Options)
        {
            int candidate = f.Tried - 1 < f.Default ? f.Tried - 1 : f.Tried; // every index but the default
            if (candidate == f.Default)
                continue;
            f.Chosen = candidate;
            return true;
        }
        return false;
    }
}

/// <summary>
/// Uniform random choices, one seed per schedule (seed, seed+1, …), rare injections. Schedule k is a pure
/// function of (seed, k), so shards can each run every n-th schedule (<see cref="ISeekableStrategy"/>).
/// </summary>
public sealed class RandomStrategy : ISeekableStrategy
{
    private readonly ulong _seed;
    private readonly double _injection;
    private ulong _schedule;

    public RandomStrategy(ulong seed, double injectionProbability = 0.01)
    {
        _seed = seed;
        _injection = injectionProbability;
    }

    public string Name => "random";
    public string Bound => "-";
    public IChoiceOracle Oracle { get; private set; } = DefaultOracle.Instance;
    public bool Exhausted => false;

    public bool Next()
    {
        Oracle = new RandomOracle(_seed + _schedule++, _injection);
        return true;
    }

    public void PrepareSchedule(long schedule)
    {
        if (schedule < 1)
            throw new ArgumentOutOfRangeException(nameof(schedule), schedule, "schedules count from 1");
        _schedule = (ulong)schedule;
        Oracle = new RandomOracle(_seed + (ulong)(schedule - 1), _injection);
    }
}

/// <summary>
/// PCT (Burckhardt et al.): random distinct priorities per vCPU, d-1 priority change points at random
/// NextCpu choices in [1, k], where k is the longest schedule seen so far; at each NextCpu choice the
/// highest-priority vCPU runs. Injections are rare Bernoulli choices; data choices are random.
/// </summary>
public sealed class PctStrategy : IStrategy
{
    /// <summary>vCPU ids a priority can be drawn for: the machine's limit (a NextCpu choice's candidate mask is 64 bits).</summary>
    public const int MaxCpus = 64;

    private readonly int _depth;
    private readonly double _injection;
    private ulong _rng;
    private int _longest = 64;

    public PctStrategy(ulong seed, int depth = 3, double injectionProbability = 0.01)
    {
        _rng = seed ^ 0x5DEECE66DUL;
        _depth = Math.Max(1, depth);
        _injection = injectionProbability;
    }

    public string Name => "pct";
    public string Bound => $"d={_depth}";
    public IChoiceOracle Oracle => _oracle!;
    public bool Exhausted => false;
    private PctOracle? _oracle;

    public bool Next()
    {
        if (_oracle is not null)
            _longest = Math.Max(_longest, _oracle.NextCpuChoices);
        // Distinct priorities: a random permutation of 1..64 over the vCPU ids (Fisher-Yates).
        var priorities = new int[MaxCpus];
        for (int i = 0; i < MaxCpus; i++)
            priorities[i] = i + 1;
        for (int i = MaxCpus - 1; i > 0; i--)
        {
            int j = (int)(NextRandom() % (ulong)(i + 1));
            (priorities[i], priorities[j]) = (priorities[j], priorities[i]);
        }
        var changePoints = new SortedSet<int>();
        while (changePoints.Count < _depth - 1 && changePoints.Count < _longest)
            changePoints.Add(1 + (int)(NextRandom() % (ulong)_longest));
        _oracle = new PctOracle(priorities, changePoints, new RandomOracle(NextRandom(), _injection));
        return true;
    }

    private ulong NextRandom()
    {
        ulong z = _rng += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>
/// One PCT schedule: at each NextCpu choice the candidate vCPU with the highest priority steps; at
/// the change points (counted in NextCpu choices from 1) the stepping vCPU drops below every other.
/// Priorities belong to vCPU ids — the choice's candidates — never to option indexes, which shift
/// whenever a vCPU halts. Every other choice is the data oracle's.
/// </summary>
public sealed class PctOracle : IChoiceOracle
{
    private readonly int[] _priority;
    private readonly IReadOnlySet<int> _changePoints;
    private readonly IChoiceOracle _data;
    private int _lowest;

    /// <param name="priorities">Priority of each vCPU id (index); distinct and positive, higher runs first.</param>
    /// <param name="changePoints">NextCpu choice numbers (from 1) at which the stepping vCPU's priority drops.</param>
    /// <param name="data">Decides every choice that is not a NextCpu.</param>
    public PctOracle(IReadOnlyList<int> priorities, IReadOnlySet<int> changePoints, IChoiceOracle data)
    {
        _priority = priorities.ToArray();
        _changePoints = changePoints;
        _data = data;
    }

    public int NextCpuChoices { get; private set; }

    public int Choose(in Choice choice)
    {
        if (choice.Kind != ChoiceKind.NextCpu)
            return _data.Choose(choice);
        NextCpuChoices++;
        if (_changePoints.Contains(NextCpuChoices) && choice.Cpu >= 0)
            _priority[choice.Cpu] = --_lowest; // the stepping vCPU drops below everyone
        int best = 0;
        for (int option = 1; option < choice.Options; option++)
            if (_priority[choice.CpuOfOption(option)] > _priority[choice.CpuOfOption(best)])
                best = option;
        return best;
    }
}

/// <summary>Follows one recorded choice list (a token); reports divergence.</summary>
public sealed class ReplayStrategy : IStrategy
{
    private readonly IReadOnlyList<int> _choices;
    private bool _done;

    public ReplayStrategy(IReadOnlyList<int> choices) => _choices = choices;

    public string Name => "replay";
    public string Bound => "-";
    public IChoiceOracle Oracle { get; private set; } = DefaultOracle.Instance;
    public bool Exhausted => _done;

    public bool Next()
    {
        if (_done)
            return false;
        _done = true;
        Oracle = new ScriptedOracle(_choices);
        return true;
    }
}
