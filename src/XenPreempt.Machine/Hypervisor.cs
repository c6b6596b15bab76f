// SPDX-License-Identifier: MIT
namespace XenPreempt.Machine;

public sealed partial class Machine
{
    /// <summary>
    /// A hypercall from the current vCPU. Xen does the work in chunks; between chunks it runs
    /// hypercall_preempt_check(), and when an event needs delivery it creates a continuation,
    /// rewinds the guest to the hypercall instruction and delivers the upcall. When the upcall
    /// returns (possibly on another vCPU, if the guest rescheduled the task) the guest re-executes
    /// the hypercall and Xen continues from the continuation.
    /// </summary>
    /// <param name="name">The hypercall, for the trace.</param>
    /// <param name="chunks">How much work it is, in chunks of <see cref="MachineConfig.HypercallChunkNs"/>.</param>
    /// <returns>The hypercall's result: 0, or a negative Xen errno when a <see cref="Faults.HypercallFailure"/> fault strikes.</returns>
    public long Hypercall(string name, long chunks)
    {
        var me = CurrentThread;
        long remaining = chunks;
        Trace.Record("hypercall", $"{name} enter ({chunks} chunks)");
        while (remaining > 0)
        {
            Advance(me.Cpu!, Config.HypercallChunkNs);
            remaining--;
            Boundary(me, "xen:" + name);
            FaultPoint(me, "xen:" + name);
            if (remaining > 0 && HypercallFault("xen:" + name) is long error and < 0)
            {
                Trace.Record("hypercall", $"{name} done: {error} ({(error == -XenErrno.EAGAIN ? "EAGAIN" : "EFAULT")}, injected failure, {remaining} chunks left)");
                return error;
            }
            InjectionPoint(me, "xen:" + name);
            if (remaining > 0 && me.Cpu!.EventsNeedDelivery)
            {
                Trace.Record("hypercall", $"{name} continuation ({remaining} chunks left)");
                DeliverUpcall(me, inHypercall: true);
            }
        }
        Trace.Record("hypercall", $"{name} done");
        return 0;
    }
}
