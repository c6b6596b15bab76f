// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Linq;
using XenPreempt.Machine;

namespace XenPreempt.Harness;

/// <summary>One broken invariant, where it first broke.</summary>
public sealed record Violation(string Invariant, string Message, long Step, long TimeNs);

/// <summary>
/// Invariants checked on the machine's event log, separately from the port (Jepsen style): the port
/// reports what it does; this class decides whether that was allowed.
/// </summary>
public sealed class Checker
{
    /// <summary>
    /// Default bound on how long a task in a preemptible hypercall may ignore a reschedule request:
    /// five 4 ms ticks — two for the request to be seen (lazy models promote at the next tick), and
    /// room for the workloads' longest non-preemptible stretch, a softirq whose driver hypercall
    /// runs 8 ms. The bug this catches is measured in seconds.
    /// </summary>
    public static readonly long DefaultLatencyBoundNs = 20_000_000;

    private readonly long _latencyBoundNs;
    private readonly HashSet<string> _inPrivcmd = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _reschedPendingSince = new(StringComparer.Ordinal); // key: comm/pid
    private readonly Dictionary<string, long> _inHypercallSince = new(StringComparer.Ordinal);   // key: comm
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);

    private readonly bool _nonPreemptiveModel;

    /// <param name="latencyBoundNs">The hypercall-latency bound.</param>
    /// <param name="nonPreemptiveModel">The model run is none/voluntary: interrupts may switch only a task inside its hypercall.</param>
    public Checker(long latencyBoundNs, bool nonPreemptiveModel = false)
    {
        _latencyBoundNs = latencyBoundNs;
        _nonPreemptiveModel = nonPreemptiveModel;
    }

    public List<Violation> Violations { get; } = new();

    /// <summary>The longest time a task inside a privcmd hypercall kept running after being asked to reschedule.</summary>
    public long MaxHypercallLatencyNs { get; private set; }

    public void Attach(Machine.Machine machine) => machine.Trace.Recorded += Observe;

    public void Observe(TraceEntry e)
    {
        switch (e.Kind)
        {
            case "privcmd" when e.Detail.Contains("IOCTL_PRIVCMD_HYPERCALL", StringComparison.Ordinal):
                _inPrivcmd.Add(e.Task);
                break;
            case "privcmd" when e.Detail.Contains("ioctl done", StringComparison.Ordinal):
                // The ioctl returns to the toolstack: its region must be closed by now. State still set
                // for the returning task is a region begun and not ended (sparse's context imbalance).
                if (e.Cpu >= 0 && e.Cpu < e.Cpus.Length && e.Cpus[e.Cpu].HcallState == "1")
                    Report("region-open", $"{e.Task} returned from IOCTL_PRIVCMD_HYPERCALL with CPU{e.Cpu}'s preemptible-hypercall state still set: the region was begun and not ended", e);
                _inPrivcmd.Remove(e.Task);
                _reschedPendingSince.Remove(TaskKey(e.Detail));
                break;
            case "hypercall" when e.Detail.StartsWith("domctl enter", StringComparison.Ordinal):
                _inHypercallSince[e.Task] = e.TimeNs;
                break;
            case "hypercall" when e.Detail.StartsWith("domctl done", StringComparison.Ordinal):
                // Leaving the hypercall still unrescheduled: the whole wait inside it counts.
                EndWait(e.Task, e, e.TimeNs);
                _inHypercallSince.Remove(e.Task);
                break;
            case "console":
                CheckConsole(e);
                break;
            case "schedule":
                if (e.Detail.Contains("irqs=off", StringComparison.Ordinal))
                    Report("sched-context", $"schedule() entered with IRQs disabled: {e.Detail}", e);
                // Reaching the scheduler honours the request, even if it picks the same task again.
                NoteSwitchOut(e);
                break;
            case "resched":
                NoteReschedRequest(e);
                break;
            case "preempt" when _nonPreemptiveModel && !_inPrivcmd.Contains(e.Task):
                // Under none/voluntary the only involuntary switch is the hypercall hand-off; anything
                // else means preemption reached the task around the model (the static-call table).
                Report("model-fidelity", $"{e.Task} was preempted at interrupt exit outside a privcmd hypercall under a non-preemptive model", e);
                break;
            case "switch":
                NoteSwitchOut(e);
                break;
            case "percpu" when e.Detail.StartsWith("xen_in_preemptible_hcall", StringComparison.Ordinal) && !_inPrivcmd.Contains(e.Task):
                Report("flag-owner", $"{e.Task} is not in a preemptible hypercall but changed the flag: {e.Detail} (the hand-off branch taken by the wrong task)", e);
                break;
        }
        CheckFlagOwnership(e);
    }

    /// <summary>Called when the run ends: a reschedule still pending counts until the end.</summary>
    public void Finish(long endNs)
    {
        foreach (var key in new List<string>(_reschedPendingSince.Keys))
            EndWait(CommOf(key), null, endNs);
    }

    // The preemptible-hypercall state set on a CPU belongs to the task running there, and that task
    // is inside a privcmd hypercall. A stale flag after a migration breaks this at once.
    private void CheckFlagOwnership(TraceEntry e)
    {
        for (int cpu = 0; cpu < e.Cpus.Length; cpu++)
        {
            var view = e.Cpus[cpu];
            if (view.HcallState == "1" && !_inPrivcmd.Contains(view.Current))
                Report("flag-owner", $"CPU{cpu}'s preemptible-hypercall state is set but {view.Current} runs there, outside any hypercall", e);
        }
    }

    private void CheckConsole(TraceEntry e)
    {
        string line = e.Detail;
        if (line.StartsWith("BUG: using ", StringComparison.Ordinal))
            Report("debug-preempt", line, e);
        else if (line.StartsWith("BUG: sleeping function called from invalid context", StringComparison.Ordinal)
                 || line.StartsWith("BUG: scheduling while atomic", StringComparison.Ordinal))
            Report("sched-context", line, e);
        else if (line.Contains("soft lockup", StringComparison.Ordinal))
            Report("soft-lockup", line, e);
        else if (line.StartsWith("WARNING:", StringComparison.Ordinal) || line.StartsWith("kernel BUG", StringComparison.Ordinal))
            Report("kernel-warning", line, e);
    }

    private void NoteReschedRequest(TraceEntry e)
    {
        // "need_resched xl/1001 on cpu0"
        var parts = e.Detail.Split(' ');
        if (parts.Length < 2) return;
        string key = parts[1];
        if (_inPrivcmd.Contains(CommOf(key)) && !_reschedPendingSince.ContainsKey(key))
            _reschedPendingSince[key] = e.TimeNs;
    }

    private void NoteSwitchOut(TraceEntry e) => EndWait(CommOf(TaskKey(e.Detail)), e, e.TimeNs);

    // The wait that counts is the part spent inside the toolstack's hypercall: a task in softirq
    // context before it, say, is not preemptible and not what the invariant is about.
    private void EndWait(string comm, TraceEntry? e, long now)
    {
        string? key = null;
        foreach (var k in _reschedPendingSince.Keys)
            if (CommOf(k) == comm) { key = k; break; }
        if (key is null)
            return;
        long since = _reschedPendingSince[key];
        _reschedPendingSince.Remove(key);
        if (_inHypercallSince.TryGetValue(comm, out long entered))
            Latency(key, now - Math.Max(since, entered), e, now);
    }

    private void Latency(string task, long latency, TraceEntry? e, long at)
    {
        MaxHypercallLatencyNs = Math.Max(MaxHypercallLatencyNs, latency);
        if (latency > _latencyBoundNs)
        {
            var v = new Violation("hcall-latency",
                $"{task} stayed inside its hypercall {latency / 1_000_000.0:F1} ms after need_resched (bound {_latencyBoundNs / 1_000_000.0:F1} ms)",
                e?.Step ?? -1, at);
            if (_reported.Add(v.Invariant + v.Message))
                Violations.Add(v);
        }
    }

    private void Report(string invariant, string message, TraceEntry e)
    {
        // One report per invariant and message; the first occurrence is the one that matters.
        if (_reported.Add(invariant + "|" + message))
            Violations.Add(new Violation(invariant, message, e.Step, e.TimeNs));
    }

    private static string TaskKey(string detail) => detail.Split(' ')[0];

    private static string CommOf(string key)
    {
        int slash = key.LastIndexOf('/');
        return slash < 0 ? key : key[..slash];
    }
}
