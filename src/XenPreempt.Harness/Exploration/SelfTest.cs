// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Linq;
using XenPreempt.Machine;

namespace XenPreempt.Harness.Exploration;

/// <summary>
/// The harness checking itself (FoundationDB/loom style): a seed gives the same trace every time,
/// a reported violation replays to the same invariant at the same step, and DFS visits exactly the
/// interleavings a brute-force enumeration counts.
/// </summary>
public static class SelfTest
{
    /// <summary>Frozen regression numbers: (threads, steps, bound) → interleavings.</summary>
    public static readonly IReadOnlyList<(int Threads, int Steps, int Bound, long Count)> FrozenCounts = new[]
    {
        (2, 3, 0, 1L), (2, 3, 1, 4L), (2, 3, 2, 10L), (2, 3, 99, 20L),
        (3, 2, 0, 2L), (3, 2, 1, 12L), (3, 2, 2, 36L), (3, 2, 99, 90L),
    };

    public static IEnumerable<(string Name, bool Ok, string Detail)> Run()
    {
        foreach (var (threads, steps, bound, frozen) in FrozenCounts)
        {
            long brute = ToyGuest.BruteForceCount(threads, steps, bound);
            var (schedules, distinct) = DfsCount(threads, steps, bound);
            yield return ($"dfs count {threads}x{steps} bound {(bound > 50 ? "unbounded" : bound.ToString())}",
                schedules == brute && distinct == brute && brute == frozen,
                $"dfs {schedules} schedules ({distinct} distinct), brute force {brute}, frozen {frozen}");
        }

        var config = KernelConfigs.Find("dynamic-full")!;
        var build = PortBuilder.Get(config);
        var workload = Workloads.Standard;
        string cmdline = ScenarioRunner.Cmdline(workload, "june2023", config);
        var machine = Explorer.MachineFor(workload, 2, 1, 20_000);
        var a = Enumerable.Range(0, 20).Select(i => Execution.Run(build, cmdline, machine, new RandomOracle(100 + (ulong)i, 0.05)).TraceHash).ToArray();
        var b = Enumerable.Range(0, 20).Select(i => Execution.Run(build, cmdline, machine, new RandomOracle(100 + (ulong)i, 0.05)).TraceHash).ToArray();
        yield return ("determinism", a.SequenceEqual(b), $"20 seeded schedules twice: {(a.SequenceEqual(b) ? "same" : "different")} trace hashes");

        var cells = Explorer.Run(new ExploreOptions
        {
            Variants = new[] { "4624a14f4daa" },
            Configs = new[] { KernelConfigs.Find("dynamic-none")! },
            Strategies = new[] { "random" },
            Iterations = 50,
            TimeLimitSeconds = 30,
        }).ToList();
        var found = cells.SelectMany(c => c.Violations).ToList();
        bool replays = found.Count > 0 && found.All(f =>
        {
            var (_, _, r) = Explorer.Replay(ReplayToken.TryDecode(f.Token.Encode(), out var t, out _) ? t! : f.Token);
            return r.Violations.Any(v => v.Invariant == f.Violation.Invariant && v.Step == f.Violation.Step);
        });
        yield return ("replay", replays, $"{found.Count} violation(s) of 4624a14f4daa/dynamic-none replayed from their tokens to the same invariant and step");
    }

    private static (long Schedules, int Distinct) DfsCount(int threads, int steps, int bound)
    {
        var dfs = new DfsStrategy(bound);
        long schedules = 0;
        var orders = new HashSet<string>();
        while (dfs.Next())
        {
            var guest = new ToyGuest(steps);
            var machine = new Machine.Machine(new MachineConfig { Cpus = threads, TickNs = 1_000_000_000 }, dfs.Oracle);
            machine.Run(guest);
            schedules++;
            orders.Add(string.Join(",", guest.Order));
        }
        return (schedules, orders.Count);
    }
}
