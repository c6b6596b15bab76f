// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Threading;

namespace XenPreempt.Machine;

/// <summary>The fixed parameters of one simulated machine.</summary>
public sealed record MachineConfig
{
    public int Cpus { get; init; } = 2;
    /// <summary>Timer interrupt period: HZ=250.</summary>
    public long TickNs { get; init; } = 4_000_000;
    /// <summary>Work Xen does between two hypercall_preempt_check()s.</summary>
    public long HypercallChunkNs { get; init; } = 1_000_000;
    /// <summary>Cost of one ordinary guest step (a primitive boundary).</summary>
    public long StepNs { get; init; } = 1_000;
    /// <summary>A vCPU keeps stepping while its clock is within this window of the slowest one.</summary>
    public long LockstepWindowNs { get; init; } = 1_000_000;
    public long MaxSteps { get; init; } = 2_000_000;
    public long MaxTimeNs { get; init; } = 120_000_000_000;
    /// <summary>
    /// Wall-clock time the guest may run without reaching a single step (a loop in guest code with no
    /// primitive in it) before the run ends as an internal error. Only a broken guest ever gets near it.
    /// </summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>How many external device events the oracle may inject.</summary>
    public int EventBudget { get; init; }
    /// <summary>How many tracing exceptions the oracle may inject at traceable sites.</summary>
    public int ExceptionBudget { get; init; }
    /// <summary>The faults the oracle may inject (none: no fault choice is ever offered).</summary>
    public Faults Faults { get; init; }
    /// <summary>How many faults the oracle may inject in one run, all kinds together.</summary>
    public int FaultBudget { get; init; }
    /// <summary>How many device events one event storm raises.</summary>
    public int StormEvents { get; init; } = 32;
    /// <summary>The step at which <see cref="Faults.InternalError"/> fails a machine assertion.</summary>
    public long InternalErrorStep { get; init; } = 20;
    /// <summary>Take a snapshot of every vCPU for each trace entry (the trace table needs it).</summary>
    public bool RecordCpuViews { get; init; } = true;
}

/// <summary>Hints a guest gives about a step.</summary>
[Flags]
public enum StepFlags
{
    None = 0,
    /// <summary>
    /// Task context: a tracer may plant a breakpoint here (an int3/#DB can hit this instruction),
    /// and the oracle may raise an external event here. Hypercall chunks are injection points too.
    /// </summary>
    Traceable = 1,
}

/// <summary>Why a run ended.</summary>
public enum RunOutcome
{
    /// <summary>The guest said its workload is done.</summary>
    Completed,
    StepLimit,
    TimeLimit,
    /// <summary>The guest panicked (BUG_ON and friends).</summary>
    Panic,
    /// <summary>The simulator itself failed, or a replay diverged.</summary>
    InternalError,
}

/// <summary>The result of a run.</summary>
public sealed record RunResult(RunOutcome Outcome, long Steps, long TimeNs, string? Message, Exception? Error);

/// <summary>
/// A deterministic multi-vCPU machine with a Xen-like hypervisor. Guest code runs on simulated
/// threads (stacks) with strict baton passing: exactly one runs at a time, and every decision about
/// who runs next, and when events or exceptions arrive, comes from one <see cref="IChoiceOracle"/>.
/// </summary>
public sealed partial class Machine
{
    [ThreadStatic] private static SimThread? t_current;

    private readonly IChoiceOracle _oracle;
    private readonly List<SimThread> _threads = new();
    private readonly ManualResetEventSlim _finished = new(false);
    private IGuest? _guest;
    private volatile bool _stopping;
    private RunResult? _result;
    private int _eventBudget;
    private int _exceptionBudget;

    public Machine(MachineConfig config, IChoiceOracle oracle)
    {
        if (config.Cpus < 1 || config.Cpus > 64)
            throw new ArgumentOutOfRangeException(nameof(config), "a machine has 1 to 64 vCPUs");
        Config = config;
        _oracle = oracle;
        Cpus = new Vcpu[config.Cpus];
        for (int i = 0; i < Cpus.Length; i++)
            Cpus[i] = new Vcpu(i, config.TickNs);
        _eventBudget = config.EventBudget;
        _exceptionBudget = config.ExceptionBudget;
        _faultBudget = config.FaultBudget;
        Trace = new TraceLog(this);
    }

    public MachineConfig Config { get; }
    public Vcpu[] Cpus { get; }
    public TraceLog Trace { get; }
    public List<string> Console { get; } = new();
    public long Steps { get; private set; }

    /// <summary>The simulated thread executing the caller.</summary>
    public static SimThread CurrentThread =>
        t_current ?? throw new InvalidOperationException("not running on a simulated thread");

    /// <summary>The simulated thread executing the caller, or null outside one (boot, the harness).</summary>
    public static SimThread? CurrentThreadOrNull => t_current;

    /// <summary>The vCPU executing the caller.</summary>
    public Vcpu CurrentCpu => CurrentThread.Cpu ?? throw new InvalidOperationException("thread is not on a vCPU");

    /// <summary>The slowest vCPU's clock: what "now" means for the machine as a whole.</summary>
    public long NowNs
    {
        get
        {
            long min = long.MaxValue;
            foreach (var c in Cpus) min = Math.Min(min, c.Now);
            return min;
        }
    }

    internal IGuest Guest => _guest ?? throw new InvalidOperationException("no guest booted");

    /// <summary>Creates a simulated thread (a stack) that starts running <paramref name="body"/> the first time a vCPU switches to it.</summary>
    public SimThread CreateThread(string name, Action body)
    {
        var t = new SimThread(this, _threads.Count, name, body);
        _threads.Add(t);
        if (_guest is not null && _threadsStarted)
            t.Start();
        return t;
    }

    private bool _threadsStarted;

    /// <summary>Boots the guest and runs until it is done, a limit is hit, or it panics.</summary>
    public RunResult Run(IGuest guest)
    {
        if (_guest is not null)
            throw new InvalidOperationException("a machine runs once");
        _guest = guest;
        var initial = guest.Boot(this);
        if (initial.Length != Cpus.Length)
            throw new InvalidOperationException("the guest must give one initial thread per vCPU");
        for (int i = 0; i < Cpus.Length; i++)
        {
            Cpus[i].Running = initial[i];
            initial[i].Cpu = Cpus[i];
        }
        _threadsStarted = true;
        foreach (var t in _threads.ToArray())
            t.Start();

        initial[0].Baton.Release();
        WaitUntilFinished();

        // Unwind every parked thread: each wakes, sees _stopping, and throws out of the guest code.
        foreach (var t in _threads.ToArray())
            t.Baton.Release();
        foreach (var t in _threads.ToArray())
            if (!_stalled)
                t.Join();
            else
                t.Join(TimeSpan.FromSeconds(1)); // the stuck one never unwinds: do not wait for it
        return _result!;
    }

    // The step and time limits end every guest that steps; a guest stuck between two steps is
    // caught here. Its OS thread cannot be stopped: it is left behind (a background thread) and the
    // run ends as an internal error.
    private void WaitUntilFinished()
    {
        var poll = TimeSpan.FromMilliseconds(Math.Clamp(Config.StallTimeout.TotalMilliseconds / 4, 1, 1000));
        long lastSteps = -1;
        var sinceProgress = System.Diagnostics.Stopwatch.StartNew();
        while (!_finished.Wait(poll))
        {
            long steps = Steps;
            if (steps != lastSteps)
            {
                lastSteps = steps;
                sinceProgress.Restart();
            }
            else if (sinceProgress.Elapsed >= Config.StallTimeout && !_stopping)
            {
                _stopping = true;
                _result = new RunResult(RunOutcome.InternalError, Steps, NowNs,
                    $"the guest made no step for {Config.StallTimeout.TotalSeconds:0.###} s of wall-clock time (a loop without a primitive?)", null);
                _stalled = true;
                _finished.Set();
            }
        }
    }

    private bool _stalled;

    /// <summary>
    /// A primitive boundary in guest code: time passes, the oracle may let another vCPU run, and
    /// pending events (or an injected exception) are delivered to this vCPU when it resumes.
    /// </summary>
    public void Step(string site, StepFlags flags = StepFlags.None, long costNs = 0)
    {
        var me = CurrentThread;
        Advance(me.Cpu!, costNs > 0 ? costNs : Config.StepNs);
        Boundary(me, site);
        DeliverPending(me, site, flags);
    }

    /// <summary>
    /// The guest's idle instruction (SCHEDOP_block): sleep until the next event. With
    /// <paramref name="stopTick"/> the guest has stopped its periodic timer for the sleep (NO_HZ idle):
    /// only a real event — an IPI, a device — wakes the vCPU.
    /// </summary>
    public void Halt(bool stopTick = false)
    {
        var me = CurrentThread;
        var cpu = me.Cpu!;
        cpu.TickStopped = stopTick;
        // Sleep towards the next timer event, at most one lockstep window at a time, so an idle vCPU
        // stays among the vCPUs that may step and can take an interrupt when the others are there.
        if (!cpu.EventsNeedDelivery)
            Advance(cpu, stopTick ? Config.LockstepWindowNs : Math.Clamp(cpu.NextTimerNs - cpu.Now, Config.StepNs, Math.Max(Config.StepNs, Config.LockstepWindowNs)));
        cpu.Halted = true;
        Boundary(me, "halt");
        me.Cpu!.Halted = false;
        me.Cpu!.TickStopped = false;
        InjectionPoint(me, "halt"); // an idle vCPU takes device interrupts too
        DeliverPending(me, "halt", StepFlags.None);
    }

    /// <summary>
    /// A context switch on the current vCPU (the guest's switch_to): <paramref name="next"/> runs
    /// here now, and the caller's stack sleeps until some vCPU switches back to it.
    /// </summary>
    public void SwitchTo(SimThread next)
    {
        var me = CurrentThread;
        if (ReferenceEquals(next, me))
            return;
        var cpu = me.Cpu!;
        if (next.Cpu is not null)
            throw new InvalidOperationException($"switch_to: {next.Name} is already running on vCPU {next.Cpu.Id}");
        me.Cpu = null;
        next.Cpu = cpu;
        cpu.Running = next;
        Transfer(me, next);
    }

    /// <summary>The current thread ends and <paramref name="next"/> runs on its vCPU. Does not return.</summary>
    public void ExitAndSwitchTo(SimThread next)
    {
        var me = CurrentThread;
        var cpu = me.Cpu!;
        me.Cpu = null;
        next.Cpu = cpu;
        cpu.Running = next;
        me.Exited = true;
        next.Baton.Release();
        throw new ThreadExitedSignal();
    }

    /// <summary>Lets the oracle decide something on behalf of the guest (wake-up placement, load balancing).</summary>
    public int Choose(ChoiceKind kind, int options, int defaultIndex, string site)
    {
        if (options <= 1)
            return 0;
        int cpu = t_current?.Cpu?.Id ?? -1;
        return _oracle.Choose(new Choice(kind, options, defaultIndex, cpu, site));
    }

    /// <summary>Writes a line to the machine's console (the guest's printk).</summary>
    public void Print(string line)
    {
        Console.Add(line);
        Trace.Record("console", line);
    }

    private void Advance(Vcpu cpu, long ns)
    {
        cpu.Now += ns;
        while (cpu.Now >= cpu.NextTimerNs)
        {
            if (!cpu.TickStopped)
                cpu.Raise(EventPort.Timer);
            cpu.NextTimerNs += Config.TickNs;
        }
    }

    /// <summary>
    /// Picks the vCPU that steps next and passes the baton to its thread. Only vCPUs whose clock is
    /// within the lockstep window of the slowest one may step (virtual time stays roughly in sync, and
    /// no vCPU can starve the others by running ahead); among those the oracle chooses, by default
    /// the stepping vCPU if it may continue, else the slowest.
    /// </summary>
    private void Boundary(SimThread me, string site)
    {
        Steps++;
        CheckLimits(me);
        if (Cpus.Length == 1)
            return;
        if (me.ChosenToStart)
        {
            // This stack's first step, and a choice just handed it the baton: that choice was this one.
            me.ChosenToStart = false;
            return;
        }
        FastForwardSleepers(me);
        long horizon = NowNs + Config.LockstepWindowNs;
        Span<int> enabled = stackalloc int[Cpus.Length];
        int count = Enabled(enabled, horizon, skipHalted: true);
        bool allAsleep = count == 0;
        if (allAsleep)
            count = Enabled(enabled, horizon, skipHalted: false); // everyone sleeps: time moves on
        int slowest = enabled[0];
        for (int i = 1; i < count; i++)
            if (Cpus[enabled[i]].Now < Cpus[slowest].Now)
                slowest = enabled[i];
        int defaultIndex = enabled[..count].IndexOf(me.Cpu!.Id);
        if (defaultIndex < 0)
            defaultIndex = enabled[..count].IndexOf(slowest);
        // When every vCPU sleeps, which one's clock moves first changes nothing: no choice to explore.
        int next = count == 1 || allAsleep ? enabled[allAsleep ? defaultIndex : 0] : enabled[_oracle.Choose(new Choice(ChoiceKind.NextCpu, count, defaultIndex, me.Cpu!.Id, site, Choice.MaskOf(enabled[..count])))];
        var target = Cpus[next].Running!;
        if (!ReferenceEquals(target, me))
        {
            if (!target.HasRun)
                target.ChosenToStart = true;
            Transfer(me, target);
        }
    }

    /// <summary>
    /// A vCPU blocked in the hypervisor executes nothing, so time can pass for it without running its
    /// stack: bring its clock up to the slowest running vCPU (raising its timer on the way, which
    /// wakes it). Without this every millisecond of a busy vCPU would cost two thread switches.
    /// </summary>
    private void FastForwardSleepers(SimThread me)
    {
        long runningMin = long.MaxValue;
        foreach (var cpu in Cpus)
            if (!cpu.Halted)
                runningMin = Math.Min(runningMin, cpu.Now);
        if (runningMin == long.MaxValue)
            return;
        foreach (var cpu in Cpus)
            if (cpu.Halted && !cpu.EventsNeedDelivery && cpu.Now < runningMin && !ReferenceEquals(cpu.Running, me))
                Advance(cpu, (cpu.TickStopped ? runningMin : Math.Min(runningMin, cpu.NextTimerNs)) - cpu.Now);
    }

    // vCPUs within the window; a halted vCPU with nothing to deliver is blocked, not a choice.
    private int Enabled(Span<int> into, long horizon, bool skipHalted)
    {
        int count = 0;
        foreach (var cpu in Cpus)
            if (cpu.Now <= horizon && !(skipHalted && cpu.Halted && !cpu.EventsNeedDelivery))
                into[count++] = cpu.Id;
        return count;
    }

    private void CheckLimits(SimThread me)
    {
        if (Guest.WorkloadDone)
            Stop(new RunResult(RunOutcome.Completed, Steps, NowNs, null, null));
        else if (Steps >= Config.MaxSteps)
            Stop(new RunResult(RunOutcome.StepLimit, Steps, NowNs, $"step limit {Config.MaxSteps} reached", null));
        else if (NowNs >= Config.MaxTimeNs)
            Stop(new RunResult(RunOutcome.TimeLimit, Steps, NowNs, $"simulated time limit {Config.MaxTimeNs / 1_000_000} ms reached", null));
    }

    private void DeliverPending(SimThread me, string site, StepFlags flags)
    {
        FaultPoint(me, site);
        if ((flags & StepFlags.Traceable) != 0)
            InjectionPoint(me, site);
        if ((flags & StepFlags.Traceable) != 0 && _exceptionBudget > 0 && Choose(ChoiceKind.InjectException, 2, 0, site) == 1)
        {
            _exceptionBudget--;
            Trace.Record("inject", $"int3 at {site}");
            Guest.Exception(new ExceptionFrame(ExceptionVector.Breakpoint, site));
        }
        if (me.Cpu!.EventsNeedDelivery)
            DeliverUpcall(me, inHypercall: false);
    }

    /// <summary>
    /// The oracle may raise an external device event here, on any vCPU (option 0: none; option k:
    /// vCPU k-1). A halted vCPU with a pending event is runnable again.
    /// </summary>
    private void InjectionPoint(SimThread me, string site)
    {
        OfferEventFault(site);
        if (_eventBudget <= 0)
            return;
        int pick = Choose(ChoiceKind.InjectEvent, Cpus.Length + 1, 0, site);
        if (pick == 0)
            return;
        _eventBudget--;
        Cpus[pick - 1].Raise(EventPort.Device);
        Trace.Record("inject", $"device event on vCPU{pick - 1}");
    }

    /// <summary>
    /// Enters the guest's event callback on the current vCPU, as Xen does: the upcall mask is set on
    /// entry and restored by the guest's return (IRET) on whichever vCPU the thread returns on.
    /// </summary>
    private void DeliverUpcall(SimThread me, bool inHypercall)
    {
        var cpu = me.Cpu!;
        bool savedMask = cpu.UpcallMask;
        cpu.UpcallMask = true;
        var frame = new UpcallFrame(inHypercall, savedMask);
        me.UpcallDepth++;
        Guest.EventCallback(frame);
        me.UpcallDepth--;
        me.Cpu!.UpcallMask = savedMask;
    }

    /// <summary>How many times the baton passed between OS threads (the dominant cost of a run).</summary>
    public long Transfers { get; private set; }

    private void Transfer(SimThread me, SimThread next)
    {
        Transfers++;
        next.Baton.Release();
        me.Baton.Wait();
        if (_stopping)
            throw new SimulationStoppedSignal();
    }

    internal void Stop(RunResult result)
    {
        if (_stopping)
            throw new SimulationStoppedSignal();
        _result = result;
        _stopping = true;
        _finished.Set();
        throw new SimulationStoppedSignal();
    }

    internal void ThreadFailed(SimThread thread, Exception error)
    {
        if (_stopping)
            return;
        _stopping = true;
        _result = error is GuestPanicException panic
            ? new RunResult(RunOutcome.Panic, Steps, NowNs, panic.Message, null)
            : new RunResult(RunOutcome.InternalError, Steps, NowNs, $"{error.GetType().Name} on {thread.Name}: {error.Message}", error);
        _finished.Set();
    }

    internal static void SetCurrent(SimThread? t) => t_current = t;
    internal bool Stopping => _stopping;
}

/// <summary>Unwinds a parked thread when the run ends. Guest code must not catch it.</summary>
public sealed class SimulationStoppedSignal : Exception { }

/// <summary>Unwinds a thread that has exited (do_exit). Guest code must not catch it.</summary>
public sealed class ThreadExitedSignal : Exception { }

/// <summary>Thrown by the guest for BUG_ON(), panic() and friends: ends the run as a panic.</summary>
public sealed class GuestPanicException(string message) : Exception(message);
