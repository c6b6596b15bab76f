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

    /// <summary>
    /// Frozen regression numbers for PCT: (threads, steps, depth) → distinct interleavings over every
    /// priority order and every set of d-1 change points. With d = 1 they are the n! serial orders.
    /// </summary>
    public static readonly IReadOnlyList<(int Threads, int Steps, int Depth, int Distinct)> FrozenPctCounts = new[]
    {
        (2, 3, 1, 2), (2, 3, 3, 14),
        (3, 2, 1, 6), (3, 2, 2, 18), (3, 2, 3, 36),
        (4, 2, 1, 24), (4, 2, 2, 96), (4, 2, 3, 240),
    };

    public static IEnumerable<(string Name, bool Ok, string Detail)> Run()
    {
        foreach (var (threads, steps, depth, frozen) in FrozenPctCounts)
        {
            var (runs, agree, distinct, bruteDistinct) = PctAgainstBruteForce(threads, steps, depth);
            yield return ($"pct {threads}x{steps} depth {depth}",
                agree == runs && distinct == bruteDistinct && distinct == frozen,
                $"{agree}/{runs} schedules as the brute force predicts; {distinct} distinct interleavings, brute force {bruteDistinct}, frozen {frozen}");
        }

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

    /// <summary>
    /// Runs PCT on the toy guest for every priority order of the vCPUs and every set of d-1 change
    /// points among the possible NextCpu choices, and compares each interleaving with the one
    /// <see cref="ToyGuest.PctInterleaving"/> works out without the machine.
    /// </summary>
    public static (int Runs, int Agree, int Distinct, int BruteDistinct) PctAgainstBruteForce(int threads, int steps, int depth)
    {
        int runs = 0, agree = 0;
        var seen = new HashSet<string>();
        var predicted = new HashSet<string>();
        int maxChoices = threads * steps;
        foreach (var priorities in Permutations(Enumerable.Range(1, threads).ToArray()))
            foreach (var changePoints in Subsets(maxChoices, depth - 1))
            {
                var expected = string.Join(",", ToyGuest.PctInterleaving(threads, steps, priorities, changePoints));
                var guest = new ToyGuest(steps);
                var oracle = new PctOracle(priorities, changePoints, DefaultOracle.Instance);
                new Machine.Machine(new MachineConfig { Cpus = threads, TickNs = 1_000_000_000 }, oracle).Run(guest);
                string actual = string.Join(",", guest.Order);
                runs++;
                if (actual == expected)
                    agree++;
                seen.Add(actual);
                predicted.Add(expected);
            }
        return (runs, agree, seen.Count, predicted.Count);
    }

    private static IEnumerable<int[]> Permutations(int[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }
        for (int i = 0; i < items.Length; i++)
            foreach (var rest in Permutations(items.Where((_, j) => j != i).ToArray()))
                yield return new[] { items[i] }.Concat(rest).ToArray();
    }

    // Every k-subset of 1..n.
    private static IEnumerable<IReadOnlySet<int>> Subsets(int n, int k)
    {
        if (k == 0)
        {
            yield return new HashSet<int>();
            yield break;
        }
        for (int first = 1; first <= n; first++)
            foreach (var rest in Subsets(n, k - 1))
                if (rest.All(x => x > first))
                    yield return new HashSet<int>(rest.Append(first));
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
