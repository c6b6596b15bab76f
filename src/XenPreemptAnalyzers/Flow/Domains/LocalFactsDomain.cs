// SPDX-License-Identifier: MIT
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using XenPreemptAnalyzers.Flow.Core;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Flow.Domains;

/// <summary>
/// The per-CPU facts about locals domain (docs/design.md, "Domains"): what a local holds (a per-CPU value, a CPU id,
/// the handed-off hypercall state, a pending conditional acquire), whether it was obtained pinned to a CPU, and the
/// first point since then where the task may have been switched.
/// </summary>
internal static class LocalFactsDomain
{
    /// <summary><c>local = value</c>: the fact the value carries, or none.</summary>
    public static ContextState Assign(ILocalSymbol local, IOperation value, ContextState state, IContextFacts facts)
    {
        value = value.WithoutConversions();
        LocalFact? fact = value switch
        {
            IInvocationOperation call => FactFromCall(local, call, state, facts),
            ILocalReferenceOperation copy when state.FactFor(copy.Local) is { } copied => copied with { Local = local },
            _ when HypercallRegionDomain.IsStateVariable(value, facts) => new LocalFact(local, LocalKind.PerCpuValue, value, Pinned: false, IsHypercallState: true, CrossedAt: null),
            _ => null,
        };
        return state.WithFact(local, fact);
    }

    private static LocalFact? FactFromCall(ILocalSymbol local, IInvocationOperation call, ContextState state, IContextFacts facts)
    {
        var effect = facts.Classify(call);
        LocalKind kind;
        if (effect.DisablesPreemptionWhenReturns is not null)
            return new LocalFact(local, LocalKind.ConditionalAcquire, call, Pinned: false, IsHypercallState: false, CrossedAt: null);
        switch (effect.Result)
        {
            case CallResult.PerCpuValue: kind = LocalKind.PerCpuValue; break;
            case CallResult.CpuId: kind = LocalKind.CpuId; break;
            case CallResult.HypercallStateHandOff: kind = LocalKind.HypercallStateHandOff; break;
            default: return null;
        }
        // A value obtained while the task could be switched at any instruction was never tied to a CPU
        // the code relied on (the checked accessors are the finding there). Track only pinned values.
        var involuntarilyPreemptible = PreemptionModelFacts.HasInvoluntaryPreemption(facts.Model) && state.IsProvenPreemptible;
        var isState = kind == LocalKind.HypercallStateHandOff || HypercallRegionDomain.IsStateRead(call, facts);
        return new LocalFact(local, kind, call, Pinned: !involuntarilyPreemptible, isState, CrossedAt: null);
    }

    /// <summary>The task may be switched at <paramref name="point"/>: cached values go stale unless migration is disabled.</summary>
    public static ContextState CrossPoint(IOperation point, ContextState state) =>
        state.Migrate.IsZero ? state.MarkPinnedLocalsCrossed(point) : state;

    /// <summary>
    /// The per-CPU state was just cleared after being read into a local (get_and_clear_inhcall written inline): the local
    /// now holds the handed-off state, which the restore may write back after the reschedule.
    /// </summary>
    public static ContextState NoteHypercallStateCleared(ContextState state)
    {
        foreach (var fact in state.Locals)
        {
            if (fact is { IsHypercallState: true, IsStale: false, Kind: LocalKind.PerCpuValue })
                state = state.WithFact(fact.Local, fact with { Kind = LocalKind.HypercallStateHandOff });
        }
        return state;
    }

    /// <summary>
    /// Is this read of a stale local one the code relies on? Not when it hands the saved state back (the hand-off's
    /// restore, inline or through <c>restore_inhcall</c>), nor when it compares a cached CPU id with the current one
    /// (<c>if (cpu != smp_processor_id())</c>, the migration check: the one use of a possibly stale id that is right).
    /// </summary>
    public static bool IsReliedOn(ILocalReferenceOperation read, LocalFact fact, IContextFacts facts) =>
        !HypercallRegionDomain.IsHandOffRestoreArgument(read, facts)
        && !(fact.Kind == LocalKind.HypercallStateHandOff && HypercallRegionDomain.IsStateWriteBack(read, facts))
        && !(fact.Kind == LocalKind.CpuId && IsComparedWithCurrentCpu(read, facts));

    private static bool IsComparedWithCurrentCpu(IOperation read, IContextFacts facts)
    {
        if (HypercallRegionDomain.ParentSkippingConversions(read) is not IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals } comparison)
            return false;
        var other = comparison.LeftOperand.WithoutConversions() == read ? comparison.RightOperand : comparison.LeftOperand;
        return other.WithoutConversions() is IInvocationOperation current && facts.Classify(current).Result == CallResult.CpuId;
    }
}
