// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;

namespace XenPreempt.Machine;

/// <summary>
/// A property of one run, judged from the event log alone (as Jepsen checks a history): it sees every
/// <see cref="TraceEntry"/> as it is recorded, with its typed <see cref="TraceEntry.Event"/> and every
/// vCPU's state, and calls <see cref="Fail"/> when the property breaks. One instance serves one run:
/// a workload makes fresh ones each time it is set up, so an invariant may keep state in fields.
/// </summary>
/// <remarks>
/// Lives in the machine (not in the port) because it is the contract between the guest and whoever
/// checks it: the harness loads one build of the port per configuration, each in its own load context,
/// and only the machine's types are shared by all of them.
/// </remarks>
public abstract class Invariant
{
    private readonly List<InvariantFailure> _failures = new();

    protected Invariant(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(new[] { ' ', '\t', '\n', '[', ']' }) >= 0)
            throw new ArgumentException($"an invariant's name is one word (got '{name}')", nameof(name));
        Name = name;
    }

    /// <summary>What a violation is reported as: <c>[name]</c> in the verdict and the matrix.</summary>
    public string Name { get; }

    /// <summary>Called after each entry of the event log is recorded.</summary>
    public abstract void Observe(TraceEntry entry);

    /// <summary>Called once when the run ends (whatever ended it), for properties of the whole run.</summary>
    public virtual void Finish(RunResult run) { }

    /// <summary>The violation found, if any (the first of the run).</summary>
    public IReadOnlyList<InvariantFailure> Failures => _failures;

    /// <summary>
    /// Reports a violation at <paramref name="at"/> (null: at the end of the run). Only the first one of
    /// a run is kept: it is where the property broke; what follows is usually its consequence.
    /// </summary>
    protected void Fail(string message, TraceEntry? at)
    {
        if (_failures.Count == 0)
            _failures.Add(new InvariantFailure(Name, message, at?.Step ?? -1, at?.TimeNs ?? -1));
    }

    /// <summary>An invariant from a function of one entry: a message is a violation, null is fine.</summary>
    public static Invariant FromCheck(string name, Func<TraceEntry, string?> check) => new PerEntry(name, check);

    private sealed class PerEntry(string name, Func<TraceEntry, string?> check) : Invariant(name)
    {
        public override void Observe(TraceEntry entry)
        {
            if (check(entry) is string message)
                Fail(message, entry);
        }
    }
}

/// <summary>One violation of an <see cref="Invariant"/>: at a step of the log, or (step -1) at the end of the run.</summary>
public sealed record InvariantFailure(string Invariant, string Message, long Step, long TimeNs);

public sealed partial class Machine
{
    private readonly List<Invariant> _invariants = new();

    /// <summary>The invariants the guest asked to be checked on this run (a user's workload brings its own).</summary>
    public IReadOnlyList<Invariant> Invariants => _invariants;

    /// <summary>
    /// Checks <paramref name="invariant"/> on every entry from now on. An invariant that throws has
    /// broken its own contract, not the machine: that is reported as its violation, and it is not
    /// asked again in this run (the run goes on, so the trace up to the end can still be shown).
    /// </summary>
    public void AddInvariant(Invariant invariant)
    {
        _invariants.Add(invariant);
        bool broken = false;
        Trace.Recorded += entry =>
        {
            if (broken)
                return;
            try
            {
                invariant.Observe(entry);
            }
            catch (Exception e) when (e is not (OutOfMemoryException or SimulationStoppedSignal or ThreadExitedSignal))
            {
                broken = true;
                _thrown.Add(new InvariantFailure(invariant.Name, $"the invariant threw {e.GetType().Name}: {e.Message}", entry.Step, entry.TimeNs));
            }
        };
    }

    private readonly List<InvariantFailure> _thrown = new();

    /// <summary>Ends every invariant's run and returns what they found, in the order they were added.</summary>
    public IReadOnlyList<InvariantFailure> FinishInvariants(RunResult run)
    {
        var all = new List<InvariantFailure>();
        foreach (var invariant in _invariants)
        {
            bool threw = _thrown.Exists(t => t.Invariant == invariant.Name);
            if (!threw)
            {
                try
                {
                    invariant.Finish(run);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    _thrown.Add(new InvariantFailure(invariant.Name, $"the invariant threw {e.GetType().Name} at the end of the run: {e.Message}", -1, run.TimeNs));
                }
            }
            all.AddRange(invariant.Failures);
        }
        all.AddRange(_thrown);
        return all;
    }
}
