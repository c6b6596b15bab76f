// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Text;

namespace XenPreempt.Machine;

/// <summary>
/// One thing that happened, with every vCPU's state right after it. <paramref name="Event"/> is the
/// typed form of a state write (null for other entries): checkers match on it, never on the wording.
/// </summary>
public sealed record TraceEntry(long Step, long TimeNs, int Cpu, string Task, string Kind, string Detail, CpuView[] Cpus, TraceEvent? Event = null);

/// <summary>A typed trace event: what a checker needs to follow a piece of guest state from its writes alone.</summary>
public abstract record TraceEvent;

/// <summary>A traced per-CPU variable changed: <paramref name="Variable"/>'s slot for <paramref name="Cpu"/> is now <paramref name="Value"/>, written with <paramref name="Accessor"/>.</summary>
public sealed record PerCpuWrite(string Variable, int Cpu, string Value, string Accessor) : TraceEvent;

/// <summary>A traced per-task flag changed: <paramref name="Task"/> (comm/pid) has <paramref name="Flag"/> = <paramref name="Value"/>.</summary>
public sealed record TaskFlagWrite(string Task, string Flag, bool Value) : TraceEvent;

/// <summary>
/// The toolstack's IOCTL_PRIVCMD_HYPERCALL for <paramref name="Task"/> (comm/pid): entered, or (<paramref name="Done"/>) returning to user space.
/// </summary>
public sealed record PrivcmdHypercall(string Task, bool Done) : TraceEvent;

/// <summary>
/// The event log: what the guest and the hypervisor report, in order. Invariant checkers observe it
/// (as Jepsen checks a history, separately from the system under test); its hash proves determinism.
/// </summary>
public sealed class TraceLog
{
    private readonly Machine _machine;
    private ulong _hash = 14695981039346656037UL;

    internal TraceLog(Machine machine) => _machine = machine;

    public List<TraceEntry> Entries { get; } = new();

    /// <summary>Observers called after each entry is recorded (invariant checkers).</summary>
    public event Action<TraceEntry>? Recorded;

    /// <summary>Keep entries in memory (the trace table needs them; exploration can switch it off).</summary>
    public bool Keep { get; set; } = true;

    /// <summary>FNV-1a over every entry's text (a typed event's text is its entry's detail): equal hashes mean equal runs.</summary>
    public ulong Hash => _hash;

    public void Record(string kind, string detail, TraceEvent? @event = null)
    {
        var thread = Machine.CurrentThreadOrNull;
        int cpu = thread?.Cpu?.Id ?? -1;
        CpuView[] views = _machine.Config.RecordCpuViews ? SnapshotCpus() : Array.Empty<CpuView>();
        var entry = new TraceEntry(_machine.Steps, thread?.Cpu?.Now ?? _machine.NowNs, cpu, thread?.Name ?? "boot", kind, detail, views, @event);
        Mix(entry);
        if (Keep)
            Entries.Add(entry);
        Recorded?.Invoke(entry);
    }

    /// <summary>The last snapshot handed to an entry (never written again), and the buffer the next one is taken into.</summary>
    private CpuView[] _lastViews = Array.Empty<CpuView>();
    private CpuView[] _scratch = Array.Empty<CpuView>();

    /// <summary>
    /// Every vCPU's state now. Most entries change nothing a snapshot shows (a trace line between two state
    /// changes), so an unchanged snapshot is the previous entry's array, shared: entries never write their
    /// <see cref="TraceEntry.Cpus"/>, and a new array is allocated only when some vCPU's view changed.
    /// </summary>
    private CpuView[] SnapshotCpus()
    {
        int count = _machine.Cpus.Length;
        if (_scratch.Length != count)
            _scratch = new CpuView[count];
        bool same = _lastViews.Length == count;
        for (int i = 0; i < count; i++)
        {
            _scratch[i] = _machine.Guest.Describe(i);
            same = same && _scratch[i] == _lastViews[i];
        }
        if (!same)
            _lastViews = (CpuView[])_scratch.Clone();
        return _lastViews;
    }

    /// <summary>Reused for every entry: the machine records from one simulated stack at a time (the baton).</summary>
    private readonly StringBuilder _text = new();

    private void Mix(TraceEntry e)
    {
        var sb = _text.Clear();
        sb.Append(e.Step).Append('|').Append(e.TimeNs).Append('|').Append(e.Cpu).Append('|')
          .Append(e.Task).Append('|').Append(e.Kind).Append('|').Append(e.Detail);
        foreach (var v in e.Cpus)
            sb.Append('|').Append(v.Current).Append(',').Append(v.HcallState).Append(',').Append(v.PreemptCount).Append(',').Append(v.IrqsDisabled ? '1' : '0');
        // The same characters as the entry's text, hashed where they lie: no string per entry.
        foreach (var chunk in sb.GetChunks())
        {
            foreach (char ch in chunk.Span)
            {
                _hash ^= ch;
                _hash *= 1099511628211UL;
            }
        }
    }
}
