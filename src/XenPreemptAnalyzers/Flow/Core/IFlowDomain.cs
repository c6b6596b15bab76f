// SPDX-License-Identifier: MIT
using Microsoft.CodeAnalysis;

namespace XenPreemptAnalyzers.Flow.Core;

/// <summary>
/// Where control goes after a <c>finally</c> region: the branch that entered it (an index into the graph's
/// branch table) and how many of its finally regions have run; or "exceptional", for an exception that
/// propagates out of the finally.
/// </summary>
internal readonly record struct Continuation(int BranchId, int FinallyIndex)
{
    public static readonly Continuation Nothing = new(-1, 0);
    public static readonly Continuation Exceptional = new(-2, 0);
    public bool IsPending => BranchId >= 0;
}

/// <summary>
/// The part of a path state the core itself reads and writes: where a finally goes on to, whether the path has
/// ended, and the boolean variables tested on the path. Everything else in a state belongs to the domains.
/// States are immutable with structural equality, so sets of them reach a fixpoint.
/// </summary>
internal interface IPathState<TState>
    where TState : class, IPathState<TState>
{
    Continuation Continuation { get; }

    TState WithContinuation(Continuation continuation);

    /// <summary>The path called something that never returns: nothing after it is reached.</summary>
    bool Ended { get; }

    /// <summary>The value a boolean local or parameter was tested (or assigned a constant) to have on this path.</summary>
    bool? ConditionValue(ISymbol variable);

    TState WithCondition(ISymbol variable, bool value);

    /// <summary>The variable was assigned: what was tested no longer holds.</summary>
    TState WithoutCondition(ISymbol variable);
}

/// <summary>
/// What a domain plugs into <see cref="ForwardFlowAnalysis{TState}"/>: its transfer function and its refinement of
/// a branch condition. The core walks each operation tree in execution order (operands first, an assignment's target
/// never read) and hands each operation to <see cref="Transfer"/>; it never interprets an operation itself beyond
/// constants, <c>!</c> and tested booleans (docs/design.md, "The engine").
/// </summary>
internal interface IFlowDomain<TState>
    where TState : class, IPathState<TState>
{
    /// <summary>The state after <paramref name="operation"/>, reached in <paramref name="state"/> (its operands already applied).</summary>
    /// <param name="operation">One operation of the tree the core walks.</param>
    /// <param name="state">The path state before it.</param>
    /// <param name="observed">Whether the states before and after this operation are kept in the result.</param>
    TState Transfer(IOperation operation, TState state, out bool observed);

    /// <summary>
    /// The state on the side of a branch where <paramref name="condition"/> is <paramref name="value"/>, after the core
    /// has applied what it knows (constants, negation, a tested boolean variable); null if that side is infeasible.
    /// </summary>
    TState? Refine(TState state, IOperation condition, bool value);
}
