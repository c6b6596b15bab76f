using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Flow;

/// <summary>
/// The one flow engine: a forward worklist over a <see cref="ControlFlowGraph"/> to a fixpoint, then one
/// recording pass. The state at a block is a bounded set of <see cref="ContextState"/>s, one per distinct
/// path context (a disjunctive domain): joins are unions, so "proven on a path" survives merges. Loops
/// terminate because every component is finite (counts are capped) and sets only grow; a set that grows
/// past <see cref="MaxPathsPerBlock"/> becomes "anything" and the graph reports nothing.
/// try/finally, using, goto, switch, early return and throw all arrive as CFG branches and regions.
/// </summary>
internal sealed class PreemptFlowEngine
{
    public const int MaxPathsPerBlock = 64;

    private static long s_totalBlockVisits;

    private readonly ControlFlowGraph _graph;
    private readonly CallClassifier _classifier;
    private readonly AnalyzerSettings _settings;
    private readonly FlowResult _result;
    private readonly CancellationToken _cancellationToken;
    private readonly List<ControlFlowBranch> _branchesThroughFinally = new();
    private readonly StateSet[] _inputs;
    private readonly bool _hasFinallyRegions;
    private bool _recording;

    private PreemptFlowEngine(ControlFlowGraph graph, IMethodSymbol? method, CallClassifier classifier, AnalyzerSettings settings, CancellationToken cancellationToken)
    {
        _graph = graph;
        _classifier = classifier;
        _settings = settings;
        _cancellationToken = cancellationToken;
        var ownEffect = method is null ? CallEffect.None : classifier.Classify(method, settings);
        _result = new FlowResult(graph, method, settings, EntryContext.For(method), ownEffect);
        _inputs = new StateSet[graph.Blocks.Length];
        for (var i = 0; i < _inputs.Length; i++)
            _inputs[i] = new StateSet();
        _hasFinallyRegions = HasFinallyRegion(graph.Root);
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

    /// <summary>Block visits across all analyses in this process: lets a test or benchmark bound the work.</summary>
    public static long TotalBlockVisits => Interlocked.Read(ref s_totalBlockVisits);

    public static FlowResult Analyze(ControlFlowGraph graph, IMethodSymbol? method, CallClassifier classifier, AnalyzerSettings settings, CancellationToken cancellationToken)
    {
        var engine = new PreemptFlowEngine(graph, method, classifier, settings, cancellationToken);
        engine.Run();
        return engine._result;
    }

    private PreemptionModel Model => _settings.Model;

    private void Run()
    {
        _inputs[0].Add(_result.Entry);
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
        {
            _result.IsImprecise = true;
            return;
        }

        _recording = true;
        foreach (var block in _graph.Blocks)
        {
            if (!_inputs[block.Ordinal].IsEmpty)
                _ = ProcessBlock(block).Count();
        }
    }

    /// <summary>Runs one block over its input paths and hands the results to its successors.</summary>
    /// <returns>The ordinals of blocks whose input grew.</returns>
    private IEnumerable<int> ProcessBlock(BasicBlock block)
    {
        _result.BlockVisits++;
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
            foreach (var operation in block.Operations)
                state = Walk(operation, state);
            if (block.BranchValue is { } branchValue)
                state = Walk(branchValue, state);

            SeedExceptionHandlers(block, entryState, changed);
            SeedExceptionHandlers(block, state, changed);
            Route(block, state, changed);
        }
        return changed;
    }

    private void Route(BasicBlock block, ContextState state, HashSet<int> changed)
    {
        if (block.ConditionKind == ControlFlowConditionKind.None)
        {
            Follow(block.FallThroughSuccessor, state, changed);
            return;
        }
        var conditionalValue = block.ConditionKind == ControlFlowConditionKind.WhenTrue;
        if (BranchRefinement.Refine(state, block.BranchValue!, conditionalValue, this) is { } whenConditional)
            Follow(block.ConditionalSuccessor, whenConditional, changed);
        if (BranchRefinement.Refine(state, block.BranchValue!, !conditionalValue, this) is { } whenFallThrough)
            Follow(block.FallThroughSuccessor, whenFallThrough, changed);
    }

    private void Follow(ControlFlowBranch? branch, ContextState state, HashSet<int> changed)
    {
        if (branch is null)
            return;
        switch (branch.Semantics)
        {
            case ControlFlowBranchSemantics.StructuredExceptionHandling:
                LeaveFinally(state, changed);
                return;
            case ControlFlowBranchSemantics.Throw:
            case ControlFlowBranchSemantics.Rethrow:
                // An exception inside a try is handled (or finally'd) by the handler seeding; only a throw
                // that leaves the method directly is an exit with this context.
                if (_recording && !IsInsideTry(branch.Source))
                    _result.RecordExit(ExitSites.For(branch, _graph), state);
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
            Enqueue(branch.FinallyRegions[0].FirstBlockOrdinal, state with { Continuation = new Continuation(id, 0) }, changed);
            return;
        }
        Deliver(branch, state, changed);
    }

    /// <summary>The end of a finally: go on to the next finally of the branch that entered it, or to its destination.</summary>
    private void LeaveFinally(ContextState state, HashSet<int> changed)
    {
        if (!state.Continuation.IsPending)
            return; // an exception propagating out, or the end of a filter
        var branch = _branchesThroughFinally[state.Continuation.BranchId];
        var next = state.Continuation.FinallyIndex + 1;
        if (next < branch.FinallyRegions.Length)
        {
            Enqueue(branch.FinallyRegions[next].FirstBlockOrdinal, state with { Continuation = new Continuation(state.Continuation.BranchId, next) }, changed);
            return;
        }
        Deliver(branch, state with { Continuation = Continuation.Nothing }, changed);
    }

    private void Deliver(ControlFlowBranch branch, ContextState state, HashSet<int> changed)
    {
        if (branch.Destination is not { } destination)
            return;
        if (destination.Kind == BasicBlockKind.Exit)
        {
            if (_recording)
                _result.RecordExit(ExitSites.For(branch, _graph), state);
            return;
        }
        Enqueue(destination.Ordinal, state, changed);
    }

    private void Enqueue(int ordinal, ContextState state, HashSet<int> changed)
    {
        if (_recording)
            return;
        if (_inputs[ordinal].Add(state))
            changed.Add(ordinal);
    }

    /// <summary>
    /// Exceptions are not CFG edges: a state seen in a try block may reach its catch handlers, and its
    /// finally regions on the way out (after which the exception propagates and the path is dropped).
    /// </summary>
    private void SeedExceptionHandlers(BasicBlock block, ContextState state, HashSet<int> changed)
    {
        foreach (var region in EnclosingRegions(block))
        {
            if (region.Kind != ControlFlowRegionKind.Try || region.EnclosingRegion is not { } tryStatement)
                continue;
            foreach (var handler in tryStatement.NestedRegions.Skip(1))
            {
                var continuation = handler.Kind == ControlFlowRegionKind.Finally ? Continuation.Exceptional : Continuation.Nothing;
                Enqueue(handler.FirstBlockOrdinal, state with { Continuation = continuation }, changed);
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

    // ---- transfer functions -------------------------------------------------------------------------

    /// <summary>Evaluates an operation tree in execution order (operands before the operation).</summary>
    private ContextState Walk(IOperation operation, ContextState state)
    {
        switch (operation)
        {
            case IFlowAnonymousFunctionOperation:
                return state; // a lambda body is its own graph
            case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment:
                state = Walk(assignment.Value, state);
                return AssignLocal(target.Local, assignment.Value, state).WithoutCondition(target.Local);
            case IAssignmentOperation { Target: IParameterReferenceOperation parameter } assignment:
                state = Walk(assignment.Value, state);
                return state.WithoutCondition(parameter.Parameter);
            case IAssignmentOperation { Target: ILocalReferenceOperation local } compound:
                state = Walk(compound.Value, state);
                return state.WithoutCondition(local.Local);
        }

        foreach (var child in operation.ChildOperations)
            state = Walk(child, state);

        return operation switch
        {
            IInvocationOperation invocation => ApplyCall(invocation, state),
            ILocalReferenceOperation { IsDeclaration: false } read => ReadLocal(read, state),
            _ => state,
        };
    }

    internal CallEffect Classify(IInvocationOperation invocation) => _classifier.Classify(invocation.TargetMethod, _settings);

    private ContextState ApplyCall(IInvocationOperation call, ContextState state)
    {
        var effect = Classify(call);
        if (effect.IsNone)
            return state;
        if (_recording)
            _result.RecordCall(call, effect, state);

        if (MaySwitchTaskDuringCall(effect, state))
            state = CrossPoint(call, state, involuntary: false, handOff: effect.Region == RegionOperation.Hypercall);

        state = ApplyEffect(call, effect, state);
        return CrossInvoluntaryPoint(call, state);
    }

    /// <summary>Can the task be switched inside this call, under the model, on this path?</summary>
    private bool MaySwitchTaskDuringCall(CallEffect effect, ContextState state)
    {
        if (!state.Preempt.IsZero)
            return false;
        return effect.Reschedule switch
        {
            ReschedulePoint.Explicit or ReschedulePoint.IrqExit => true,
            ReschedulePoint.ExplicitVoluntaryOnly => (PreemptionModelFacts.PossibleModes(Model) & PreemptionModes.Voluntary) != 0,
            // The hypercall's own upcall may reschedule the task (the hand-off) inside a region begun here.
            _ => effect.Region == RegionOperation.Hypercall && state.Region != RegionPhase.NotBegun,
        };
    }

    /// <summary>Under full/lazy (and dynamic), any instruction with preemption, migration and IRQs enabled is a point.</summary>
    private ContextState CrossInvoluntaryPoint(IOperation after, ContextState state)
    {
        if (!PreemptionModelFacts.HasInvoluntaryPreemption(Model) || !state.Preempt.IsZero || state.Irq != IrqState.On)
            return state;
        return CrossPoint(after, state, involuntary: true, handOff: false);
    }

    private ContextState CrossPoint(IOperation point, ContextState state, bool involuntary, bool handOff)
    {
        // (a) the region's per-CPU state: keeping the task on its CPU (migrate_disable) does not help,
        // other tasks on that CPU would see it. The hypercall's own hand-off is the one excepted point.
        if (_recording && state.Region != RegionPhase.NotBegun && !handOff && state.RegionBegin is { } begin)
            _result.RecordCrossing(begin, point, involuntary);
        // (b) cached per-CPU values: safe while migration stays disabled.
        return state.Migrate.IsZero ? state.MarkPinnedLocalsCrossed(point) : state;
    }

    private static ContextState ApplyEffect(IOperation call, CallEffect effect, ContextState state)
    {
        if (effect.PreemptDelta > 0)
            state = state with { Preempt = state.Preempt.Increment() };
        else if (effect.PreemptDelta < 0)
            state = state with { Preempt = state.Preempt.Decrement() };
        if (effect.MigrateDelta > 0)
            state = state with { Migrate = state.Migrate.Increment() };
        else if (effect.MigrateDelta < 0)
            state = state with { Migrate = state.Migrate.Decrement() };

        state = effect.Irq switch
        {
            IrqOperation.Disable => state with { Irq = IrqState.Off },
            IrqOperation.Enable => state with { Irq = IrqState.On },
            IrqOperation.Save => state with { IrqSaved = state.Irq, Irq = IrqState.Off },
            IrqOperation.Restore => state with { Irq = state.IrqSaved },
            _ => state,
        };

        state = effect.Asserts switch
        {
            ContextAssertion.PreemptionDisabled => state with { Preempt = state.Preempt.AssertDisabled() },
            ContextAssertion.IrqsDisabled when state.Irq == IrqState.Unknown => state with { Irq = IrqState.Off },
            // might_sleep(): the caller is a task that may sleep. Contradicting facts are kept (XPA0006 reports them).
            ContextAssertion.TaskContext => state with
            {
                Preempt = state.Preempt.IsDisabled ? state.Preempt : state.Preempt.AssertZero(),
                Migrate = state.Migrate.IsDisabled ? state.Migrate : state.Migrate.AssertZero(),
                Irq = state.Irq == IrqState.Unknown ? IrqState.On : state.Irq,
            },
            _ => state,
        };

        return effect.Region switch
        {
            RegionOperation.Begin => state with
            {
                Region = RegionPhase.BeforeHypercall,
                // A per-task region state follows the task: no per-CPU state to strand (XPA0001 a).
                RegionBegin = effect.NoPerCpuRegionState ? null : call,
                RegionDelta = System.Math.Min(state.RegionDelta + 1, Depth.Cap),
            },
            RegionOperation.End => state with
            {
                Region = RegionPhase.NotBegun,
                RegionBegin = null,
                RegionDelta = System.Math.Max(state.RegionDelta - 1, -Depth.Cap),
            },
            RegionOperation.Hypercall when state.Region == RegionPhase.BeforeHypercall => state with { Region = RegionPhase.AfterHypercall },
            _ => state,
        };
    }

    private ContextState ReadLocal(ILocalReferenceOperation read, ContextState state)
    {
        if (_recording && state.FactFor(read.Local) is { IsStale: true } fact && !IsHandOffRestoreArgument(read))
            _result.RecordStaleUse(read, fact);
        return state;
    }

    /// <summary><c>restore_inhcall(inhcall)</c>: the clear → reschedule → restore hand-off is the design, not a bug.</summary>
    private bool IsHandOffRestoreArgument(IOperation read)
    {
        var parent = read.Parent;
        while (parent is IConversionOperation)
            parent = parent.Parent;
        return parent is IArgumentOperation { Parent: IInvocationOperation call }
            && Classify(call).Region == RegionOperation.HandOffRestore;
    }

    private ContextState AssignLocal(ILocalSymbol local, IOperation value, ContextState state)
    {
        value = Unwrap(value);
        LocalFact? fact = value switch
        {
            IInvocationOperation call => FactFromCall(local, call, state),
            ILocalReferenceOperation copy when state.FactFor(copy.Local) is { } copied => copied with { Local = local },
            _ when IsHypercallStateName(value) => new LocalFact(local, LocalKind.PerCpuValue, value, Pinned: false, IsHypercallState: true, CrossedAt: null),
            _ => null,
        };
        return state.WithFact(local, fact);
    }

    private LocalFact? FactFromCall(ILocalSymbol local, IInvocationOperation call, ContextState state)
    {
        var effect = Classify(call);
        LocalKind kind;
        switch (effect.Result)
        {
            case CallResult.PerCpuValue: kind = LocalKind.PerCpuValue; break;
            case CallResult.CpuId: kind = LocalKind.CpuId; break;
            case CallResult.HypercallStateHandOff: kind = LocalKind.HypercallStateHandOff; break;
            default: return null;
        }
        // A value obtained while the task could be switched at any instruction was never tied to a CPU
        // the code relied on; XPA0004 covers the checked accessors there. Track only pinned values.
        var involuntarilyPreemptible = PreemptionModelFacts.HasInvoluntaryPreemption(Model) && state.IsProvenPreemptible;
        var isState = kind == LocalKind.HypercallStateHandOff || IsHypercallStateRead(call);
        return new LocalFact(local, kind, call, Pinned: !involuntarilyPreemptible, isState, CrossedAt: null);
    }

    /// <summary><c>__this_cpu_read(xen_in_preemptible_hcall)</c> and the like.</summary>
    internal bool IsHypercallStateRead(IInvocationOperation call)
    {
        var effect = Classify(call);
        if (effect.Result == CallResult.HypercallStateHandOff)
            return true;
        if (effect.PerCpu == PerCpuAccess.NotPerCpu)
            return false;
        var target = call.Instance ?? (call.Arguments.Length > 0 ? call.Arguments[0].Value : null);
        return target is not null && IsHypercallStateName(Unwrap(target));
    }

    internal static bool IsHypercallStateName(IOperation operation) => operation switch
    {
        IFieldReferenceOperation field => field.Field.Name == KernelApi.HypercallStateName,
        IPropertyReferenceOperation property => property.Property.Name == KernelApi.HypercallStateName
            || (property.Instance is { } instance && IsHypercallStateName(Unwrap(instance))),
        ILocalReferenceOperation local => local.Local.Name == KernelApi.HypercallStateName,
        _ => false,
    };

    internal static IOperation Unwrap(IOperation operation)
    {
        while (operation is IConversionOperation conversion)
            operation = conversion.Operand;
        return operation;
    }

    /// <summary>A bounded set of path states; past the bound it becomes "anything" (top).</summary>
    private sealed class StateSet
    {
        private readonly HashSet<ContextState> _states = new();

        public bool IsTop { get; private set; }

        public bool IsEmpty => !IsTop && _states.Count == 0;

        public IEnumerable<ContextState> States => _states;

        public bool Add(ContextState state)
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
