// SPDX-License-Identifier: MIT
using System;

namespace XenPreempt.Machine;

/// <summary>
/// Hardware and hypervisor misbehaviour the oracle may inject (<see cref="ChoiceKind.InjectFault"/>),
/// within <see cref="MachineConfig.FaultBudget"/>. With none enabled the machine offers no fault
/// choice at all, so runs are exactly what they were without this feature.
/// </summary>
[Flags]
public enum Faults
{
    None = 0,
    /// <summary>Xen sets a vCPU's upcall-pending bit with no event-channel port pending (the guest's scan finds nothing).</summary>
    SpuriousEvents = 1,
    /// <summary>A device keeps interrupting one vCPU: <see cref="MachineConfig.StormEvents"/> device events, one per step of that vCPU.</summary>
    EventStorm = 2,
    /// <summary>A device event arrives while the stack is inside an event callback (hard IRQ or the softirqs run at its end).</summary>
    NestedIrq = 4,
    /// <summary>A hypercall fails part-way: Xen returns -EAGAIN (try again) or -EFAULT (a bad guest buffer).</summary>
    HypercallFailure = 8,
    /// <summary>Test-only: a machine assertion fails at step <see cref="MachineConfig.InternalErrorStep"/> (the run ends as an internal error).</summary>
    InternalError = 16,
}

/// <summary>Xen's error numbers (xen/include/public/errno.h) for the failures the machine injects.</summary>
public static class XenErrno
{
    public const int EAGAIN = 11;
    public const int EFAULT = 14;
}

/// <summary>A machine assertion failed: the simulator (not the guest) is in a state it does not allow.</summary>
public sealed class MachineAssertionException(string message) : Exception(message);

public sealed partial class Machine
{
    private int _faultBudget;

    private bool FaultEnabled(Faults f) => (Config.Faults & f) != 0 && _faultBudget > 0;

    /// <summary>
    /// The faults that may strike at any boundary of the stepping stack: a storm in progress raises
    /// its next event; a stack inside an event callback may take a nested interrupt.
    /// </summary>
    private void FaultPoint(SimThread me, string site)
    {
        if (Config.Faults == Faults.None)
            return;
        if ((Config.Faults & Faults.InternalError) != 0 && Steps >= Config.InternalErrorStep)
            throw new MachineAssertionException($"injected internal error (fault internal-error) at step {Steps} ({site})");
        ContinueStorm(me.Cpu!);
        if (me.UpcallDepth > 0 && FaultEnabled(Faults.NestedIrq) && Choose(ChoiceKind.InjectFault, 2, 0, site) == 1)
        {
            _faultBudget--;
            me.Cpu!.Raise(EventPort.Device);
            Trace.Record("fault", $"nested irq: device event on vCPU{me.Cpu!.Id} inside an event callback");
        }
    }

    /// <summary>
    /// At an injection point (where a device event may arrive): a spurious upcall or the start of a
    /// storm, on any vCPU. Option 0: nothing; then, per enabled kind, one option per vCPU.
    /// </summary>
    private void OfferEventFault(string site)
    {
        if (Config.Faults == Faults.None)
            return;
        bool spurious = FaultEnabled(Faults.SpuriousEvents), storm = FaultEnabled(Faults.EventStorm);
        if (!spurious && !storm)
            return;
        int kinds = (spurious ? 1 : 0) + (storm ? 1 : 0);
        int pick = Choose(ChoiceKind.InjectFault, 1 + kinds * Cpus.Length, 0, site);
        if (pick == 0)
            return;
        _faultBudget--;
        var cpu = Cpus[(pick - 1) % Cpus.Length];
        if (spurious && pick <= Cpus.Length)
        {
            cpu.RaiseSpurious();
            Trace.Record("fault", $"spurious upcall on vCPU{cpu.Id} (no port pending)");
            return;
        }
        cpu.StormLeft = Config.StormEvents;
        Trace.Record("fault", $"event storm starts on vCPU{cpu.Id} ({Config.StormEvents} device events)");
        ContinueStorm(cpu);
    }

    // A storming device raises its port again as soon as the guest has taken the previous event.
    private void ContinueStorm(Vcpu cpu)
    {
        if (cpu.StormLeft <= 0 || cpu.IsPending(EventPort.Device))
            return;
        cpu.StormLeft--;
        cpu.Raise(EventPort.Device);
        if (cpu.StormLeft == 0)
            Trace.Record("fault", $"event storm on vCPU{cpu.Id} ends");
    }

    /// <summary>
    /// After a chunk of a hypercall: the oracle may make it fail here (option 1: -EAGAIN, 2: -EFAULT).
    /// Returns the error to return, or 0 to go on.
    /// </summary>
    private long HypercallFault(string site)
    {
        if (!FaultEnabled(Faults.HypercallFailure))
            return 0;
        int pick = Choose(ChoiceKind.InjectFault, 3, 0, site);
        if (pick == 0)
            return 0;
        _faultBudget--;
        return pick == 1 ? -XenErrno.EAGAIN : -XenErrno.EFAULT;
    }
}
