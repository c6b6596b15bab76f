// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Linq;
using XenPreempt.Machine;

namespace XenPreempt.Harness.Exploration;

/// <summary>What minimisation achieved.</summary>
public sealed record MinimizeResult(ReplayToken Original, ReplayToken Minimal, string Invariant, int OriginalNonDefault, int MinimalNonDefault, int Attempts);

/// <summary>
/// Greedy delta debugging over a failing choice list: first the shortest prefix (the rest taken as
/// defaults) that still breaks the same invariant, then each remaining non-default choice set back to
/// its default, kept only if the same invariant still breaks. A replay that diverges counts as "no".
/// </summary>
public static class Minimizer
{
    public static MinimizeResult Minimize(ReplayToken token)
    {
        var (_, _, first) = Explorer.Replay(token);
        if (first.Run.Outcome == RunOutcome.InternalError)
            throw new ScheduleFailedException($"internal error replaying the token: {first.Run.Message}", token, first);
        if (first.Violations.Count == 0)
            throw new ArgumentException("the token's schedule violates nothing: there is nothing to minimise");
        string invariant = first.Violations[0].Invariant;
        var defaults = first.Choices.Select(c => c.Default).ToArray();
        int attempts = 0;

        bool Fails(IReadOnlyList<int> choices)
        {
            attempts++;
            try
            {
                var (_, _, r) = Explorer.Replay(token with { Choices = choices });
                return r.Violations.Any(v => v.Invariant == invariant);
            }
            catch (ReplayDivergenceException)
            {
                return false;
            }
        }

        // 1. Shortest failing prefix, by bisection on its length (failure is not monotone in general,
        //    so the result is checked, and the full list kept if the bisection's answer does not fail).
        var choices = first.Choices.Select(c => c.Index).ToList();
        int lo = 0, hi = choices.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (Fails(choices.Take(mid).ToArray())) hi = mid; else lo = mid + 1;
        }
        if (Fails(choices.Take(lo).ToArray()))
            choices = choices.Take(lo).ToList();

        // 2. Set non-default choices back to their default, latest first.
        for (int i = choices.Count - 1; i >= 0; i--)
        {
            if (i >= defaults.Length || choices[i] == defaults[i])
                continue;
            var trial = choices.ToArray();
            trial[i] = defaults[i];
            if (Fails(trial))
                choices = trial.ToList();
        }
        // Trailing defaults say nothing: the replay takes defaults past the end anyway.
        while (choices.Count > 0 && choices.Count <= defaults.Length && choices[^1] == defaults[choices.Count - 1])
            choices.RemoveAt(choices.Count - 1);

        int NonDefault(IReadOnlyList<int> c) => c.Where((x, i) => i < defaults.Length && x != defaults[i]).Count();
        var original = first.Choices.Select(c => c.Index).ToArray();
        return new MinimizeResult(token, token with { Choices = choices }, invariant, NonDefault(original), NonDefault(choices), attempts);
    }
}
