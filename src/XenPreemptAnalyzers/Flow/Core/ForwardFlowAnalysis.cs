// SPDX-License-Identifier: MIT
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace XenPreemptAnalyzers.Flow.Core;

/// <summary>
/// The generic forward data-flow core (docs/design.md, "The engine"): a worklist over a <see cref="ControlFlowGraph"/>
/// to a fixpoint. The state at a block is a bounded set of path states (a disjunctive domain): joins are unions, so
/// what is proven on a path survives merges. Loops terminate because a domain's states are finite and sets only grow;
/// a set that grows past <see cref="MaxPathsPerBlock"/> becomes "anything" and the result is imprecise.
/// try/finally, using, goto, switch, early return and throw arrive as CFG branches and regions, handled here.
/// The core knows nothing of what the states mean: operations go to the domain's transfer function, conditions to
/// its refinement after constants, negation and tested booleans.
/// </summary>
/// <remarks>
/// Because path sets only grow and a block is re-run over all its paths whenever its input grows, every state an
/// observed operation is ever reached in belongs to the fixed point: the states kept while iterating are the result,
/// and no second pass is needed.
/// </remarks>
internal sealed class ForwardFlowAnalysis<TState>
    where TState : class, IPathState<TState>
{
    public const int MaxPathsPerBlock = 64;

    private static long s_totalBlockVisits;

    private readonly ControlFlowGraph _graph;
    private readonly IFlowDomain<TState> _domain;
    private readonly CancellationToken _cancellationToken;
    private readonly List<ControlFlowBranch> _branchesThroughFinally = new();

    /// <summary>The path states reaching each block; null until one does, and again once the block's set is top.</summary>
    private readonly PathSet<TState>?[] _inputs;
    private readonly bool[] _isTop;
    private bool _anyTop;
    private readonly Worklist _worklist;
    private readonly bool _hasFinallyRegions;
    private readonly bool _hasTryRegions;

    /// <summary>Per block, the exception handlers its enclosing try regions lead to (computed on first use; graphs with a try only).</summary>
    private readonly HandlerEntry[]?[]? _handlers;

    /// <summary>
    /// Observed operations by block and position. An operation's position is where the walk of its block reaches it,
    /// the same on every path, so this indexes each operation once and enumerates them in execution order without a
    /// hash of the operation or a sort.
    /// </summary>
    private readonly OperationStates<TState>?[]?[] _observed;
    private readonly HashSet<(ControlFlowBranch, TState)> _exitSet = new();
    private readonly List<(int Block, ExitState<TState> Exit)> _exits = new();
    private int _blockVisits;

    private ForwardFlowAnalysis(ControlFlowGraph graph, IFlowDomain<TState> domain, CancellationToken cancellationToken)
    {
        _graph = graph;
        _domain = domain;
        _cancellationToken = cancellationToken;
        var blocks = graph.Blocks.Length;
        _inputs = new PathSet<TState>?[blocks];
        _isTop = new bool[blocks];
        _observed = new OperationStates<TState>?[]?[blocks];
        _worklist = new Worklist(blocks);
        _hasFinallyRegions = HasRegion(graph.Root, ControlFlowRegionKind.Finally);
        _hasTryRegions = HasRegion(graph.Root, ControlFlowRegionKind.Try);
        _handlers = _hasTryRegions ? new HandlerEntry[]?[blocks] : null;
    }

    /// <summary>Block visits across all analyses in this process: lets a test or benchmark bound the work.</summary>
    public static long TotalBlockVisits => Interlocked.Read(ref s_totalBlockVisits);

    public static FlowStates<TState> Run(ControlFlowGraph graph, TState entry, IFlowDomain<TState> domain, CancellationToken cancellationToken)
    {
        var analysis = new ForwardFlowAnalysis<TState>(graph, domain, cancellationToken);
        return analysis.Iterate(entry);
    }

    /// <summary>
    /// Roslyn computes a branch's finally regions on first access, walking its regions: about a third of the
    /// engine's time on kernel-style code (profiled). Graphs without a finally need none of that; graphs without
    /// a try need no exception-handler seeding.
    /// </summary>
    private static bool HasRegion(ControlFlowRegion region, ControlFlowRegionKind kind)
    {
        if (region.Kind == kind)
            return true;
        foreach (var nested in region.NestedRegions)
        {
            if (HasRegion(nested, kind))
                return true;
        }
        return false;
    }

    private FlowStates<TState> Iterate(TState entry)
    {
        AddInput(0, entry);
        _worklist.Add(0);
        while (_worklist.Count > 0)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            ProcessBlock(_graph.Blocks[_worklist.RemoveMin()]);
        }
        Interlocked.Add(ref s_totalBlockVisits, _blockVisits);

        if (_anyTop)
            return new FlowStates<TState>(_graph, isImprecise: true, _blockVisits, new List<OperationStates<TState>>(), new List<ExitState<TState>>());
        return new FlowStates<TState>(_graph, isImprecise: false, _blockVisits, ObservedInExecutionOrder(), ExitsInBlockOrder());
    }

    /// <summary>Observed operations by block ordinal, then position in the block.</summary>
    private List<OperationStates<TState>> ObservedInExecutionOrder()
    {
        var operations = new List<OperationStates<TState>>();
        foreach (var block in _observed)
        {
            if (block is null)
                continue;
            foreach (var observed in block)
            {
                if (observed is not null)
                    operations.Add(observed);
            }
        }
        return operations;
    }

    /// <summary>Exits by the ordinal of the block whose processing reached them, then in the order they were found (a stable sort of a short list).</summary>
    private List<ExitState<TState>> ExitsInBlockOrder()
    {
        var sorted = new List<(int Block, ExitState<TState> Exit)>(_exits.Count);
        foreach (var exit in _exits)
        {
            var at = sorted.Count;
            while (at > 0 && sorted[at - 1].Block > exit.Block)
                at--;
            sorted.Insert(at, exit);
        }
        var exits = new List<ExitState<TState>>(sorted.Count);
        foreach (var (_, exit) in sorted)
            exits.Add(exit);
        return exits;
    }

    /// <summary>Runs one block over its input paths and hands the results to its successors (queueing those whose input grew).</summary>
    private void ProcessBlock(BasicBlock block)
    {
        _blockVisits++;
        var ordinal = block.Ordinal;

        if (_isTop[ordinal])
        {
            foreach (var target in AllSuccessorOrdinals(block))
            {
                if (MakeTop(target))
                    _worklist.Add(target);
            }
            return;
        }

        // The paths present now: a path this visit adds to the block's own input (a loop back to itself) is run by the
        // next visit. The set only grows (and becoming top drops it without clearing it), so a count is a snapshot.
        var input = _inputs[ordinal]!;
        var count = input.Count;
        for (var i = 0; i < count; i++)
        {
            var entryState = input[i];
            var state = entryState;
            var position = 0;
            foreach (var operation in block.Operations)
            {
                state = Walk(operation, state, ordinal, ref position);
                if (state.Ended)
                    break;
            }
            if (block.BranchValue is { } branchValue && !state.Ended)
                state = Walk(branchValue, state, ordinal, ref position);

            SeedExceptionHandlers(block, entryState, atTryEntry: true);
            if (state.Ended)
                continue; // a call that never returns: no exit, no successor
            if (IsThrow(block))
                SeedExceptionHandlers(block, state, atTryEntry: false);
            Route(block, state);
        }
    }

    /// <summary>Evaluates an operation tree in execution order (operands before the operation).</summary>
    private TState Walk(IOperation operation, TState state, int block, ref int position)
    {
        switch (operation)
        {
            case IFlowAnonymousFunctionOperation:
                return state; // a lambda body is its own graph
            case IAssignmentOperation { Target: ILocalReferenceOperation or IParameterReferenceOperation } assignment:
                // The target is written, not read: only the value is evaluated before the assignment.
                state = Walk(assignment.Value, state, block, ref position);
                state = Apply(assignment, state, block, ref position);
                var variable = assignment.Target is ILocalReferenceOperation local ? (ISymbol)local.Local : ((IParameterReferenceOperation)assignment.Target).Parameter;
                state = state.WithoutCondition(variable);
                // bool taken = false; … taken = true;: a flag set with a constant is a tested variable whose value is known.
                return assignment is ISimpleAssignmentOperation { Target: ILocalReferenceOperation } && assignment.Value.ConstantValue is { HasValue: true, Value: bool known }
                    ? state.WithCondition(variable, known)
                    : state;
        }

        foreach (var child in operation.ChildOperations)
            state = Walk(child, state, block, ref position);
        return Apply(operation, state, block, ref position);
    }

    private TState Apply(IOperation operation, TState state, int block, ref int position)
    {
        position++;
        if (state.Ended)
            return state;
        var after = _domain.Transfer(operation, state, out var observed);
        if (observed)
        {
            var states = ObservedAt(operation, block, position);
            states.BeforeSet.Add(state);
            states.AfterSet.Add(after);
        }
        return after;
    }

    private OperationStates<TState> ObservedAt(IOperation operation, int block, int position)
    {
        var inBlock = _observed[block];
        if (inBlock is null || inBlock.Length <= position)
        {
            System.Array.Resize(ref inBlock, System.Math.Max(position + 1, inBlock is null ? 4 : inBlock.Length * 2));
            _observed[block] = inBlock;
        }
        var states = inBlock[position];
        if (states is null)
        {
            states = new OperationStates<TState>(operation, block, position);
            inBlock[position] = states;
        }
        System.Diagnostics.Debug.Assert(states.Operation == operation, "a position in a block is always the same operation");
        return states;
    }

    // ---- branches ---------------------------------------------------------------------------------

    private void Route(BasicBlock block, TState state)
    {
        if (block.ConditionKind == ControlFlowConditionKind.None)
        {
            Follow(block, block.FallThroughSuccessor, state);
            return;
        }
        var conditionalValue = block.ConditionKind == ControlFlowConditionKind.WhenTrue;
        if (Refine(state, block.BranchValue!, conditionalValue) is { } whenConditional)
            Follow(block, block.ConditionalSuccessor, whenConditional);
        if (Refine(state, block.BranchValue!, !conditionalValue) is { } whenFallThrough)
            Follow(block, block.FallThroughSuccessor, whenFallThrough);
    }

    /// <summary>The generic part of a branch's meaning: constants, negation, a tested boolean; the rest is the domain's.</summary>
    private TState? Refine(TState state, IOperation condition, bool value)
    {
        condition = condition.WithoutConversions();
        if (condition.ConstantValue is { HasValue: true, Value: bool constant })
            return constant == value ? state : null; // while (true): the side a constant never takes
        if (condition is IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not)
            return Refine(state, not.Operand, !value);
        if (TestedVariable(condition) is { } variable)
        {
            if (state.ConditionValue(variable) is { } known && known != value)
                return null; // the other side of an earlier test of the same variable
            state = state.WithCondition(variable, value);
        }
        return _domain.Refine(state, condition, value);
    }

    private static ISymbol? TestedVariable(IOperation condition) => condition switch
    {
        ILocalReferenceOperation local => local.Local,
        IParameterReferenceOperation { Parameter.RefKind: RefKind.None } parameter => parameter.Parameter,
        _ => null,
    };

    private void Follow(BasicBlock from, ControlFlowBranch? branch, TState state)
    {
        if (branch is null)
            return;
        switch (branch.Semantics)
        {
            case ControlFlowBranchSemantics.StructuredExceptionHandling:
                LeaveFinally(from, state);
                return;
            case ControlFlowBranchSemantics.Throw:
            case ControlFlowBranchSemantics.Rethrow:
                // An exception inside a try is handled (or finally'd) by the handler seeding; only a throw
                // that leaves the method directly is an exit with this state.
                if (!IsInsideTry(branch.Source))
                    AddExit(from, branch, state);
                return;
            case ControlFlowBranchSemantics.ProgramTermination:
            case ControlFlowBranchSemantics.Error:
                return;
        }

        if (_hasFinallyRegions && !branch.FinallyRegions.IsEmpty)
        {
            var id = _branchesThroughFinally.IndexOf(branch);
            if (id < 0)
            {
                id = _branchesThroughFinally.Count;
                _branchesThroughFinally.Add(branch);
            }
            Enqueue(branch.FinallyRegions[0].FirstBlockOrdinal, state.WithContinuation(new Continuation(id, 0)));
            return;
        }
        Deliver(from, branch, state);
    }

    /// <summary>The end of a finally: go on to the next finally of the branch that entered it, or to its destination.</summary>
    private void LeaveFinally(BasicBlock from, TState state)
    {
        if (!state.Continuation.IsPending)
            return; // an exception propagating out, or the end of a filter
        var branch = _branchesThroughFinally[state.Continuation.BranchId];
        var next = state.Continuation.FinallyIndex + 1;
        if (next < branch.FinallyRegions.Length)
        {
            Enqueue(branch.FinallyRegions[next].FirstBlockOrdinal, state.WithContinuation(new Continuation(state.Continuation.BranchId, next)));
            return;
        }
        Deliver(from, branch, state.WithContinuation(Continuation.Nothing));
    }

    private void Deliver(BasicBlock from, ControlFlowBranch branch, TState state)
    {
        if (branch.Destination is not { } destination)
            return;
        if (destination.Kind == BasicBlockKind.Exit)
        {
            AddExit(from, branch, state);
            return;
        }
        Enqueue(destination.Ordinal, state);
    }

    private void AddExit(BasicBlock from, ControlFlowBranch branch, TState state)
    {
        if (_exitSet.Add((branch, state)))
            _exits.Add((from.Ordinal, new ExitState<TState>(branch, state)));
    }

    private void Enqueue(int ordinal, TState state)
    {
        if (AddInput(ordinal, state))
            _worklist.Add(ordinal);
    }

    /// <summary>Adds a path to a block's input; past <see cref="MaxPathsPerBlock"/> paths the input becomes top ("anything").</summary>
    /// <returns>Whether the input grew.</returns>
    private bool AddInput(int ordinal, TState state)
    {
        if (_isTop[ordinal])
            return false;
        var input = _inputs[ordinal] ??= new PathSet<TState>();
        if (!input.Add(state))
            return false;
        if (input.Count > MaxPathsPerBlock)
            MakeTop(ordinal);
        return true;
    }

    private bool MakeTop(int ordinal)
    {
        if (_isTop[ordinal])
            return false;
        _isTop[ordinal] = true;
        _anyTop = true;
        _inputs[ordinal] = null;
        return true;
    }

    private static bool IsThrow(BasicBlock block) =>
        block.FallThroughSuccessor?.Semantics is ControlFlowBranchSemantics.Throw or ControlFlowBranchSemantics.Rethrow;

    /// <summary>
    /// Exceptions are not CFG edges, and kernel control flow has none: a call that throws midway is not modelled
    /// (as in sparse and Clang's context analysis). A try's handlers (catch, and finally on the way out, after which
    /// the exception propagates and the path is dropped) are entered with the state the try was entered with, and
    /// with that of each <c>throw</c> inside it (docs/design.md, "Exceptions").
    /// </summary>
    private void SeedExceptionHandlers(BasicBlock block, TState state, bool atTryEntry)
    {
        if (!_hasTryRegions)
            return;
        foreach (var handler in HandlersOf(block))
        {
            if (atTryEntry && !handler.TryStartsHere)
                continue;
            Enqueue(handler.FirstBlock, state.WithContinuation(handler.IsFinally ? Continuation.Exceptional : Continuation.Nothing));
        }
    }

    /// <summary>
    /// The handlers (catch, filter, finally) of each try region around <paramref name="block"/>, innermost try first,
    /// each try's handlers in order: the same for every path and visit of the block, so computed once per block.
    /// </summary>
    private HandlerEntry[] HandlersOf(BasicBlock block)
    {
        if (_handlers![block.Ordinal] is { } known)
            return known;
        var handlers = new List<HandlerEntry>();
        foreach (var region in EnclosingRegions(block))
        {
            if (region.Kind != ControlFlowRegionKind.Try || region.EnclosingRegion is not { } tryStatement)
                continue;
            var startsHere = region.FirstBlockOrdinal == block.Ordinal;
            foreach (var handler in tryStatement.NestedRegions.Skip(1))
                handlers.Add(new HandlerEntry(handler.FirstBlockOrdinal, handler.Kind == ControlFlowRegionKind.Finally, startsHere));
        }
        return _handlers[block.Ordinal] = handlers.ToArray();
    }

    /// <summary>An exception handler reachable from a block: its first block, whether it is a finally, whether the try begins at the block.</summary>
    private readonly record struct HandlerEntry(int FirstBlock, bool IsFinally, bool TryStartsHere);

    private bool IsInsideTry(BasicBlock block) => _hasTryRegions && EnclosingRegions(block).Any(region => region.Kind == ControlFlowRegionKind.Try);

    /// <summary>
    /// The regions around <paramref name="block"/> up to this graph's root, never beyond: the graph of a local
    /// function or lambda whose body is half typed can hang its root under the enclosing method's regions, whose
    /// handlers are blocks of another graph (and do not catch what the function throws anyway).
    /// </summary>
    private IEnumerable<ControlFlowRegion> EnclosingRegions(BasicBlock block)
    {
        for (var region = block.EnclosingRegion; region is not null; region = region.EnclosingRegion)
        {
            yield return region;
            if (region == _graph.Root)
                yield break;
        }
    }

    private IEnumerable<int> AllSuccessorOrdinals(BasicBlock block)
    {
        foreach (var branch in new[] { block.FallThroughSuccessor, block.ConditionalSuccessor })
        {
            if (branch is null)
                continue;
            if (branch.Destination is { } destination)
                yield return destination.Ordinal;
            foreach (var region in branch.FinallyRegions)
                yield return region.FirstBlockOrdinal;
            if (branch.Semantics == ControlFlowBranchSemantics.StructuredExceptionHandling)
            {
                foreach (var through in _branchesThroughFinally)
                {
                    if (through.Destination is { } after)
                        yield return after.Ordinal;
                }
            }
        }
        foreach (var region in EnclosingRegions(block))
        {
            if (region.Kind == ControlFlowRegionKind.Try && region.EnclosingRegion is { } tryStatement)
            {
                foreach (var handler in tryStatement.NestedRegions.Skip(1))
                    yield return handler.FirstBlockOrdinal;
            }
        }
    }

    /// <summary>
    /// The blocks waiting to be run, lowest ordinal first (the order the graph lists them in, so a block usually runs after
    /// its predecessors): a binary heap of ordinals with a flag per block so that a queued block is not queued twice.
    /// </summary>
    private sealed class Worklist
    {
        private readonly bool[] _queued;
        private readonly int[] _heap;

        public Worklist(int blocks)
        {
            _queued = new bool[blocks];
            _heap = new int[blocks];
        }

        public int Count { get; private set; }

        public void Add(int ordinal)
        {
            if (_queued[ordinal])
                return;
            _queued[ordinal] = true;
            var at = Count++;
            while (at > 0)
            {
                var parent = (at - 1) / 2;
                if (_heap[parent] <= ordinal)
                    break;
                _heap[at] = _heap[parent];
                at = parent;
            }
            _heap[at] = ordinal;
        }

        public int RemoveMin()
        {
            var min = _heap[0];
            _queued[min] = false;
            var last = _heap[--Count];
            var at = 0;
            while (true)
            {
                var child = (2 * at) + 1;
                if (child >= Count)
                    break;
                if (child + 1 < Count && _heap[child + 1] < _heap[child])
                    child++;
                if (_heap[child] >= last)
                    break;
                _heap[at] = _heap[child];
                at = child;
            }
            if (Count > 0)
                _heap[at] = last;
            return min;
        }
    }
}

/// <summary>Operation helpers the core and the domains share.</summary>
internal static class OperationExtensions
{
    /// <summary>The operation under any implicit or explicit conversions.</summary>
    public static IOperation WithoutConversions(this IOperation operation)
    {
        while (operation is IConversionOperation conversion)
            operation = conversion.Operand;
        return operation;
    }
}
