using System;
using System.Collections.Generic;

namespace XenPreemptAnalyzers.Recognition;

/// <summary>
/// The one table of kernel names the analyzers recognise (docs/design.md, Inside the analyzer), each with its role. Names match
/// in any namespace and any containing type, because kernel-style ports keep the kernel's identifiers.
/// </summary>
internal static class KernelApi
{
    public const string HypercallStateName = "xen_in_preemptible_hcall";
    public const string PerCpuTypeName = "PerCpu";

    private static readonly CallEffect PreemptOff = new() { PreemptDelta = 1 };
    private static readonly CallEffect PreemptOn = new() { PreemptDelta = -1 };
    private static readonly CallEffect ExplicitPoint = new() { Reschedule = ReschedulePoint.Explicit };

    private static readonly Dictionary<string, CallEffect> ByName = Build();

    private static Dictionary<string, CallEffect> Build()
    {
        var table = new Dictionary<string, CallEffect>(StringComparer.Ordinal);
        void Add(CallEffect effect, params string[] names)
        {
            foreach (var name in names)
                table[name] = effect with { Name = name };
        }

        // preemption off / on
        Add(PreemptOff, "preempt_disable", "preempt_disable_notrace");
        Add(PreemptOn, "preempt_enable", "preempt_enable_notrace", "preempt_enable_no_resched", "put_cpu", "put_cpu_var");
        Add(PreemptOff with { Result = CallResult.CpuId }, "get_cpu");
        Add(PreemptOff with { Result = CallResult.PerCpuValue }, "get_cpu_var");

        // migration off / on
        Add(new CallEffect { MigrateDelta = 1 }, "migrate_disable");
        Add(new CallEffect { MigrateDelta = -1 }, "migrate_enable");

        // IRQs off / on
        Add(new CallEffect { Irq = IrqOperation.Disable }, "local_irq_disable");
        Add(new CallEffect { Irq = IrqOperation.Enable }, "local_irq_enable");
        Add(new CallEffect { Irq = IrqOperation.Save }, "local_irq_save");
        Add(new CallEffect { Irq = IrqOperation.Restore }, "local_irq_restore");

        // context asserts and queries
        Add(new CallEffect { Asserts = ContextAssertion.PreemptionDisabled }, "lockdep_assert_preemption_disabled");
        Add(new CallEffect { Asserts = ContextAssertion.IrqsDisabled }, "lockdep_assert_irqs_disabled");
        Add(new CallEffect { Query = ContextQuery.PreemptCount }, "preempt_count");
        Add(new CallEffect { Query = ContextQuery.IrqsDisabled }, "irqs_disabled");
        Add(new CallEffect { Query = ContextQuery.Preemptible }, "preemptible");

        // explicit scheduling points
        Add(ExplicitPoint, "schedule", "msleep", "copy_from_user", "copy_to_user");
        Add(ExplicitPoint with { Patchable = PatchFamily.VoluntaryReschedule, RawVariant = "__cond_resched" }, "cond_resched");
        Add(ExplicitPoint with { RawOf = PatchFamily.VoluntaryReschedule, PatchableVariant = "cond_resched" }, "__cond_resched");
        Add(new CallEffect { Reschedule = ReschedulePoint.ExplicitVoluntaryOnly, Patchable = PatchFamily.VoluntaryReschedule, RawVariant = "__might_resched" }, "might_resched");
        Add(new CallEffect { Reschedule = ReschedulePoint.ExplicitVoluntaryOnly, RawOf = PatchFamily.VoluntaryReschedule, PatchableVariant = "might_resched" }, "__might_resched");
        Add(new CallEffect { Reschedule = ReschedulePoint.ExplicitVoluntaryOnly, Asserts = ContextAssertion.TaskContext }, "might_sleep");

        // reschedules made for IRQ exit (IRQs off): never XPA0006
        var irqExit = new CallEffect { Reschedule = ReschedulePoint.IrqExit };
        Add(irqExit with { Patchable = PatchFamily.IrqExitReschedule, RawVariant = "raw_irqentry_exit_cond_resched" }, "irqentry_exit_cond_resched");
        Add(irqExit with { RawOf = PatchFamily.IrqExitReschedule, PatchableVariant = "irqentry_exit_cond_resched" }, "raw_irqentry_exit_cond_resched");
        Add(irqExit, "preempt_schedule_irq");
        Add(irqExit with { Patchable = PatchFamily.IrqExitReschedule, RawVariant = "__preempt_schedule" }, "preempt_schedule");
        Add(irqExit with { RawOf = PatchFamily.IrqExitReschedule, PatchableVariant = "preempt_schedule" }, "__preempt_schedule");
        Add(irqExit with { Patchable = PatchFamily.IrqExitReschedule, RawVariant = "__preempt_schedule_notrace" }, "preempt_schedule_notrace");
        Add(irqExit with { RawOf = PatchFamily.IrqExitReschedule, PatchableVariant = "preempt_schedule_notrace" }, "__preempt_schedule_notrace");

        // per-CPU access: reads and exchanges return a per-CPU value
        foreach (var op in new[] { "read", "write", "add", "inc", "dec", "xchg" })
        {
            var result = op is "read" or "xchg" ? CallResult.PerCpuValue : CallResult.Ordinary;
            var writes = op == "write";
            Add(new CallEffect { PerCpu = PerCpuAccess.Checked, Result = result, WritesPerCpuVariable = writes, PreemptSafeVariant = "this_cpu_" + op }, "__this_cpu_" + op);
            Add(new CallEffect { PerCpu = PerCpuAccess.PreemptSafe, Result = result, WritesPerCpuVariable = writes }, "this_cpu_" + op);
            Add(new CallEffect { PerCpu = PerCpuAccess.Raw, Result = result, WritesPerCpuVariable = writes }, "raw_cpu_" + op);
        }
        Add(new CallEffect { PerCpu = PerCpuAccess.Checked, Result = CallResult.CpuId }, "smp_processor_id");
        Add(new CallEffect { PerCpu = PerCpuAccess.Raw, Result = CallResult.CpuId }, "raw_smp_processor_id");
        Add(new CallEffect { PerCpu = PerCpuAccess.ExplicitCpu }, "per_cpu");

        // paths that end: include/linux/panic.h (panic), include/linux/sched/task.h (do_exit, make_task_dead), BUG()
        Add(new CallEffect { NeverReturns = true }, "panic", "BUG", "do_exit", "make_task_dead");

        // the preemptible-hypercall region and its upcall hand-off
        Add(new CallEffect { Region = RegionOperation.Begin }, "xen_preemptible_hcall_begin");
        Add(new CallEffect { Region = RegionOperation.End }, "xen_preemptible_hcall_end");
        Add(new CallEffect { Result = CallResult.HypercallStateHandOff }, "get_and_clear_inhcall");
        Add(new CallEffect { Region = RegionOperation.HandOffRestore }, "restore_inhcall");
        Add(new CallEffect { Region = RegionOperation.Hypercall }, "privcmd_call", "xen_single_call");

        return table;
    }

    /// <summary>Prefixes that name hypercalls (<c>HYPERVISOR_sched_op</c>, <c>_hypercall2</c>).</summary>
    private static readonly string[] HypercallPrefixes = { "HYPERVISOR_", "_hypercall" };

    /// <summary>The effect of a callee with this kernel name, or <see cref="CallEffect.None"/>.</summary>
    public static CallEffect Lookup(string name)
    {
        if (ByName.TryGetValue(name, out var effect))
            return effect;
        foreach (var prefix in HypercallPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
                return new CallEffect { Name = name, Region = RegionOperation.Hypercall };
        }
        return CallEffect.None;
    }

    /// <summary>Is this a declared member name worth analysing a compilation for?</summary>
    public static bool IsKernelName(string name) => !Lookup(name).IsNone || name == HypercallStateName;

    /// <summary>All names in the table, for documentation tests.</summary>
    public static IEnumerable<string> Names => ByName.Keys;
}
