// SPDX-License-Identifier: MIT
using System;
using System.Threading;

namespace XenPreempt.Machine;

/// <summary>Event-channel ports every vCPU has bound, in the order the upcall scans them.</summary>
public enum EventPort
{
    /// <summary>VIRQ_TIMER: the periodic timer.</summary>
    Timer = 0,
    /// <summary>The reschedule IPI another vCPU sends.</summary>
    Resched = 1,
    /// <summary>An external device (network, block) event.</summary>
    Device = 2,
}

/// <summary>
/// A virtual CPU: its own clock, Xen's vcpu_info (upcall pending and mask: a PV guest's IRQ flag),
/// the pending event-channel ports, and the stack it is executing.
/// </summary>
public sealed class Vcpu
{
    internal Vcpu(int id, long tickNs)
    {
        Id = id;
        NextTimerNs = tickNs;
    }

    public int Id { get; }
    /// <summary>This vCPU's simulated clock, in nanoseconds.</summary>
    public long Now { get; internal set; }
    public long NextTimerNs { get; internal set; }
    /// <summary>evtchn_upcall_mask: set means "IRQs disabled" for a PV guest.</summary>
    public bool UpcallMask { get; set; }
    /// <summary>evtchn_upcall_pending.</summary>
    public bool UpcallPending { get; private set; }
    public SimThread? Running { get; internal set; }
    /// <summary>Sleeping in the hypervisor (SCHEDOP_block) until an event arrives.</summary>
    public bool Halted { get; internal set; }
    /// <summary>The guest stopped its periodic timer for this sleep (NO_HZ idle).</summary>
    public bool TickStopped { get; internal set; }
    private int _pendingPorts;

    /// <summary>local_events_need_delivery(): an event is pending and not masked.</summary>
    public bool EventsNeedDelivery => UpcallPending && !UpcallMask;

    internal void Raise(EventPort port)
    {
        _pendingPorts |= 1 << (int)port;
        UpcallPending = true;
    }

    /// <summary>Sets upcall-pending with no port behind it: a spurious upcall.</summary>
    internal void RaiseSpurious() => UpcallPending = true;

    internal bool IsPending(EventPort port) => (_pendingPorts & (1 << (int)port)) != 0;

    /// <summary>Device events an event storm still has to raise on this vCPU.</summary>
    internal int StormLeft;

    /// <summary>Sends an event to this vCPU (EVTCHNOP_send from another vCPU).</summary>
    public void Notify(EventPort port) => Raise(port);

    /// <summary>Takes and clears the pending ports, as the guest's upcall scan does.</summary>
    public int TakePendingPorts()
    {
        int ports = _pendingPorts;
        _pendingPorts = 0;
        UpcallPending = false;
        return ports;
    }
}

/// <summary>A guest stack: one OS thread, run only while it holds the machine's baton.</summary>
public sealed class SimThread
{
    private readonly Action _body;
    internal readonly SemaphoreSlim Baton = new(0);

    internal SimThread(Machine machine, int id, string name, Action body)
    {
        Machine = machine;
        Id = id;
        Name = name;
        _body = body;
    }

    public Machine Machine { get; }
    public int Id { get; }
    public string Name { get; }
    /// <summary>The vCPU executing this stack, or null while it is switched out.</summary>
    public Vcpu? Cpu { get; internal set; }
    public bool Exited { get; internal set; }
    /// <summary>The stack has started running its body.</summary>
    internal bool HasRun;
    /// <summary>How many event callbacks this stack is inside (interrupt context, as the hardware sees it).</summary>
    internal int UpcallDepth;
    /// <summary>A NextCpu choice started this stack: its first boundary is that choice, not a new one.</summary>
    internal bool ChosenToStart;

    internal void Start()
    {
        if (_started)
            return;
        _started = true;
        _done.Reset();
        WorkerPool.Run(Main);
    }

    /// <summary>Waits until this stack's body has unwound (the run is over for it).</summary>
    internal void Join() => _done.Wait();

    internal bool Join(TimeSpan timeout) => _done.Wait(timeout);

    private bool _started;
    private readonly ManualResetEventSlim _done = new(false);

    private void Main()
    {
        Machine.SetCurrent(this);
        try
        {
            Baton.Wait();
            if (Machine.Stopping)
                return;
            HasRun = true;
            _body();
            Machine.ThreadFailed(this, new InvalidOperationException($"thread {Name} returned without exiting through the scheduler"));
        }
        catch (SimulationStoppedSignal) { }
        catch (ThreadExitedSignal) { }
        catch (Exception e)
        {
            Machine.ThreadFailed(this, e);
        }
        finally
        {
            Machine.SetCurrent(null);
            _done.Set();
        }
    }

    public override string ToString() => Name;
}

/// <summary>
/// OS threads kept between runs: exploration runs thousands of short machines, and creating a thread
/// per simulated stack per run would dominate the cost. A worker runs one stack's body at a time.
/// </summary>
internal static class WorkerPool
{
    private const int MaxIdle = 64;
    private static readonly System.Collections.Concurrent.ConcurrentBag<Worker> Idle = new();

    public static void Run(Action work)
    {
        if (!Idle.TryTake(out var worker))
            worker = new Worker();
        worker.Give(work);
    }

    private sealed class Worker
    {
        private readonly SemaphoreSlim _go = new(0);
        private Action? _work;

        public Worker()
        {
            var t = new Thread(Loop, maxStackSize: 1 << 20) { IsBackground = true, Name = "sim-worker" };
            t.Start();
        }

        public void Give(Action work)
        {
            _work = work;
            _go.Release();
        }

        private void Loop()
        {
            while (true)
            {
                _go.Wait();
                var work = _work!;
                _work = null;
                work();
                if (Idle.Count >= MaxIdle)
                    return;
                Idle.Add(this);
            }
        }
    }
}
