// SPDX-License-Identifier: MIT
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;

namespace XenPreemptAnalyzers.Flow.Core;

/// <summary>
/// The path states at one operation a domain asked to observe: every state it is reached in (before) and every state
/// it leaves (after), each in the order the paths were found. <see cref="Block"/> and <see cref="Position"/> (the
/// operation's place in its block's execution order) order operations as the code runs them.
/// </summary>
internal sealed class OperationStates<TState>
{
    internal OperationStates(IOperation operation, int block, int position)
    {
        Operation = operation;
        Block = block;
        Position = position;
    }

    public IOperation Operation { get; }

    public int Block { get; }

    public int Position { get; }

    internal PathSet<TState> BeforeSet { get; } = new();

    internal PathSet<TState> AfterSet { get; } = new();

    /// <summary>In the order the paths were found.</summary>
    public IEnumerable<TState> Before => BeforeSet.AsEnumerable();

    public IEnumerable<TState> After => AfterSet.AsEnumerable();
}

/// <summary>A path leaving the graph along <see cref="Branch"/> (a return, the end of the body, or a throw nothing catches).</summary>
internal readonly record struct ExitState<TState>(ControlFlowBranch Branch, TState State);

/// <summary>
/// The fixed point of a <see cref="ForwardFlowAnalysis{TState}"/>: the states at each observed operation and at each
/// exit. Observations (what a rule reads) are derived from these after the analysis converges. An imprecise analysis
/// (a path set grew past its bound) keeps no states.
/// </summary>
internal sealed class FlowStates<TState>
{
    internal FlowStates(ControlFlowGraph graph, bool isImprecise, int blockVisits,
        IReadOnlyList<OperationStates<TState>> operations, IReadOnlyList<ExitState<TState>> exits)
    {
        Graph = graph;
        IsImprecise = isImprecise;
        BlockVisits = blockVisits;
        Operations = operations;
        Exits = exits;
    }

    public ControlFlowGraph Graph { get; }

    public bool IsImprecise { get; }

    /// <summary>How many times the worklist processed a block.</summary>
    public int BlockVisits { get; }

    /// <summary>Observed operations in execution order (block ordinal, then position in the block).</summary>
    public IReadOnlyList<OperationStates<TState>> Operations { get; }

    /// <summary>Exits in the order of the block whose processing reached them, then of the paths.</summary>
    public IReadOnlyList<ExitState<TState>> Exits { get; }

    public OperationStates<TState>? At(IOperation operation) => Operations.FirstOrDefault(o => o.Operation == operation);
}
