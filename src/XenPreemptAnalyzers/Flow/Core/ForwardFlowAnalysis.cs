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
    private readonly StateSet[] _inputs;
    private readonly bool _hasFinallyRegions;
    private readonly Dictionary<IOperation, OperationStates<TState>> _observed = new();
    private readonly HashSet<(ControlFlowBranch, TState)> _exitSet = new();
    private readonly List<(int Block, ExitState<TState> Exit)> _exits = new();
    private int _blockVisits;

    private ForwardFlowAnalysis(ControlFlowGraph graph, IFlowDomain<TState> domain, CancellationToken cancellationToken)
    {
        _graph = graph;
        _domain = domain;
        _cancellationToken = cancellationToken;
        _inputs = new StateSet[graph.Blocks.Length];
        for (var i = 0; i < _inputs.Length; i++)
            _inputs[i] = new StateSet();
        _hasFinallyRegions = HasFinallyRegion(graph.Root);
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
    /// engine's time on kernel-style code (profiled). Graphs without a finally need none of that.
    /// </summary>
    private static bool HasFinallyRegion(ControlFlowRegion region)
    {
        if (region.Kind == ControlFlowRegionKind.Finally)
            return true;
        foreach (var nested in region.NestedRegions)
        {
            if (HasFinallyRegion(nested))
                return true;
        }
        return false;
    }

    private FlowStates<TState> Iterate(TState entry)
    {
        _inputs[0].Add(entry);
        var worklist = new SortedSet<int> { 0 };
        while (worklist.Count > 0)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            var ordinal = worklist.Min;
            worklist.Remove(ordinal);
            foreach (var changed in ProcessBlock(_graph.Blocks[ordinal]))
                worklist.Add(changed);
        }

        if (_inputs.Any(set => set.IsTop))
            return new FlowStates<TState>(_graph, isImprecise: true, _blockVisits, new List<OperationStates<TState>>(), new List<ExitState<TState>>());

        var operations = _observed.Values.OrderBy(o => o.Block).ThenBy(o => o.Position).ToList();
        var exits = _exits.Select((e, i) => (e, i)).OrderBy(x => x.e.Block).ThenBy(x => x.i).Select(x => x.e.Exit).ToList();
        return new FlowStates<TState>(_graph, isImprecise: false, _blockVisits, operations, exits);
    }

    /// <summary>Runs one block over its input paths and hands the results to its successors.</summary>
    /// <returns>The ordinals of blocks whose input grew.</returns>
    private HashSet<int> ProcessBlock(BasicBlock block)
    {
        _blockVisits++;
        Interlocked.Increment(ref s_totalBlockVisits);
        var changed = new HashSet<int>();
        var input = _inputs[block.Ordinal];

        if (input.IsTop)
        {
            foreach (var target in AllSuccessorOrdinals(block))
            {
                if (_inputs[target].MakeTop())
                    changed.Add(target);
            }
            return changed;
        }

        foreach (var entryState in input.States.ToArray())
        {
            var state = entryState;
            var position = 0;
            foreach (var operation in block.Operations)
            {
                state = Walk(operation, state, block.Ordinal, ref position);
                if (state.Ended)
                    break;
            }
            if (block.BranchValue is { } branchValue && !state.Ended)
                state = Walk(branchValue, state, block.Ordinal, ref position);

            SeedExceptionHandlers(block, entryState, atTryEntry: true, changed);
            if (state.Ended)
                continue; // a call that never returns: no exit, no successor
            if (IsThrow(block))
                SeedExceptionHandlers(block, state, atTryEntry: false, changed);
            Route(block, state, changed);
        }
        return changed;
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
            if (!_observed.TryGetValue(operation, out var states))
            {
                states = new OperationStates<TState>(operation, block, position);
                _observed.Add(operation, states);
            }
            states.BeforeSet.Add(state);
            states.AfterSet.Add(after);
        }
        return after;
    }

    // ---- branches ---------------------------------------------------------------------------------

    private void Route(BasicBlock block, TState state, HashSet<int> changed)
    {
        if (block.ConditionKind == ControlFlowConditionKind.None)
        {
            Follow(block, block.FallThroughSuccessor, state, changed);
            return;
        }
        var conditionalValue = block.ConditionKind == ControlFlowConditionKind.WhenTrue;
        if (Refine(state, block.BranchValue!, conditionalValue) is { } whenConditional)
            Follow(block, block.ConditionalSuccessor, whenConditional, changed);
        if (Refine(state, block.BranchValue!, !conditionalValue) is { } whenFallThrough)
            Follow(block, block.FallThroughSuccessor, whenFallThrough, changed);
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

    private void Follow(BasicBlock from, ControlFlowBranch? branch, TState state, HashSet<int> changed)
    {
        if (branch is null)
            return;
        switch (branch.Semantics)
        {
            case ControlFlowBranchSemantics.StructuredExceptionHandling:
                LeaveFinally(from, state, changed);
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
            Enqueue(branch.FinallyRegions[0].FirstBlockOrdinal, state.WithContinuation(new Continuation(id, 0)), changed);
            return;
        }
        Deliver(from, branch, state, changed);
    }

    /// <summary>The end of a finally: go on to the next finally of the branch that entered it, or to its destination.</summary>
    private void LeaveFinally(BasicBlock from, TState state, HashSet<int> changed)
    {
        if (!state.Continuation.IsPending)
            return; // an exception propagating out, or the end of a filter
        var branch = _branchesThroughFinally[state.Continuation.BranchId];
        var next = state.Continuation.FinallyIndex + 1;
        if (next < branch.FinallyRegions.Length)
        {
            Enqueue(branch.FinallyRegions[next].FirstBlockOrdinal, state.WithContinuation(new Continuation(state.Continuation.BranchId, next)), changed);
            return;
        }
        Deliver(from, branch, state.WithContinuation(Continuation.Nothing), changed);
    }

    private void Deliver(BasicBlock from, ControlFlowBranch branch, TState state, HashSet<int> changed)
    {
        if (branch.Destination is not { } destination)
            return;
        if (destination.Kind == BasicBlockKind.Exit)
        {
            AddExit(from, branch, state);
            return;
        }
        Enqueue(destination.Ordinal, state, changed);
    }

    private void AddExit(BasicBlock from, ControlFlowBranch branch, TState state)
    {
        if (_exitSet.Add((branch, state)))
            _exits.Add((from.Ordinal, new ExitState<TState>(branch, state)));
    }

    private void Enqueue(int ordinal, TState state, HashSet<int> changed)
    {
        if (_inputs[ordinal].Add(state))
            changed.Add(ordinal);
    }

    private static bool IsThrow(BasicBlock block) =>
        block.FallThroughSuccessor?.Semantics is ControlFlowBranchSemantics.Throw or ControlFlowBranchSemantics.Rethrow;

    /// <summary>
    /// Exceptions are not CFG edges, and kernel control flow has none: a call that throws midway is not modelled
    /// (as in sparse and Clang's context analysis). A try's handlers (catch, and finally on the way out, after which
    /// the exception propagates and the path is dropped) are entered with the state the try was entered with, and
    /// with that of each <c>throw</c> inside it (docs/design.md, "Exceptions").
    /// </summary>
    private void SeedExceptionHandlers(BasicBlock block, TState state, bool atTryEntry, HashSet<int> changed)
    {
        foreach (var region in EnclosingRegions(block))
        {
            if (region.Kind != ControlFlowRegionKind.Try || region.EnclosingRegion is not { } tryStatement)
                continue;
            if (atTryEntry && region.FirstBlockOrdinal != block.Ordinal)
                continue;
            foreach (var handler in tryStatement.NestedRegions.Skip(1))
            {
                var continuation = handler.Kind == ControlFlowRegionKind.Finally ? Continuation.Exceptional : Continuation.Nothing;
                Enqueue(handler.FirstBlockOrdinal, state.WithContinuation(continuation), changed);
            }
        }
    }

    private bool IsInsideTry(BasicBlock block) => EnclosingRegions(block).Any(region => region.Kind == ControlFlowRegionKind.Try);

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

    /// <summary>A bounded set of path states; past the bound it becomes "anything" (top).</summary>
    private sealed class StateSet
    {
        private readonly HashSet<TState> _states = new();

        public bool IsTop { get; private set; }

        public IEnumerable<TState> States => _states;

        public bool Add(TState state)
        {
            if (IsTop || !_states.Add(state))
                return false;
            if (_states.Count > MaxPathsPerBlock)
                MakeTop();
            return true;
        }

        public bool MakeTop()
        {
            if (IsTop)
                return false;
            IsTop = true;
            _states.Clear();
            return true;
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
