// SPDX-License-Identifier: MIT
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using XenPreemptAnalyzers.Flow.Core;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Flow.Domains;

/// <summary>
/// The context-counts domain (docs/design.md, "Domains"): preemption and migration nesting, the IRQ flag and its saved
/// copy, and the IRQ state entry was learned to have. Changed by the primitives, asserts and scope guards here, and by
/// the branch tests in <see cref="BranchRefinement"/>.
/// </summary>
internal static class ContextCountsDomain
{
    /// <summary>What a recognised call does to the counts and the IRQ flag.</summary>
    public static ContextState Apply(CallEffect effect, ContextState state)
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

        return effect.Asserts switch
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
    }

    /// <summary>
    /// <c>Monitor.Enter(o, ref taken)</c>-style acquires (the shape C#'s <c>lock</c> lowers to): a <c>ref bool</c>
    /// argument of a call that disables something is true once it returns, so <c>finally { if (taken) … }</c> releases.
    /// </summary>
    public static ContextState NoteAcquiredFlags(IInvocationOperation call, CallEffect effect, ContextState state)
    {
        if (effect.PreemptDelta <= 0 && effect.MigrateDelta <= 0 && effect.Irq is not (IrqOperation.Disable or IrqOperation.Save))
            return state;
        foreach (var argument in call.Arguments)
        {
            if (argument.Parameter is { RefKind: RefKind.Ref or RefKind.Out, Type.SpecialType: SpecialType.System_Boolean }
                && TestedVariable(argument.Value) is { } flag)
                state = state.WithCondition(flag, true);
        }
        return state;
    }

    private static ISymbol? TestedVariable(IOperation operation) => operation.WithoutConversions() switch
    {
        ILocalReferenceOperation local => local.Local,
        IParameterReferenceOperation { Parameter.RefKind: RefKind.None } parameter => parameter.Parameter,
        _ => null,
    };

    /// <summary><c>if (preempt_trylock())</c>: a conditional acquire disabled preemption on the side its contract names.</summary>
    public static ContextState ResolveConditionalAcquire(ContextState state, CallEffect acquire, bool value) =>
        acquire.DisablesPreemptionWhenReturns == value ? state with { Preempt = state.Preempt.Increment() } : state;

    /// <summary><c>irqs_disabled()</c> and <c>preemptible()</c> on one side of a branch; null where that side contradicts the path.</summary>
    public static ContextState? RefineByQuery(ContextState state, ContextQuery query, bool value)
    {
        switch (query)
        {
            case ContextQuery.IrqsDisabled:
                var irq = value ? IrqState.Off : IrqState.On;
                return state.Irq != IrqState.Unknown && state.Irq != irq ? null : Learn(state, irq);
            case ContextQuery.Preemptible when value:
                return state.IsProvenAtomic ? null : Learn(state, IrqState.On) with { Preempt = state.Preempt.AssertZero() };
            case ContextQuery.Preemptible:
                // preemptible() is preempt_count() == 0 && !irqs_disabled() (include/linux/preempt.h): false needs one of them.
                return state.Preempt.IsZero && state.Irq == IrqState.On ? null : state;
            default:
                return state;
        }
    }

    /// <summary><c>preempt_count() == 0</c> (<paramref name="zero"/>) or <c>!= 0</c> on one side of a branch.</summary>
    public static ContextState? RefinePreemptCount(ContextState state, bool zero)
    {
        if (zero)
            return state.Preempt.IsDisabled ? null : state with { Preempt = state.Preempt.AssertZero() };
        return state.Preempt.IsZero ? null : state with { Preempt = state.Preempt.AssertDisabled() };
    }

    /// <summary>IRQs are <paramref name="irq"/> here; if nothing on the path had set them, that is how the method was entered.</summary>
    private static ContextState Learn(ContextState state, IrqState irq) =>
        state.Irq == IrqState.Unknown && state.EntryIrq == IrqState.Unknown
            ? state with { Irq = irq, EntryIrq = irq }
            : state with { Irq = irq };
}
