// SPDX-License-Identifier: MIT
using System;

namespace XenPreempt.Harness.Exploration;

/// <summary>
/// A variant name as the command line, the tables and replay tokens spell it, split once: the port variant it
/// boots (<see cref="Base"/>), the seeded mutant compiled in (<c>ours~patchable</c>), and whether it runs the port
/// after the analyzers' code fixes (<c>june2023+fixes</c>). Only the spelling is read here; which mutants exist is
/// <see cref="Mutants"/>' business.
/// </summary>
public sealed record VariantName(string Base, string? MutantName, bool AfterFixes)
{
    /// <summary>The suffix of a variant run after the analyzers' code fixes.</summary>
    public const string FixesSuffix = "+fixes";

    private const char MutantSeparator = '~';

    /// <summary>Whether the name is a port variant as it shipped: no mutant, no fixes applied.</summary>
    public bool IsPlain => MutantName is null && !AfterFixes;

    public static VariantName Split(string name)
    {
        bool afterFixes = name.EndsWith(FixesSuffix, StringComparison.Ordinal);
        if (afterFixes)
            name = name[..^FixesSuffix.Length];
        int separator = name.IndexOf(MutantSeparator);
        return separator < 0
            ? new VariantName(name, null, afterFixes)
            : new VariantName(name[..separator], name[(separator + 1)..], afterFixes);
    }

    /// <summary>The spelling back: <c>base</c>, <c>base~mutant</c>, <c>base+fixes</c>.</summary>
    public override string ToString() =>
        Base + (MutantName is null ? "" : MutantSeparator + MutantName) + (AfterFixes ? FixesSuffix : "");
}
