// SPDX-License-Identifier: MIT
using XenPreempt.Annotations;
using XenPreempt.Kernel;
using static XenPreempt.Kernel.Linux;

namespace MyDriver;

/// <summary>A request batch began on <paramref name="cpu"/>, whose in-flight counter is now <paramref name="inflight"/>.</summary>
public sealed record mydrv_batch_begin(int cpu, long inflight, int requests) : WorkloadEvent;

/// <summary>A request batch ended; the counter written was <paramref name="cpu"/>'s, now <paramref name="inflight"/>.</summary>
public sealed record mydrv_batch_end(int cpu, long inflight, int requests) : WorkloadEvent;

/// <summary>
/// mydrv: a driver that processes requests in batches and keeps a per-CPU count of the requests in
/// flight (summed by a stats reader, as a percpu_counter is). Each request is 1 ms of CPU work, and
/// the driver offers to yield between requests.
/// </summary>
public static class Mydrv
{
    public static readonly PerCpu<long> mydrv_inflight = DEFINE_PER_CPU<long>("mydrv_inflight");

    /// <summary>Processes one batch. The seeded bug: the count read when the batch began is written back after cond_resched().</summary>
    [ProcessContext]
    public static void mydrv_process_batch(int requests)
    {
        preempt_disable();
        long inflight = __this_cpu_read(mydrv_inflight);
        __this_cpu_write(mydrv_inflight, inflight + requests);
        trace_event(new mydrv_batch_begin(smp_processor_id(), inflight + requests, requests));
        preempt_enable();

        for (int i = 0; i < requests; i++)
        {
            mdelay(1);
            cond_resched();
        }

        // BUG: 'inflight' is the count of the CPU the batch began on, read before cond_resched(): the
        // task may now run on another CPU, and other batches may have begun or ended here meanwhile.
        mydrv_end_batch(inflight, requests);
    }

    /// <summary>Stores this CPU's count as the batch ends (this_cpu_write: one instruction, so no CPU change between the store and the tracepoint).</summary>
    private static void mydrv_end_batch(long inflight, int requests)
    {
        this_cpu_write(mydrv_inflight, inflight);
        trace_event(new mydrv_batch_end(raw_smp_processor_id(), inflight, requests));
    }
}

/// <summary>The same driver, fixed: the end of a batch reads the count where it now runs, with preemption off.</summary>
public static class MydrvFixed
{
    public static readonly PerCpu<long> mydrv_inflight = DEFINE_PER_CPU<long>("mydrv_inflight");

    [ProcessContext]
    public static void mydrv_process_batch(int requests)
    {
        preempt_disable();
        long inflight = __this_cpu_read(mydrv_inflight);
        __this_cpu_write(mydrv_inflight, inflight + requests);
        trace_event(new mydrv_batch_begin(smp_processor_id(), inflight + requests, requests));
        preempt_enable();

        for (int i = 0; i < requests; i++)
        {
            mdelay(1);
            cond_resched();
        }

        preempt_disable();
        long now = __this_cpu_read(mydrv_inflight) - requests;
        __this_cpu_write(mydrv_inflight, now);
        trace_event(new mydrv_batch_end(smp_processor_id(), now, requests));
        preempt_enable();
    }
}
