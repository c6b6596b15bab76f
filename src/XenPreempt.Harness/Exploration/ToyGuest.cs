// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using XenPreempt.Machine;

namespace XenPreempt.Harness.Exploration;

/// <summary>
/// The smallest guest: each vCPU runs one thread of <c>k</c> steps, then idles. Used by selftest to
/// check the explorer's schedule counts against a brute-force enumeration of interleavings.
/// </summary>
public sealed class ToyGuest : IGuest
{
    private readonly int _steps;
    private int _finished;
    private int _cpus;

    public ToyGuest(int stepsPerThread) => _steps = stepsPerThread;

    /// <summary>The order in which threads executed their steps: the interleaving.</summary>
    public List<int> Order { get; } = new();

    public bool WorkloadDone => _finished == _cpus;

    public SimThread[] Boot(Machine.Machine machine)
    {
        _cpus = machine.Cpus.Length;
        var threads = new SimThread[_cpus];
        for (int i = 0; i < _cpus; i++)
        {
            int id = i;
            threads[i] = machine.CreateThread($"t{id}", () =>
            {
                for (int s = 0; s < _steps; s++)
                {
                    machine.Step("toy");
                    Order.Add(id);
                }
                _finished++;
                while (true)
                    machine.Halt();
            });
        }
        return threads;
    }

    public void EventCallback(UpcallFrame frame) => Machine.Machine.CurrentThread.Cpu!.TakePendingPorts();

    public void Exception(ExceptionFrame frame) { }

    public CpuView Describe(int cpu) => new("t" + cpu, "-", 0, false);

    /// <summary>
    /// The interleaving PCT must give on this guest, worked out without the machine: thread 0 holds
    /// the baton first; before every step the next thread is picked among those with steps left — a
    /// NextCpu choice (counted from 1) only when more than one can step, where the highest priority
    /// wins and, at a change point, the thread that stepped last first drops below every other.
    /// Thread <c>t</c> runs on vCPU <c>t</c>, so <paramref name="priorities"/> is indexed by vCPU id.
    /// </summary>
    public static IReadOnlyList<int> PctInterleaving(int threads, int steps, IReadOnlyList<int> priorities, IReadOnlySet<int> changePoints)
    {
        var left = new int[threads];
        Array.Fill(left, steps);
        var priority = new int[threads];
        for (int t = 0; t < threads; t++)
            priority[t] = priorities[t];
        int lowest = 0, current = 0, choices = 0;
        var order = new List<int>();
        while (order.Count < threads * steps)
        {
            int next = -1, ready = 0;
            for (int t = 0; t < threads; t++)
                if (left[t] > 0)
                    ready++;
            if (ready > 1 && changePoints.Contains(++choices))
                priority[current] = --lowest;
            for (int t = 0; t < threads; t++)
                if (left[t] > 0 && (next < 0 || priority[t] > priority[next]))
                    next = t;
            left[next]--;
            order.Add(next);
            current = next;
        }
        return order;
    }

    /// <summary>
    /// Counts the interleavings of <paramref name="threads"/> threads of <paramref name="steps"/> steps
    /// with at most <paramref name="bound"/> preemptions, by enumeration. A preemption is switching
    /// away from a thread that still has steps (thread 0 is running at the start).
    /// </summary>
    public static long BruteForceCount(int threads, int steps, int bound)
    {
        long count = 0;
        var left = new int[threads];
        Array.Fill(left, steps);
        void Walk(int current, int preemptions, int remaining)
        {
            if (remaining == 0) { count++; return; }
            for (int t = 0; t < threads; t++)
            {
                if (left[t] == 0) continue;
                int p = preemptions + (t != current && left[current] > 0 ? 1 : 0);
                if (p > bound) continue;
                left[t]--;
                Walk(t, p, remaining - 1);
                left[t]++;
            }
        }
        Walk(0, 0, threads * steps);
        return count;
    }
}
