// SPDX-License-Identifier: MIT
using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using XenPreemptAnalyzers.Flow.Core;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Flow.Domains;

/// <summary>
/// The preemptible-hypercall region domain (docs/design.md, "Domains"): whether a region begun in this method is open
/// and where it began, begins minus ends, whether the path is the hypercall-reschedule path (a test found the state
/// set, or a <c>[HypercallPreemptionPoint]</c>), and the test that found the per-CPU state set and uncleared.
/// </summary>
internal static class HypercallRegionDomain
{
    /// <summary>A region begin, end or hypercall, and the hand-off's read-and-clear.</summary>
    public static ContextState Apply(IOperation call, CallEffect effect, ContextState state)
    {
        state = effect.Region switch
        {
            RegionOperation.Begin => state with
            {
                Region = RegionPhase.BeforeHypercall,
                // A per-task region state follows the task: no per-CPU state to strand.
                RegionBegin = effect.NoPerCpuRegionState ? null : call,
                RegionDelta = Math.Min(state.RegionDelta + 1, Depth.Cap),
            },
            RegionOperation.End => state with
            {
                Region = RegionPhase.NotBegun,
                RegionBegin = null,
                RegionDelta = Math.Max(state.RegionDelta - 1, -Depth.Cap),
            },
            RegionOperation.Hypercall when state.Region == RegionPhase.BeforeHypercall => state with { Region = RegionPhase.AfterHypercall },
            _ => state,
        };
        if (effect.Result == CallResult.HypercallStateHandOff)
            state = state with { PerCpuHypercallStateSetBy = null }; // get_and_clear_inhcall()
        return state;
    }

    /// <summary>
    /// <c>__this_cpu_write(xen_in_preemptible_hcall, false)</c>: get_and_clear_inhcall written inline clears the per-CPU
    /// state, so a reschedule after it no longer leaves the state behind.
    /// </summary>
    public static bool ClearsState(IInvocationOperation call, CallEffect effect, IContextFacts facts) =>
        effect.PerCpu != PerCpuAccess.NotPerCpu && call.Arguments.Length == 2
        && IsStateVariable(call.Arguments[0].Value.WithoutConversions(), facts)
        && call.Arguments[1].Value.ConstantValue is { HasValue: true, Value: false };

    public static ContextState NoteCleared(ContextState state) => state with { PerCpuHypercallStateSetBy = null };

    /// <summary>
    /// The region begin whose per-CPU state a switch of the task on this path strands on the old CPU, or null. Keeping
    /// the task on its CPU (migrate_disable) does not help: other tasks on that CPU would see the state. The hypercall's
    /// own hand-off is the one excepted point.
    /// </summary>
    public static IOperation? StrandedAt(ContextState state, bool handOff) =>
        state.Region != RegionPhase.NotBegun && !handOff ? state.RegionBegin : null;

    /// <summary>Is <paramref name="operation"/> the hypercall state variable (a field, property or local of that name)?</summary>
    public static bool IsStateVariable(IOperation operation, IContextFacts facts) => operation switch
    {
        IFieldReferenceOperation field => facts.IsHypercallStateVariable(field.Field),
        IPropertyReferenceOperation property => facts.IsHypercallStateVariable(property.Property)
            || (property.Instance is { } instance && IsStateVariable(instance.WithoutConversions(), facts)),
        ILocalReferenceOperation local => local.Local.Name == KernelApi.HypercallStateName,
        _ => false,
    };

    /// <summary><c>__this_cpu_read(xen_in_preemptible_hcall)</c> and the like.</summary>
    public static bool IsStateRead(IInvocationOperation call, IContextFacts facts)
    {
        // A port's test named after the state (variants/ours.cs: xen_in_preemptible_hcall(state), a thread-flag test).
        if (call.TargetMethod.Name == KernelApi.HypercallStateName)
            return true;
        var effect = facts.Classify(call);
        if (effect.Result == CallResult.HypercallStateHandOff)
            return true;
        if (effect.PerCpu == PerCpuAccess.NotPerCpu)
            return false;
        var target = call.Instance ?? (call.Arguments.Length > 0 ? call.Arguments[0].Value : null);
        return target is not null && IsStateVariable(target.WithoutConversions(), facts);
    }

    /// <summary>A test of the state that reads it from its per-CPU slot, without clearing it.</summary>
    public static bool ReadsPerCpuState(IInvocationOperation call, IContextFacts facts)
    {
        if (call.TargetMethod.Name == KernelApi.HypercallStateName)
            return facts.IsPerCpuStateTest(call.TargetMethod);
        var effect = facts.Classify(call);
        return effect.Result != CallResult.HypercallStateHandOff && effect.PerCpu != PerCpuAccess.NotPerCpu && IsStateRead(call, facts);
    }

    /// <summary>
    /// Does this test read the state where it lives per-CPU and uncleared: a per-CPU accessor's read of it, a local
    /// that holds such a read (not the handed-off value), or a port's test helper whose body uses no per-task member?
    /// </summary>
    public static bool ReadsPerCpuState(IOperation condition, ContextState state, IContextFacts facts) => condition switch
    {
        ILocalReferenceOperation local => state.FactFor(local.Local) is { IsHypercallState: true, Kind: LocalKind.PerCpuValue },
        IInvocationOperation call => ReadsPerCpuState(call, facts),
        _ => false,
    };

    /// <summary>Is <paramref name="condition"/> a test of the preemptible-hypercall state (per-CPU or per-task)?</summary>
    public static bool IsStateTest(IOperation condition, ContextState state, IContextFacts facts) => condition switch
    {
        ILocalReferenceOperation local => state.FactFor(local.Local) is { IsHypercallState: true },
        IInvocationOperation call => IsStateRead(call, facts) || IsPerTaskStateTest(call),
        _ => IsStateVariable(condition, facts) || IsPerTaskStateTest(condition),
    };

    /// <summary>
    /// The side where the preemptible-hypercall state is set is the hypercall-reschedule path; the side where it is
    /// known clear is a generic path, even inside a <c>[HypercallPreemptionPoint]</c> (the upcall's <c>else</c>).
    /// </summary>
    public static ContextState OnHypercallPath(ContextState state, bool stateIsSet, IOperation? perCpuTest) => state with
    {
        OnHypercallReschedulePath = stateIsSet,
        PerCpuHypercallStateSetBy = stateIsSet ? perCpuTest ?? state.PerCpuHypercallStateSetBy : null,
    };

    /// <summary>
    /// A test of the per-task "in a preemptible hypercall" state, where the move-to-task code fix puts it: a bool <c>[PerTask]</c>
    /// field or property whose name says hypercall (<c>hcall</c>/<c>hypercall</c>), or <c>test_thread_flag(TIF_…HCALL…)</c>
    /// (our fix's <c>TIF_XEN_PREEMPTIBLE_HCALL</c>). Its true side is the hypercall path as much as
    /// <c>__this_cpu_read(xen_in_preemptible_hcall)</c>'s is. Only for branch conditions: a per-task value is no per-CPU fact.
    /// </summary>
    public static bool IsPerTaskStateTest(IOperation condition) => condition switch
    {
        IFieldReferenceOperation field => IsPerTaskHypercallMember(field.Field, field.Field.Type),
        IPropertyReferenceOperation property => IsPerTaskHypercallMember(property.Property, property.Property.Type),
        IInvocationOperation { TargetMethod.Name: "test_thread_flag", Arguments.Length: 1 } call =>
            call.Arguments[0].Value.WithoutConversions() is IFieldReferenceOperation flag
            && flag.Field.Name.StartsWith("TIF_", StringComparison.Ordinal) && NamesHypercall(flag.Field.Name),
        _ => false,
    };

    private static bool IsPerTaskHypercallMember(ISymbol member, ITypeSymbol type) =>
        type.SpecialType == SpecialType.System_Boolean && NamesHypercall(member.Name) && KernelAttributes.Has(member, KernelAttributes.PerTask);

    private static bool NamesHypercall(string name) =>
        name.IndexOf("hcall", StringComparison.OrdinalIgnoreCase) >= 0 || name.IndexOf("hypercall", StringComparison.OrdinalIgnoreCase) >= 0;

    /// <summary>
    /// <c>__this_cpu_write(xen_in_preemptible_hcall, inhcall)</c>: the restore half of the hand-off written inline
    /// (get_and_clear_inhcall/restore_inhcall expanded): the saved state follows the task to the CPU it resumes on.
    /// </summary>
    public static bool IsStateWriteBack(IOperation read, IContextFacts facts)
    {
        if (ParentSkippingConversions(read) is not IArgumentOperation { Parent: IInvocationOperation write } argument
            || facts.Classify(write).PerCpu == PerCpuAccess.NotPerCpu)
            return false;
        var target = write.Instance ?? (write.Arguments.Length > 1 && write.Arguments[0] != argument ? write.Arguments[0].Value : null);
        return target is not null && IsStateVariable(target.WithoutConversions(), facts);
    }

    /// <summary><c>restore_inhcall(inhcall)</c>: the clear → reschedule → restore hand-off is the design, not a bug.</summary>
    public static bool IsHandOffRestoreArgument(IOperation read, IContextFacts facts) =>
        ParentSkippingConversions(read) is IArgumentOperation { Parent: IInvocationOperation call }
        && facts.Classify(call).Region == RegionOperation.HandOffRestore;

    internal static IOperation? ParentSkippingConversions(IOperation operation)
    {
        var parent = operation.Parent;
        while (parent is IConversionOperation)
            parent = parent.Parent;
        return parent;
    }
}
