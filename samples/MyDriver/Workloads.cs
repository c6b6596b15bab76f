// SPDX-License-Identifier: MIT
using System.Collections.Generic;
using System.Linq;
using XenPreempt.Kernel;
using XenPreempt.Machine;

namespace MyDriver;

/// <summary>
/// Two mydrv workers, both woken on CPU0 (the scheduler may leave them there or move one to CPU1), each
/// processing two batches of five requests. The invariant: the per-CPU in-flight counters always sum
/// to the requests of the batches in flight.
/// </summary>
public abstract class MydrvWorkload(string name, string description, System.Action<int> processBatch) : Workload(name, description)
{
    public override void setup(WorkloadBuilder w) => w
        .with_cpus(2)
        .kthread("mydrv/0", 0, Worker)
        .kthread("mydrv/1", 0, Worker)
        .invariant(new InflightAccounting());

    private void Worker()
    {
        processBatch(5);
        processBatch(5);
    }
}

public sealed class Buggy() : MydrvWorkload("buggy", "mydrv as written: the per-CPU count cached across cond_resched()", Mydrv.mydrv_process_batch);

public sealed class Fixed() : MydrvWorkload("fixed", "mydrv fixed: the count re-read, with preemption off, where the batch ends", MydrvFixed.mydrv_process_batch);

/// <summary>The sum of the per-CPU in-flight counters, as the driver's tracepoints report them, equals the requests of the batches in flight.</summary>
public sealed class InflightAccounting() : Invariant("mydrv-inflight")
{
    private readonly Dictionary<int, long> _perCpu = new();
    private long _inFlight;

    public override void Observe(TraceEntry entry)
    {
        switch (entry.Event)
        {
            case mydrv_batch_begin b:
                _perCpu[b.cpu] = b.inflight;
                _inFlight += b.requests;
                break;
            case mydrv_batch_end e:
                _perCpu[e.cpu] = e.inflight;
                _inFlight -= e.requests;
                break;
            default:
                return;
        }
        long sum = _perCpu.Values.Sum();
        if (sum != _inFlight)
            Fail($"the per-CPU in-flight counters sum to {sum} ({string.Join(", ", _perCpu.OrderBy(p => p.Key).Select(p => $"cpu{p.Key}={p.Value}"))}) but {_inFlight} requests are in flight", entry);
    }
}
