// SPDX-License-Identifier: MIT
using System;

namespace XenPreempt.Annotations;

/// <summary>
/// The method runs in task (process) context: preemption, migration and IRQs are enabled on entry.
/// The analyzers start the method's flow from that state, so they can prove a preemptible context.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Constructor | AttributeTargets.Delegate, Inherited = false)]
public sealed class ProcessContextAttribute : Attribute { }

/// <summary>
/// The method runs in hard-IRQ or exception-entry context: IRQs are disabled on entry
/// (an upcall, an interrupt handler, an <c>irqentry_*</c> path).
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Constructor | AttributeTargets.Delegate, Inherited = false)]
public sealed class IrqContextAttribute : Attribute { }

/// <summary>The caller must have preemption disabled (the kernel's <c>__must_hold</c>-style contract).</summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Constructor, Inherited = false)]
public sealed class RequiresPreemptDisabledAttribute : Attribute { }

/// <summary>The method returns with preemption disabled one level deeper than on entry (<c>__acquires</c>).</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class DisablesPreemptionAttribute : Attribute { }

/// <summary>The method returns with preemption enabled one level (<c>__releases</c>).</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class EnablesPreemptionAttribute : Attribute { }

/// <summary>
/// The method disables preemption one level only when it returns <see cref="WhenReturns"/> (a trylock-style
/// conditional acquire: Clang's <c>TRY_ACQUIRE</c>, sparse's <c>__cond_acquires</c>). Callers are balanced on
/// the branch where the result says it disabled; the method's own body is checked against that contract.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class ConditionallyDisablesPreemptionAttribute : Attribute
{
    /// <param name="whenReturns">The return value that means preemption was disabled.</param>
    public ConditionallyDisablesPreemptionAttribute(bool whenReturns = true) => WhenReturns = whenReturns;

    /// <summary>The return value that means preemption was disabled.</summary>
    public bool WhenReturns { get; }
}

/// <summary>The field or type is per-CPU storage (<c>DEFINE_PER_CPU</c>); each CPU has its own slot.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.Class | AttributeTargets.Struct, Inherited = false)]
public sealed class PerCpuAttribute : Attribute { }

/// <summary>
/// The field, property or thread flag belongs to the task, not to the CPU (it follows the task when it
/// migrates). The code fix for XPA0001 moves preemptible-hypercall state to such a member.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class PerTaskAttribute : Attribute { }

/// <summary>
/// The method is a dynamic-preemption patchable call site: under <c>PREEMPT_DYNAMIC</c> a static call
/// or static key can turn it into a no-op. <see cref="Raw"/> names the never-patched variant.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class PatchableAttribute : Attribute
{
    /// <summary>The name of the raw (never patched) variant to call where the reschedule must happen.</summary>
    public string? Raw { get; set; }
}

/// <summary>The method begins a preemptible-hypercall region (sets the preemptible-hypercall state).</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class PreemptibleHypercallBeginAttribute : Attribute { }

/// <summary>The method ends a preemptible-hypercall region (clears the preemptible-hypercall state).</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class PreemptibleHypercallEndAttribute : Attribute { }

/// <summary>
/// The method is where a task inside a preemptible hypercall is rescheduled (the upcall hand-off):
/// a reschedule here must really happen under every preemption model.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class HypercallPreemptionPointAttribute : Attribute { }

/// <summary>The method enters the hypervisor (a hypercall).</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class HypercallAttribute : Attribute { }

/// <summary>
/// Escape hatch: the analyzers do not analyse this method. A justification is required, as for the
/// kernel's <c>context_unsafe</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Constructor | AttributeTargets.Class | AttributeTargets.Struct, Inherited = false)]
public sealed class NoPreemptAnalysisAttribute : Attribute
{
    /// <summary>Creates the attribute with the reason the analysis is switched off.</summary>
    public NoPreemptAnalysisAttribute(string justification) => Justification = justification;

    /// <summary>Why this code is exempt.</summary>
    public string Justification { get; }
}
