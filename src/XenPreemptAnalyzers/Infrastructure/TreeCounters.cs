// SPDX-License-Identifier: MIT
using System.Threading;

namespace XenPreemptAnalyzers.Infrastructure;

/// <summary>
/// The per-tree side of the analyzer's work, beside <see cref="Flow.AnalysisCounters"/>: how many trees the text check
/// ruled out before a token of them was walked, and how many names the pre-filter had to look up as possible helpers.
/// Deterministic guards read them (no timing); the benchmarks print them. One interlocked add per tree or name.
/// </summary>
internal sealed class TreeCounters
{
    private long _treesSeen;
    private long _treesPassingTextCheck;
    private long _helperNameLookups;

    /// <summary>Trees of analysed compilations handed to the analyzer (one semantic-model callback each).</summary>
    public long TreesSeen => Interlocked.Read(ref _treesSeen);

    /// <summary>Trees whose text may name something recognised, so whose bodies go to the syntax pre-filter.</summary>
    public long TreesPassingTextCheck => Interlocked.Read(ref _treesPassingTextCheck);

    /// <summary>Distinct (depth, name) pairs looked up in the declarations as possible helpers (each reads the helpers' bodies).</summary>
    public long HelperNameLookups => Interlocked.Read(ref _helperNameLookups);

    internal void OnTreeSeen(bool passesTextCheck)
    {
        Interlocked.Increment(ref _treesSeen);
        if (passesTextCheck)
            Interlocked.Increment(ref _treesPassingTextCheck);
    }

    internal void OnHelperNameLookup() => Interlocked.Increment(ref _helperNameLookups);
}
