// SPDX-License-Identifier: MIT
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis.Operations;
using XenPreemptAnalyzers.Flow.Core;
using XenPreemptAnalyzers.Flow.Domains;

namespace XenPreemptAnalyzers.Flow;

/// <summary>
/// Reads what the rules need out of the fixed point, in one pass after the analysis converged (as CA1416 reads its
/// analysis result): each recognised call with the contexts it is reached in, the points inside a region where the
/// task may be switched, the reads of stale locals the code relies on, and the exits with their context.
/// </summary>
internal static class Observations
{
    public static void Derive(FlowStates<ContextState> states, PreemptContextDomain domain, FlowResult result)
    {
        result.BlockVisits = states.BlockVisits;
        if (states.IsImprecise)
        {
            result.IsImprecise = true;
            return;
        }
        foreach (var observed in states.Operations)
        {
            switch (observed.Operation)
            {
                case IInvocationOperation call:
                    var effect = domain.Classify(call);
                    // The converged set itself (nothing adds to it any more), not a copy per call site.
                    result.AddCall(call, effect, observed.BeforeSet);
                    if (!effect.NeverReturns)
                        AddCrossings(observed, effect, handOff: effect.Region == Recognition.RegionOperation.Hypercall, domain, result);
                    break;
                case IObjectCreationOperation { Constructor: { } constructor } creation:
                    AddCrossings(observed, domain.Classify(constructor), handOff: false, domain, result);
                    break;
                case ILocalReferenceOperation read:
                    for (var i = 0; i < observed.BeforeSet.Count; i++)
                    {
                        if (observed.BeforeSet[i].FactFor(read.Local) is { IsStale: true } fact && LocalFactsDomain.IsReliedOn(read, fact, domain))
                            result.AddStaleUse(read, fact);
                    }
                    break;
            }
        }
        foreach (var exit in states.Exits)
            result.AddExit(ExitSites.For(exit.Branch, states.Graph), exit.State, ReturnedValue(exit.Branch));
    }

    /// <summary>
    /// A region's per-CPU state relied on across a point: the call itself may switch the task (on a path reaching it),
    /// or, under an involuntary model, any instruction after it may (on a path leaving it).
    /// </summary>
    private static void AddCrossings(OperationStates<ContextState> observed, Recognition.CallEffect effect, bool handOff, PreemptContextDomain domain, FlowResult result)
    {
        var point = observed.Operation;
        for (var i = 0; i < observed.BeforeSet.Count; i++)
        {
            var before = observed.BeforeSet[i];
            if (domain.SwitchesDuring(effect, before) && HypercallRegionDomain.StrandedAt(before, handOff) is { } begin)
                result.AddCrossing(begin, point, involuntary: false);
        }
        for (var i = 0; i < observed.AfterSet.Count; i++)
        {
            var after = observed.AfterSet[i];
            if (domain.SwitchesAfter(after) && HypercallRegionDomain.StrandedAt(after, handOff: false) is { } begin)
                result.AddCrossing(begin, point, involuntary: true);
        }
    }

    /// <summary>The value a <c>return expr;</c> (or an expression body) hands back on this branch to the exit.</summary>
    private static Microsoft.CodeAnalysis.IOperation? ReturnedValue(Microsoft.CodeAnalysis.FlowAnalysis.ControlFlowBranch branch) =>
        branch.Source.ConditionKind == Microsoft.CodeAnalysis.FlowAnalysis.ControlFlowConditionKind.None
        && branch.Semantics is Microsoft.CodeAnalysis.FlowAnalysis.ControlFlowBranchSemantics.Regular or Microsoft.CodeAnalysis.FlowAnalysis.ControlFlowBranchSemantics.Return
            ? branch.Source.BranchValue
            : null;
}
