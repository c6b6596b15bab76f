// SPDX-License-Identifier: MIT
using System.Collections.Generic;

namespace XenPreempt.Machine;

/// <summary>
/// A guest image's entry points for the tool that loads it (the harness compiles a guest in memory, once per
/// configuration, into its own load context): the image exports one implementation, found by this interface rather
/// than by member names.
/// </summary>
public interface IGuestImage
{
    /// <summary>Creates a guest for a command line (what it accepts is the guest's business).</summary>
    IGuest Create(string cmdline);

    /// <summary>The programs (variants) this image contains, in order: name and what it models.</summary>
    IReadOnlyList<(string Name, string Models)> Variants { get; }

    /// <summary>For each variant, the full name of the type whose code it runs.</summary>
    IReadOnlyList<(string Name, string CodeType)> VariantCode { get; }
}

/// <summary>What the hardware and hypervisor call into: the guest kernel's entry points.</summary>
public interface IGuest
{
    /// <summary>Boots on <paramref name="machine"/>; returns the thread each vCPU starts on.</summary>
    SimThread[] Boot(Machine machine);

    /// <summary>Xen's registered event callback (CALLBACKTYPE_event), entered with the upcall mask set.</summary>
    void EventCallback(UpcallFrame frame);

    /// <summary>A synchronous exception (int3, #DB) taken at the current instruction.</summary>
    void Exception(ExceptionFrame frame);

    /// <summary>True once the guest's workload has finished: the run ends cleanly.</summary>
    bool WorkloadDone { get; }

    /// <summary>What a debugger would show for a vCPU: for trace tables and invariant checks.</summary>
    CpuView Describe(int cpu);
}

/// <summary>The interrupted context an upcall returns to.</summary>
/// <param name="InHypercall">The vCPU was inside a hypercall that Xen preempted with a continuation.</param>
/// <param name="InterruptedIrqsDisabled">The interrupted context's upcall mask (always false: Xen only delivers when unmasked).</param>
public readonly record struct UpcallFrame(bool InHypercall, bool InterruptedIrqsDisabled);

public enum ExceptionVector
{
    /// <summary>int3: a kprobe or ftrace breakpoint.</summary>
    Breakpoint = 3,
    /// <summary>#DB: a hardware breakpoint or single step.</summary>
    Debug = 1,
}

public readonly record struct ExceptionFrame(ExceptionVector Vector, string Site);

/// <summary>A snapshot of one vCPU, as the guest describes it.</summary>
/// <param name="Current">Name of the task running there.</param>
/// <param name="HcallState">The preemptible-hypercall state the guest keeps for this CPU ("1", "0", or "-" when it keeps none).</param>
/// <param name="PreemptCount">The guest's preemption counter.</param>
/// <param name="IrqsDisabled">The upcall mask.</param>
public readonly record struct CpuView(string Current, string HcallState, int PreemptCount, bool IrqsDisabled);
