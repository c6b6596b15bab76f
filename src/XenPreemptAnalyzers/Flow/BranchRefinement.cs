using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Flow;

/// <summary>
/// What taking one side of a conditional branch proves: a test of the preemptible-hypercall state puts
/// the path on the hypercall-reschedule path; <c>preempt_count() == 0</c>, <c>preemptible()</c> and
/// <c>irqs_disabled()</c> prove context (and drop the side that contradicts what is already proven).
/// </summary>
internal static class BranchRefinement
{
    /// <returns>The state on the side where the condition is <paramref name="value"/>; null if that side is infeasible.</returns>
    public static ContextState? Refine(ContextState state, IOperation condition, bool value, PreemptFlowEngine engine)
    {
        condition = PreemptFlowEngine.Unwrap(condition);
        if (condition.ConstantValue is { HasValue: true, Value: bool constant })
            return constant == value ? state : null; // while (true): the side a constant never takes
        switch (condition)
        {
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not:
                return Refine(state, not.Operand, !value, engine);
            case IBinaryOperation binary when ComparesPreemptCountWithZero(binary, engine) is { } equalsZero:
                return RefinePreemptCount(state, zero: equalsZero == value);
            case IInvocationOperation call:
                return RefineByQuery(state, call, value, engine);
            case IIsNullOperation isNull when value && IsScopeGuard(isNull.Operand, engine):
                return null; // using's null check of a guard it created: its constructor ran, so it is not null
            case ILocalReferenceOperation or IParameterReferenceOperation when TestedVariable(condition) is { } variable:
                if (state.ConditionValue(variable) is { } known && known != value)
                    return null; // the other side of an earlier test of the same variable
                state = state.WithCondition(variable, value);
                if (condition is ILocalReferenceOperation { Local: var local } && state.FactFor(local) is { Kind: LocalKind.ConditionalAcquire } pending)
                    state = ResolveConditionalAcquire(state.WithFact(local, null), (IInvocationOperation)pending.Source, value, engine);
                break;
        }
        if (IsHypercallStateTest(condition, state, engine))
            return OnHypercallPath(state, value, ReadsPerCpuState(condition, state, engine) ? condition : null);
        return state;
    }

    /// <summary>A resource whose <c>Dispose</c> is recognised (a scope guard): the graph's null check before disposing it.</summary>
    private static bool IsScopeGuard(IOperation resource, PreemptFlowEngine engine)
    {
        if (PreemptFlowEngine.Unwrap(resource).Type is not INamedTypeSymbol { TypeKind: TypeKind.Class } type)
            return false;
        foreach (var contract in type.AllInterfaces)
        {
            if (contract.SpecialType != SpecialType.System_IDisposable)
                continue;
            foreach (var dispose in contract.GetMembers(nameof(System.IDisposable.Dispose)))
            {
                if (type.FindImplementationForInterfaceMember(dispose) is IMethodSymbol implementation && !engine.Classify(implementation).IsNone)
                    return true;
            }
        }
        return false;
    }

    private static ISymbol? TestedVariable(IOperation condition) => condition switch
    {
        ILocalReferenceOperation local => local.Local,
        IParameterReferenceOperation { Parameter.RefKind: RefKind.None } parameter => parameter.Parameter,
        _ => null,
    };

    /// <summary>
    /// The side where the preemptible-hypercall state is set is the hypercall-reschedule path; the side where it is
    /// known clear is a generic path, even inside a <c>[HypercallPreemptionPoint]</c> (the upcall's <c>else</c>).
    /// </summary>
    private static ContextState OnHypercallPath(ContextState state, bool stateIsSet, IOperation? perCpuTest) => state with
    {
        OnHypercallReschedulePath = stateIsSet,
        PerCpuHypercallStateSetBy = stateIsSet ? perCpuTest ?? state.PerCpuHypercallStateSetBy : null,
    };

    /// <summary>
    /// Does this test read the state where it lives per-CPU and uncleared: a per-CPU accessor's read of it, a local
    /// that holds such a read (not the handed-off value), or a port's test helper whose body uses no per-task member?
    /// </summary>
    private static bool ReadsPerCpuState(IOperation condition, ContextState state, PreemptFlowEngine engine) => condition switch
    {
        ILocalReferenceOperation local => state.FactFor(local.Local) is { IsHypercallState: true, Kind: LocalKind.PerCpuValue },
        IInvocationOperation call => engine.ReadsPerCpuHypercallState(call),
        _ => false,
    };

    /// <summary><c>if (preempt_trylock())</c>: a conditional acquire disabled preemption on the side its contract names.</summary>
    private static ContextState ResolveConditionalAcquire(ContextState state, IInvocationOperation call, bool value, PreemptFlowEngine engine) =>
        engine.Classify(call).DisablesPreemptionWhenReturns == value ? state with { Preempt = state.Preempt.Increment() } : state;

    private static ContextState? RefineByQuery(ContextState state, IInvocationOperation call, bool value, PreemptFlowEngine engine)
    {
        if (engine.Classify(call).DisablesPreemptionWhenReturns is not null)
            return ResolveConditionalAcquire(state, call, value, engine);
        if (engine.IsHypercallStateRead(call))
            return OnHypercallPath(state, value, ReadsPerCpuState(call, state, engine) ? call : null);
        if (IsPerTaskHypercallTest(call))
            return OnHypercallPath(state, value, perCpuTest: null);
        switch (engine.Classify(call).Query)
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

    /// <summary>IRQs are <paramref name="irq"/> here; if nothing on the path had set them, that is how the method was entered.</summary>
    private static ContextState Learn(ContextState state, IrqState irq) =>
        state.Irq == IrqState.Unknown && state.EntryIrq == IrqState.Unknown
            ? state with { Irq = irq, EntryIrq = irq }
            : state with { Irq = irq };

    private static ContextState? RefinePreemptCount(ContextState state, bool zero)
    {
        if (zero)
            return state.Preempt.IsDisabled ? null : state with { Preempt = state.Preempt.AssertZero() };
        return state.Preempt.IsZero ? null : state with { Preempt = state.Preempt.AssertDisabled() };
    }

    /// <returns>True for <c>preempt_count() == 0</c>, false for <c>preempt_count() != 0</c>, null otherwise.</returns>
    private static bool? ComparesPreemptCountWithZero(IBinaryOperation binary, PreemptFlowEngine engine)
    {
        if (binary.OperatorKind is not (BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals))
            return null;
        var left = PreemptFlowEngine.Unwrap(binary.LeftOperand);
        var right = PreemptFlowEngine.Unwrap(binary.RightOperand);
        var isMatch = (IsPreemptCount(left, engine) && IsZero(right)) || (IsPreemptCount(right, engine) && IsZero(left));
        return isMatch ? binary.OperatorKind == BinaryOperatorKind.Equals : null;
    }

    private static bool IsPreemptCount(IOperation operation, PreemptFlowEngine engine) =>
        operation is IInvocationOperation call && engine.Classify(call).Query == ContextQuery.PreemptCount;

    private static bool IsZero(IOperation operation) =>
        operation.ConstantValue is { HasValue: true, Value: int and 0 or long and 0 or uint and 0 or ulong and 0 };

    private static bool IsHypercallStateTest(IOperation condition, ContextState state, PreemptFlowEngine engine) => condition switch
    {
        ILocalReferenceOperation local => state.FactFor(local.Local) is { IsHypercallState: true },
        IInvocationOperation call => engine.IsHypercallStateRead(call) || IsPerTaskHypercallTest(call),
        _ => PreemptFlowEngine.IsHypercallStateName(condition) || IsPerTaskHypercallTest(condition),
    };

    /// <summary>
    /// A test of the per-task "in a preemptible hypercall" state, where the move-to-task code fix puts it: a bool <c>[PerTask]</c>
    /// field or property whose name says hypercall (<c>hcall</c>/<c>hypercall</c>), or <c>test_thread_flag(TIF_…HCALL…)</c>
    /// (our fix's <c>TIF_XEN_PREEMPTIBLE_HCALL</c>). Its true side is the hypercall path as much as
    /// <c>__this_cpu_read(xen_in_preemptible_hcall)</c>'s is. Only for branch conditions: a per-task value is no per-CPU fact.
    /// </summary>
    private static bool IsPerTaskHypercallTest(IOperation condition) => condition switch
    {
        IFieldReferenceOperation field => IsPerTaskHypercallMember(field.Field, field.Field.Type),
        IPropertyReferenceOperation property => IsPerTaskHypercallMember(property.Property, property.Property.Type),
        IInvocationOperation { TargetMethod.Name: "test_thread_flag", Arguments.Length: 1 } call =>
            PreemptFlowEngine.Unwrap(call.Arguments[0].Value) is IFieldReferenceOperation flag
            && flag.Field.Name.StartsWith("TIF_", System.StringComparison.Ordinal) && NamesHypercall(flag.Field.Name),
        _ => false,
    };

    private static bool IsPerTaskHypercallMember(ISymbol member, ITypeSymbol type) =>
        type.SpecialType == SpecialType.System_Boolean && NamesHypercall(member.Name) && KernelAttributes.Has(member, KernelAttributes.PerTask);

    private static bool NamesHypercall(string name) =>
        name.IndexOf("hcall", System.StringComparison.OrdinalIgnoreCase) >= 0 || name.IndexOf("hypercall", System.StringComparison.OrdinalIgnoreCase) >= 0;
}
