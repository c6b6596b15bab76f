// SPDX-License-Identifier: MIT
using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using XenPreemptAnalyzers.Flow.Core;

namespace XenPreemptAnalyzers.Flow;

internal enum IrqState : byte { Unknown, On, Off }

/// <summary>Where a path stands relative to a preemptible-hypercall region begun in this method.</summary>
internal enum RegionPhase : byte
{
    /// <summary>No region begun in this method on this path.</summary>
    NotBegun,
    /// <summary>Begun here; the hypercall has not been issued yet.</summary>
    BeforeHypercall,
    /// <summary>Begun here; the hypercall has been issued, the region not ended yet.</summary>
    AfterHypercall,
}

/// <summary>What a local holds: a per-CPU value or CPU id that may go stale, the handed-off hypercall state, or a pending conditional acquire.</summary>
internal enum LocalKind : byte { PerCpuValue, CpuId, HypercallStateHandOff, ConditionalAcquire }

/// <summary>
/// A per-CPU fact about one local on one path: what it holds, where it came from, whether it was
/// obtained while the task was pinned to its CPU, and the first point since then where the task may
/// have been switched (null while none).
/// </summary>
internal readonly record struct LocalFact(
    ILocalSymbol Local,
    LocalKind Kind,
    IOperation Source,
    bool Pinned,
    bool IsHypercallState,
    IOperation? CrossedAt)
{
    public bool IsStale => CrossedAt is not null;

    public bool Equals(LocalFact other) =>
        SymbolEqualityComparer.Default.Equals(Local, other.Local) && Kind == other.Kind && Source == other.Source
        && Pinned == other.Pinned && IsHypercallState == other.IsHypercallState && CrossedAt == other.CrossedAt;

    public override int GetHashCode() => SymbolEqualityComparer.Default.GetHashCode(Local) ^ ((int)Kind << 4) ^ (IsStale ? 1 : 0);
}

/// <summary>
/// The context on one path at one program point: one element of the engine's disjunctive state set.
/// Keeping paths apart (rather than joining field by field) is what lets a rule say the context is proven
/// "on the path". Immutable; equality is structural, so sets of states reach a fixpoint.
/// It is the product of three domains (docs/design.md, "Domains"), each changed only by its own transfer functions
/// (Flow/Domains): the context counts (<see cref="Preempt"/>, <see cref="Migrate"/>, <see cref="Irq"/>,
/// <see cref="IrqSaved"/>, <see cref="EntryIrq"/>), the hypercall region (<see cref="Region"/>, <see cref="RegionBegin"/>,
/// <see cref="RegionDelta"/>, <see cref="OnHypercallReschedulePath"/>, <see cref="PerCpuHypercallStateSetBy"/>) and the
/// per-CPU facts about locals (<see cref="Locals"/>); plus the core's path bookkeeping (<see cref="IPathState{TState}"/>).
/// </summary>
internal sealed record ContextState : IPathState<ContextState>
{
    public Depth Preempt { get; init; }
    public Depth Migrate { get; init; }
    public IrqState Irq { get; init; }
    public IrqState IrqSaved { get; init; }

    /// <summary>
    /// The IRQ state this path proves the method was entered with, when the entry state was unknown and a
    /// test (<c>irqs_disabled()</c>, <c>preemptible()</c>) before any IRQ change told it: a path that learned
    /// "entered with IRQs off" and leaves them off is balanced.
    /// </summary>
    public IrqState EntryIrq { get; init; }
    public RegionPhase Region { get; init; }
    public IOperation? RegionBegin { get; init; }

    /// <summary>Region begins minus ends since entry (the region's balance).</summary>
    public int RegionDelta { get; init; }

    /// <summary>Reached only when the preemptible-hypercall state is set (or in a <c>[HypercallPreemptionPoint]</c>).</summary>
    public bool OnHypercallReschedulePath { get; init; }

    /// <summary>
    /// A test on this path found per-CPU preemptible-hypercall state set, and nothing has cleared it since: a reschedule
    /// here switches the task with the state left on this CPU (the hand-off clears it first). Null while no test did.
    /// </summary>
    public IOperation? PerCpuHypercallStateSetBy { get; init; }

    /// <summary>Facts about locals, sorted by the local's declaration position.</summary>
    public ImmutableArray<LocalFact> Locals { get; init; } = ImmutableArray<LocalFact>.Empty;

    public Continuation Continuation { get; init; } = Continuation.Nothing;

    public ContextState WithContinuation(Continuation continuation) =>
        Continuation == continuation ? this : this with { Continuation = continuation };

    /// <summary>The path called something that never returns: it ends here, and nothing after it is reached.</summary>
    public bool Ended { get; init; }

    /// <summary>
    /// Boolean locals and parameters tested on this path, with the outcome: <c>if (b) preempt_disable(); …
    /// if (b) preempt_enable();</c> then never pairs the first test's true side with the second's false side.
    /// </summary>
    public ImmutableArray<(ISymbol Variable, bool Value)> Conditions { get; init; } = ImmutableArray<(ISymbol, bool)>.Empty;

    public bool? ConditionValue(ISymbol variable)
    {
        foreach (var (known, value) in Conditions)
        {
            if (SymbolEqualityComparer.Default.Equals(known, variable))
                return value;
        }
        return null;
    }

    public ContextState WithCondition(ISymbol variable, bool value)
    {
        if (ConditionValue(variable) == value)
            return this;
        var cleared = WithoutCondition(variable);
        return cleared with { Conditions = cleared.Conditions.Add((variable, value)) };
    }

    /// <summary>The variable was assigned: what was tested no longer holds.</summary>
    public ContextState WithoutCondition(ISymbol variable) =>
        ConditionValue(variable) is null
            ? this
            : this with { Conditions = Conditions.RemoveAll(c => SymbolEqualityComparer.Default.Equals(c.Variable, variable)) };

    /// <summary>Proven preemptible: preemption, migration and IRQs enabled (the task may be switched anywhere under full/lazy).</summary>
    public bool IsProvenPreemptible => Preempt.IsZero && Migrate.IsZero && Irq == IrqState.On;

    /// <summary>Proven atomic for sleeping: IRQs off or preemption disabled.</summary>
    public bool IsProvenAtomic => Irq == IrqState.Off || Preempt.IsDisabled;

    public LocalFact? FactFor(ILocalSymbol local)
    {
        foreach (var fact in Locals)
        {
            if (SymbolEqualityComparer.Default.Equals(fact.Local, local))
                return fact;
        }
        return null;
    }

    public ContextState WithFact(ILocalSymbol local, LocalFact? fact)
    {
        // Every assignment to a local asks to forget its fact; most locals never had one (no closure, no copy).
        if (fact is null && FactFor(local) is null)
            return this;
        var kept = Locals.RemoveAll(f => SymbolEqualityComparer.Default.Equals(f.Local, local));
        if (fact is { } added)
            kept = kept.Add(added).Sort((a, b) => Position(a.Local).CompareTo(Position(b.Local)));
        return kept.SequenceEqual(Locals) ? this : this with { Locals = kept };
    }

    private static int Position(ILocalSymbol local) =>
        local.Locations.Length > 0 ? local.Locations[0].SourceSpan.Start : local.Name.GetHashCode();

    /// <summary>The task may be switched here: every pinned value obtained so far now may be from another CPU.</summary>
    public ContextState MarkPinnedLocalsCrossed(IOperation point)
    {
        if (!Locals.Any(f => f.Pinned && !f.IsStale))
            return this;
        var builder = Locals.ToBuilder();
        for (var i = 0; i < builder.Count; i++)
        {
            if (builder[i].Pinned && !builder[i].IsStale)
                builder[i] = builder[i] with { CrossedAt = point };
        }
        return this with { Locals = builder.MoveToImmutable() };
    }

    public bool Equals(ContextState? other) =>
        other is not null
        && Preempt.Equals(other.Preempt) && Migrate.Equals(other.Migrate) && Irq == other.Irq && IrqSaved == other.IrqSaved && EntryIrq == other.EntryIrq
        && Region == other.Region && RegionBegin == other.RegionBegin && RegionDelta == other.RegionDelta
        && OnHypercallReschedulePath == other.OnHypercallReschedulePath && Continuation == other.Continuation && Ended == other.Ended
        && PerCpuHypercallStateSetBy == other.PerCpuHypercallStateSetBy
        && Locals.SequenceEqual(other.Locals)
        && Conditions.Length == other.Conditions.Length
        && Conditions.All(c => other.ConditionValue(c.Variable) == c.Value);

    public override int GetHashCode()
    {
        var hash = Preempt.GetHashCode();
        hash = (hash * 31) + Migrate.GetHashCode();
        hash = (hash * 31) + ((int)Irq | ((int)IrqSaved << 2) | ((int)Region << 4) | (OnHypercallReschedulePath ? 64 : 0) | ((int)EntryIrq << 7));
        hash = (hash * 31) + RegionDelta;
        hash = (hash * 31) + Continuation.GetHashCode();
        hash = (hash * 31) + Conditions.Length;
        foreach (var fact in Locals)
            hash = (hash * 31) + fact.GetHashCode();
        return hash;
    }

    public override string ToString() =>
        $"preempt={Preempt} migrate={Migrate} irq={Irq} region={Region} hcallPath={OnHypercallReschedulePath} locals={Locals.Length}";
}
