// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Linq;
using XenPreempt.Machine;

namespace XenPreempt.Harness;

/// <summary>One broken invariant, where it first broke.</summary>
public sealed record Violation(string Invariant, string Message, long Step, long TimeNs);

/// <summary>
/// The checker cannot judge this run: the snapshots or the writes an invariant is decided from are
/// missing from the event log. Thrown inside the run, so the run ends as an internal error (exit 3)
/// rather than passing an invariant it never checked.
/// </summary>
public sealed class CheckerBlindException(string message) : InvalidOperationException(message);

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

    /// <summary>The kernel's name for the per-CPU form of the preemptible-hypercall state (every historical variant).</summary>
    public const string HcallStateVariable = "xen_in_preemptible_hcall";
    /// <summary>The kernel's name for the per-task form (our fix).</summary>
    public const string HcallStateFlag = "TIF_XEN_PREEMPTIBLE_HCALL";

    // The preemptible-hypercall state as the event log's writes leave it, never as the variant reads it:
    // per CPU (PerCpuWrite of HcallStateVariable) and per task, by comm (TaskFlagWrite of HcallStateFlag).
    private readonly HashSet<int> _cpusWithState = new();
    private readonly HashSet<string> _tasksWithState = new(StringComparer.Ordinal);
    private int _cpus = -1;

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

    public void Attach(Machine.Machine machine)
    {
        if (!machine.Config.RecordCpuViews)
            throw new CheckerBlindException("the checker needs a per-CPU snapshot with every trace entry (MachineConfig.RecordCpuViews): flag-owner and region-open cannot be judged without one");
        _cpus = machine.Cpus.Length;
        machine.Trace.Recorded += Observe;
    }

    public void Observe(TraceEntry e)
    {
        if (e.Cpus.Length == 0 || (_cpus >= 0 && e.Cpus.Length != _cpus))
            throw new CheckerBlindException($"trace entry at step {e.Step} has {e.Cpus.Length} per-CPU snapshot(s), the machine {_cpus} vCPU(s): flag-owner cannot judge who runs where");
        FollowStateWrite(e);
        switch (e.Event)
        {
            case PrivcmdHypercall { Done: false } ioctl:
                _inPrivcmd.Add(CommOf(ioctl.Task));
                break;
            case PrivcmdHypercall { Done: true } ioctl:
                // The ioctl returns to the toolstack: its region must be closed by now. State still set
                // for the returning task is a region begun and not ended (sparse's context imbalance).
                if (e.Cpu >= 0 && e.Cpu < e.Cpus.Length && StateSet(e.Cpu, CommOf(ioctl.Task)))
                    Report("region-open", $"{e.Task} returned from IOCTL_PRIVCMD_HYPERCALL with CPU{e.Cpu}'s preemptible-hypercall state still set: the region was begun and not ended", e);
                _inPrivcmd.Remove(CommOf(ioctl.Task));
                _reschedPendingSince.Remove(ioctl.Task);
                break;
        }
        switch (e.Kind)
        {
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
        }
        if (IsHcallStateWrite(e.Event) && !_inPrivcmd.Contains(e.Task))
            Report("flag-owner", $"{e.Task} is not in a preemptible hypercall but changed the flag: {e.Detail} (the hand-off branch taken by the wrong task)", e);
        CheckFlagOwnership(e);
    }

    private static bool IsHcallStateWrite(TraceEvent? ev) =>
        ev is PerCpuWrite { Variable: HcallStateVariable } or TaskFlagWrite { Flag: HcallStateFlag };

    private void FollowStateWrite(TraceEntry e)
    {
        switch (e.Event)
        {
            case PerCpuWrite { Variable: HcallStateVariable } w:
                if (w.Value == "1") _cpusWithState.Add(w.Cpu); else _cpusWithState.Remove(w.Cpu);
                break;
            case TaskFlagWrite { Flag: HcallStateFlag } f:
                if (f.Value) _tasksWithState.Add(CommOf(f.Task)); else _tasksWithState.Remove(CommOf(f.Task));
                break;
        }
    }

    /// <summary>Whether the preemptible-hypercall state is set for a CPU whose current task is <paramref name="current"/>, from the writes alone.</summary>
    private bool StateSet(int cpu, string current) => _cpusWithState.Contains(cpu) || _tasksWithState.Contains(current);

    /// <summary>Called when the run ends: a reschedule still pending counts until the end.</summary>
    public void Finish(long endNs)
    {
        foreach (var key in new List<string>(_reschedPendingSince.Keys))
            EndWait(CommOf(key), null, endNs);
    }

    // The preemptible-hypercall state set on a CPU belongs to the task running there, and that task
    // is inside a privcmd hypercall. A stale flag after a migration breaks this at once. The state is
    // the one the writes in the event log leave; the variant's own view of it (the snapshot's
    // HcallState) is only a witness. If the variant sees the state set where no logged write set it, a
    // write escaped the log and the invariant would be judged on a partial history: the run fails
    // instead of passing. The other way round the log knows more than the variant's accessor (after
    // the analyzers' code fixes, say, the state moves to the task while the accessor still reads the
    // old per-CPU slot), and the log is what is judged.
    private void CheckFlagOwnership(TraceEntry e)
    {
        for (int cpu = 0; cpu < e.Cpus.Length; cpu++)
        {
            var view = e.Cpus[cpu];
            bool set = StateSet(cpu, view.Current);
            if (view.HcallState == "1" && !set)
                throw new CheckerBlindException(
                    $"at step {e.Step} CPU{cpu}'s preemptible-hypercall state reads '1' but no traced write set it: " +
                    $"a write of {HcallStateVariable}/{HcallStateFlag} is missing from the event log, so flag-owner cannot judge the run");
            if (set && !_inPrivcmd.Contains(view.Current))
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
