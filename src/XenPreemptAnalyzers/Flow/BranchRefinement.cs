// SPDX-License-Identifier: MIT
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using XenPreemptAnalyzers.Flow.Core;
using XenPreemptAnalyzers.Flow.Domains;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Flow;

/// <summary>
/// What taking one side of a conditional branch proves for the domains, after the core applied constants, negation and
/// tested booleans: a test of the preemptible-hypercall state puts the path on the hypercall-reschedule path;
/// <c>preempt_count() == 0</c>, <c>preemptible()</c> and <c>irqs_disabled()</c> prove context (and drop the side that
/// contradicts what is already proven); a tested conditional acquire takes effect on the side its contract names.
/// Everything it needs of the code comes through <see cref="IContextFacts"/>.
/// </summary>
internal static class BranchRefinement
{
    /// <returns>The state on the side where the condition is <paramref name="value"/>; null if that side is infeasible.</returns>
    public static ContextState? Refine(ContextState state, IOperation condition, bool value, IContextFacts facts)
    {
        switch (condition)
        {
            case IBinaryOperation binary when ComparesPreemptCountWithZero(binary, facts) is { } equalsZero:
                return ContextCountsDomain.RefinePreemptCount(state, zero: equalsZero == value);
            case IInvocationOperation call:
                return RefineByCall(state, call, value, facts);
            case IIsNullOperation isNull when value && IsScopeGuard(isNull.Operand, facts):
                return null; // using's null check of a guard it created: its constructor ran, so it is not null
            case ILocalReferenceOperation { Local: var local } when state.FactFor(local) is { Kind: LocalKind.ConditionalAcquire } pending:
                state = ContextCountsDomain.ResolveConditionalAcquire(state.WithFact(local, null), facts.Classify((IInvocationOperation)pending.Source), value);
                break;
        }
        if (HypercallRegionDomain.IsStateTest(condition, state, facts))
            return HypercallRegionDomain.OnHypercallPath(state, value, HypercallRegionDomain.ReadsPerCpuState(condition, state, facts) ? condition : null);
        return state;
    }

    /// <summary>A resource whose <c>Dispose</c> is recognised (a scope guard): the graph's null check before disposing it.</summary>
    private static bool IsScopeGuard(IOperation resource, IContextFacts facts)
    {
        if (resource.WithoutConversions().Type is not INamedTypeSymbol { TypeKind: TypeKind.Class } type)
            return false;
        foreach (var contract in type.AllInterfaces)
        {
            if (contract.SpecialType != SpecialType.System_IDisposable)
                continue;
            foreach (var dispose in contract.GetMembers(nameof(System.IDisposable.Dispose)))
            {
                if (type.FindImplementationForInterfaceMember(dispose) is IMethodSymbol implementation && !facts.Classify(implementation).IsNone)
                    return true;
            }
        }
        return false;
    }

    private static ContextState? RefineByCall(ContextState state, IInvocationOperation call, bool value, IContextFacts facts)
    {
        var effect = facts.Classify(call);
        if (effect.DisablesPreemptionWhenReturns is not null)
            return ContextCountsDomain.ResolveConditionalAcquire(state, effect, value);
        if (HypercallRegionDomain.IsStateRead(call, facts))
            return HypercallRegionDomain.OnHypercallPath(state, value, HypercallRegionDomain.ReadsPerCpuState(call, facts) ? call : null);
        if (HypercallRegionDomain.IsPerTaskStateTest(call))
            return HypercallRegionDomain.OnHypercallPath(state, value, perCpuTest: null);
        return ContextCountsDomain.RefineByQuery(state, effect.Query, value);
    }

    /// <returns>True for <c>preempt_count() == 0</c>, false for <c>preempt_count() != 0</c>, null otherwise.</returns>
    private static bool? ComparesPreemptCountWithZero(IBinaryOperation binary, IContextFacts facts)
    {
        if (binary.OperatorKind is not (BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals))
            return null;
        var left = binary.LeftOperand.WithoutConversions();
        var right = binary.RightOperand.WithoutConversions();
        var isMatch = (IsPreemptCount(left, facts) && IsZero(right)) || (IsPreemptCount(right, facts) && IsZero(left));
        return isMatch ? binary.OperatorKind == BinaryOperatorKind.Equals : null;
    }

    private static bool IsPreemptCount(IOperation operation, IContextFacts facts) =>
        operation is IInvocationOperation call && facts.Classify(call).Query == ContextQuery.PreemptCount;

    private static bool IsZero(IOperation operation) =>
        operation.ConstantValue is { HasValue: true, Value: int and 0 or long and 0 or uint and 0 or ulong and 0 };
}
