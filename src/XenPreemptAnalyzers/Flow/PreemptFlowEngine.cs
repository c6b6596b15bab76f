using System.Collections.Generic;
using System.Collections.Immutable;
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
        _result = new FlowResult(graph, method, settings, EntryContext.For(method), ownEffect)
        {
            ImplementsContextPrimitive = method is not null && CallClassifier.IsContextPrimitive(method, settings),
        };
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
            {
                state = Walk(operation, state);
                if (state.Ended)
                    break;
            }
            if (block.BranchValue is { } branchValue && !state.Ended)
                state = Walk(branchValue, state);

            SeedExceptionHandlers(block, entryState, atTryEntry: true, changed);
            if (state.Ended)
                continue; // a call that never returns: no exit, no successor
            if (IsThrow(block))
                SeedExceptionHandlers(block, state, atTryEntry: false, changed);
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
                _result.RecordExit(ExitSites.For(branch, _graph), state, ReturnedValue(branch));
            return;
        }
        Enqueue(destination.Ordinal, state, changed);
    }

    /// <summary>The value a <c>return expr;</c> (or an expression body) hands back on this branch to the exit.</summary>
    private static IOperation? ReturnedValue(ControlFlowBranch branch) =>
        branch.Source.ConditionKind == ControlFlowConditionKind.None && branch.Semantics is ControlFlowBranchSemantics.Regular or ControlFlowBranchSemantics.Return
            ? branch.Source.BranchValue
            : null;

    private void Enqueue(int ordinal, ContextState state, HashSet<int> changed)
    {
        if (_recording)
            return;
        if (_inputs[ordinal].Add(state))
            changed.Add(ordinal);
    }

    private static bool IsThrow(BasicBlock block) =>
        block.FallThroughSuccessor?.Semantics is ControlFlowBranchSemantics.Throw or ControlFlowBranchSemantics.Rethrow;

    /// <summary>
    /// Exceptions are not CFG edges, and kernel control flow has none: a call that throws midway is not modelled
    /// (as in sparse and Clang's context analysis). A try's handlers (catch, and finally on the way out, after which
    /// the exception propagates and the path is dropped) are entered with the context the try was entered with, and
    /// with that of each <c>throw</c> inside it (docs/design.md, "Exceptions").
    /// </summary>
    private void SeedExceptionHandlers(BasicBlock block, ContextState state, bool atTryEntry, HashSet<int> changed)
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
                state = AssignLocal(target.Local, assignment.Value, state).WithoutCondition(target.Local);
                // bool taken = false; … taken = true;: a flag set with a constant is a tested variable whose value is known.
                return assignment.Value.ConstantValue is { HasValue: true, Value: bool known } ? state.WithCondition(target.Local, known) : state;
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
            IObjectCreationOperation { Constructor: { } constructor } creation => ApplyConstructor(creation, constructor, state),
            IInvalidOperation { Syntax: InvocationExpressionSyntax } invalid => ApplyUnboundCall(invalid, state),
            ILocalReferenceOperation { IsDeclaration: false } read => ReadLocal(read, state),
            _ => state,
        };
    }

    internal CallEffect Classify(IMethodSymbol method) => _classifier.Classify(method, _settings);

    internal CallEffect Classify(IInvocationOperation invocation) => _classifier.Classify(DisposeImplementation(invocation) ?? invocation.TargetMethod, _settings);

    /// <summary>
    /// <c>using</c> disposes through <c>IDisposable.Dispose</c>: the method that runs is the resource type's
    /// implementation, whose body a scope guard's release is in.
    /// </summary>
    private static IMethodSymbol? DisposeImplementation(IInvocationOperation invocation)
    {
        var target = invocation.TargetMethod;
        if (target.ContainingType?.SpecialType != SpecialType.System_IDisposable || invocation.Instance is null)
            return null;
        var resourceType = Unwrap(invocation.Instance).Type;
        return resourceType is INamedTypeSymbol { TypeKind: not TypeKind.Interface } named
            ? named.FindImplementationForInterfaceMember(target) as IMethodSymbol
            : null;
    }

    /// <summary>
    /// A call that does not bind while the user types (<c>local_irq_restore(flagz)</c>, a wrong argument count): if
    /// every candidate is one recognised primitive, its effect on the context still happens, so the compile error
    /// does not get an imbalance warning beside it. Nothing is recorded at the call itself.
    /// </summary>
    private ContextState ApplyUnboundCall(IInvalidOperation invalid, ContextState state)
    {
        if (state.Ended)
            return state;
        // Candidates from the semantic model where the operation carries one; else the callee's name, as summaries read it.
        var candidates = invalid.SemanticModel?.GetSymbolInfo(invalid.Syntax, _cancellationToken) is { } info
            ? (info.Symbol is { } bound ? ImmutableArray.Create(bound) : info.CandidateSymbols)
            : ImmutableArray<ISymbol>.Empty;
        CallEffect effect;
        if (!candidates.IsEmpty)
        {
            if (candidates.Any(c => c is not IMethodSymbol))
                return state;
            var effects = candidates.Select(c => Classify((IMethodSymbol)c)).Distinct().ToList();
            if (effects.Count != 1)
                return state;
            effect = effects[0];
        }
        else
        {
            effect = _classifier.ClassifyName(CallClassifier.CalleeName((InvocationExpressionSyntax)invalid.Syntax), _settings);
        }
        return effect.IsNone || effect.NeverReturns ? state : ApplyEffect(invalid, effect, state);
    }

    /// <summary>
    /// A scope guard's constructor (<c>using (new PreemptGuard())</c>, the C# spelling of cleanup.h's
    /// <c>guard(preempt)()</c>): its body's summary is the acquire, as for any helper call.
    /// </summary>
    private ContextState ApplyConstructor(IObjectCreationOperation creation, IMethodSymbol constructor, ContextState state)
    {
        var effect = _classifier.Classify(constructor, _settings);
        if (effect.IsNone)
            return state;
        if (MaySwitchTaskDuringCall(effect, state))
            state = CrossPoint(creation, state, involuntary: false, handOff: false);
        state = ApplyEffect(creation, effect, state);
        return CrossInvoluntaryPoint(creation, state);
    }

    private ContextState ApplyCall(IInvocationOperation call, ContextState state)
    {
        if (state.Ended)
            return state;
        var effect = Classify(call);
        if (effect.IsNone)
            return state;
        if (_recording)
            _result.RecordCall(call, effect, state);
        if (effect.NeverReturns)
            return state with { Ended = true };

        if (MaySwitchTaskDuringCall(effect, state))
            state = CrossPoint(call, state, involuntary: false, handOff: effect.Region == RegionOperation.Hypercall);

        state = ApplyEffect(call, effect, state);
        if (effect.Result == CallResult.HypercallStateHandOff)
            state = state with { PerCpuHypercallStateSetBy = null }; // get_and_clear_inhcall()
        state = NoteAcquiredFlags(call, effect, state);
        state = NoteHypercallStateCleared(call, effect, state);
        return CrossInvoluntaryPoint(call, state);
    }

    /// <summary>
    /// <c>Monitor.Enter(o, ref taken)</c>-style acquires (the shape C#'s <c>lock</c> lowers to): a <c>ref bool</c>
    /// argument of a call that disables something is true once it returns, so <c>finally { if (taken) … }</c> releases.
    /// </summary>
    private static ContextState NoteAcquiredFlags(IInvocationOperation call, CallEffect effect, ContextState state)
    {
        if (effect.PreemptDelta <= 0 && effect.MigrateDelta <= 0 && effect.Irq is not (IrqOperation.Disable or IrqOperation.Save))
            return state;
        foreach (var argument in call.Arguments)
        {
            if (argument.Parameter is { RefKind: RefKind.Ref or RefKind.Out, Type.SpecialType: SpecialType.System_Boolean }
                && TestedLocal(argument.Value) is { } flag)
                state = state.WithCondition(flag, true);
        }
        return state;
    }

    /// <summary>
    /// <c>__this_cpu_write(xen_in_preemptible_hcall, false)</c> after reading it into a local: get_and_clear_inhcall
    /// written inline. The local now holds the handed-off state, which the restore may write back after the reschedule.
    /// </summary>
    private static ContextState NoteHypercallStateCleared(IInvocationOperation call, CallEffect effect, ContextState state)
    {
        if (effect.PerCpu == PerCpuAccess.NotPerCpu || call.Arguments.Length != 2
            || !IsHypercallStateName(Unwrap(call.Arguments[0].Value))
            || call.Arguments[1].Value.ConstantValue is not { HasValue: true, Value: false })
            return state;
        foreach (var fact in state.Locals)
        {
            if (fact is { IsHypercallState: true, IsStale: false, Kind: LocalKind.PerCpuValue })
                state = state.WithFact(fact.Local, fact with { Kind = LocalKind.HypercallStateHandOff });
        }
        return state with { PerCpuHypercallStateSetBy = null };
    }

    private static ISymbol? TestedLocal(IOperation operation) => Unwrap(operation) switch
    {
        ILocalReferenceOperation local => local.Local,
        IParameterReferenceOperation { Parameter.RefKind: RefKind.None } parameter => parameter.Parameter,
        _ => null,
    };

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
            // might_sleep(): the caller is a task that may sleep. Contradicting facts are kept: the contradiction is the finding.
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
                // A per-task region state follows the task: no per-CPU state to strand.
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
        if (_recording && state.FactFor(read.Local) is { IsStale: true } fact
            && !IsHandOffRestoreArgument(read) && !(fact.Kind == LocalKind.HypercallStateHandOff && IsHypercallStateWriteBack(read))
            && !(fact.Kind == LocalKind.CpuId && IsComparedWithCurrentCpu(read)))
            _result.RecordStaleUse(read, fact);
        return state;
    }

    private static IOperation? ParentSkippingConversions(IOperation operation)
    {
        var parent = operation.Parent;
        while (parent is IConversionOperation)
            parent = parent.Parent;
        return parent;
    }

    /// <summary>
    /// <c>__this_cpu_write(xen_in_preemptible_hcall, inhcall)</c>: the restore half of the hand-off written inline
    /// (get_and_clear_inhcall/restore_inhcall expanded): the saved state follows the task to the CPU it resumes on.
    /// </summary>
    private bool IsHypercallStateWriteBack(IOperation read)
    {
        if (ParentSkippingConversions(read) is not IArgumentOperation { Parent: IInvocationOperation write } argument
            || Classify(write).PerCpu == PerCpuAccess.NotPerCpu)
            return false;
        var target = write.Instance ?? (write.Arguments.Length > 1 && write.Arguments[0] != argument ? write.Arguments[0].Value : null);
        return target is not null && IsHypercallStateName(Unwrap(target));
    }

    /// <summary>
    /// <c>if (cpu != smp_processor_id())</c>: comparing a cached CPU id with the current one is the migration check,
    /// the one use of a possibly stale id that is right.
    /// </summary>
    private bool IsComparedWithCurrentCpu(IOperation read)
    {
        if (ParentSkippingConversions(read) is not IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals } comparison)
            return false;
        var other = Unwrap(comparison.LeftOperand) == read ? comparison.RightOperand : comparison.LeftOperand;
        return Unwrap(other) is IInvocationOperation current && Classify(current).Result == CallResult.CpuId;
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
        var involuntarilyPreemptible = PreemptionModelFacts.HasInvoluntaryPreemption(Model) && state.IsProvenPreemptible;
        var isState = kind == LocalKind.HypercallStateHandOff || IsHypercallStateRead(call);
        return new LocalFact(local, kind, call, Pinned: !involuntarilyPreemptible, isState, CrossedAt: null);
    }

    /// <summary>A test of the state that reads it from its per-CPU slot, without clearing it.</summary>
    internal bool ReadsPerCpuHypercallState(IInvocationOperation call)
    {
        if (call.TargetMethod.Name == KernelApi.HypercallStateName)
            return _classifier.IsPerCpuStateTest(call.TargetMethod);
        var effect = Classify(call);
        return effect.Result != CallResult.HypercallStateHandOff && effect.PerCpu != PerCpuAccess.NotPerCpu && IsHypercallStateRead(call);
    }

    /// <summary><c>__this_cpu_read(xen_in_preemptible_hcall)</c> and the like.</summary>
    internal bool IsHypercallStateRead(IInvocationOperation call)
    {
        // A port's test named after the state (variants/ours.cs: xen_in_preemptible_hcall(state), a thread-flag test).
        if (call.TargetMethod.Name == KernelApi.HypercallStateName)
            return true;
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
