// SPDX-License-Identifier: MIT
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using XenPreemptAnalyzers.Flow.Core;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Flow.Domains;

/// <summary>
/// The three domains of a <see cref="ContextState"/> plugged into the generic core as one: classifies each call once,
/// hands its effect to each domain's transfer function, and applies the points where the task may be switched
/// (explicit scheduling points always; under full, lazy and dynamic any instruction with preemption, migration and
/// IRQs enabled). It records nothing: what the rules read is derived from the fixed point afterwards
/// (<see cref="Observations"/>), with <see cref="SwitchesDuring"/> and <see cref="SwitchesAfter"/>.
/// </summary>
internal sealed class PreemptContextDomain : IFlowDomain<ContextState>, IContextFacts
{
    private readonly CallClassifier _classifier;
    private readonly AnalyzerSettings _settings;
    private readonly CancellationToken _cancellationToken;

    public PreemptContextDomain(CallClassifier classifier, AnalyzerSettings settings, CancellationToken cancellationToken)
    {
        _classifier = classifier;
        _settings = settings;
        _cancellationToken = cancellationToken;
    }

    public PreemptionModel Model => _settings.Model;

    public CallEffect Classify(IMethodSymbol method) => _classifier.Classify(method, _settings);

    public CallEffect Classify(IInvocationOperation invocation) => _classifier.Classify(DisposeImplementation(invocation) ?? invocation.TargetMethod, _settings);

    public bool IsPerCpuStateTest(IMethodSymbol method) => _classifier.IsPerCpuStateTest(method);

    public bool IsHypercallStateVariable(ISymbol symbol) => _classifier.IsHypercallStateVariable(symbol, _settings);

    public ContextState Transfer(IOperation operation, ContextState state, out bool observed)
    {
        observed = false;
        switch (operation)
        {
            case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment:
                return LocalFactsDomain.Assign(target.Local, assignment.Value, state, this);
            case IInvocationOperation invocation:
                return ApplyCall(invocation, state, out observed);
            case IObjectCreationOperation { Constructor: { } constructor } creation:
                return ApplyConstructor(creation, constructor, state, out observed);
            case IInvalidOperation { Syntax: InvocationExpressionSyntax } invalid:
                return ApplyUnboundCall(invalid, state);
            case ILocalReferenceOperation { IsDeclaration: false } read:
                // A read of a value that may be stale: kept so that the stale uses can be derived.
                observed = state.FactFor(read.Local) is { IsStale: true };
                return state;
            default:
                return state;
        }
    }

    public ContextState? Refine(ContextState state, IOperation condition, bool value) => BranchRefinement.Refine(state, condition, value, this);

    /// <summary>
    /// <c>using</c> disposes through <c>IDisposable.Dispose</c>: the method that runs is the resource type's
    /// implementation, whose body a scope guard's release is in.
    /// </summary>
    private static IMethodSymbol? DisposeImplementation(IInvocationOperation invocation)
    {
        var target = invocation.TargetMethod;
        if (target.ContainingType?.SpecialType != SpecialType.System_IDisposable || invocation.Instance is null)
            return null;
        var resourceType = invocation.Instance.WithoutConversions().Type;
        return resourceType is INamedTypeSymbol { TypeKind: not TypeKind.Interface } named
            ? named.FindImplementationForInterfaceMember(target) as IMethodSymbol
            : null;
    }

    private ContextState ApplyCall(IInvocationOperation call, ContextState state, out bool observed)
    {
        var effect = Classify(call);
        observed = !effect.IsNone;
        if (effect.IsNone)
            return state;
        if (effect.NeverReturns)
            return state with { Ended = true };

        if (SwitchesDuring(effect, state))
            state = LocalFactsDomain.CrossPoint(call, state);

        state = ContextCountsDomain.Apply(effect, state);
        state = HypercallRegionDomain.Apply(call, effect, state);
        state = ContextCountsDomain.NoteAcquiredFlags(call, effect, state);
        if (HypercallRegionDomain.ClearsState(call, effect, this))
            state = HypercallRegionDomain.NoteCleared(LocalFactsDomain.NoteHypercallStateCleared(state));
        return SwitchesAfter(state) ? LocalFactsDomain.CrossPoint(call, state) : state;
    }

    /// <summary>
    /// A scope guard's constructor (<c>using (new PreemptGuard())</c>, the C# spelling of cleanup.h's
    /// <c>guard(preempt)()</c>): its body's summary is the acquire, as for any helper call.
    /// </summary>
    private ContextState ApplyConstructor(IObjectCreationOperation creation, IMethodSymbol constructor, ContextState state, out bool observed)
    {
        var effect = Classify(constructor);
        observed = !effect.IsNone;
        if (effect.IsNone)
            return state;
        if (SwitchesDuring(effect, state))
            state = LocalFactsDomain.CrossPoint(creation, state);
        state = ContextCountsDomain.Apply(effect, state);
        state = HypercallRegionDomain.Apply(creation, effect, state);
        return SwitchesAfter(state) ? LocalFactsDomain.CrossPoint(creation, state) : state;
    }

    /// <summary>
    /// A call that does not bind while the user types (<c>local_irq_restore(flagz)</c>, a wrong argument count): if
    /// every candidate is one recognised primitive, its effect on the context still happens, so the compile error
    /// does not get an imbalance warning beside it. Nothing is observed at the call itself.
    /// </summary>
    private ContextState ApplyUnboundCall(IInvalidOperation invalid, ContextState state)
    {
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
        if (effect.IsNone || effect.NeverReturns)
            return state;
        return HypercallRegionDomain.Apply(invalid, effect, ContextCountsDomain.Apply(effect, state));
    }

    /// <summary>Can the task be switched inside a call with <paramref name="effect"/>, under the model, on this path?</summary>
    public bool SwitchesDuring(CallEffect effect, ContextState state)
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

    /// <summary>Under full/lazy (and dynamic), any instruction with preemption and IRQs enabled is a point: after a recognised call, is this one?</summary>
    public bool SwitchesAfter(ContextState state) =>
        !state.Ended && PreemptionModelFacts.HasInvoluntaryPreemption(Model) && state.Preempt.IsZero && state.Irq == IrqState.On;
}
