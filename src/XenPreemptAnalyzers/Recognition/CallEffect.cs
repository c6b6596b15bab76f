namespace XenPreemptAnalyzers.Recognition;

/// <summary>What a call does to the IRQ flag.</summary>
internal enum IrqOperation { Unchanged, Disable, Enable, Save, Restore }

/// <summary>What a call asserts about its caller's context (lockdep asserts, <c>might_sleep</c>).</summary>
internal enum ContextAssertion { Nothing, PreemptionDisabled, IrqsDisabled, TaskContext }

/// <summary>How a call may switch the task.</summary>
internal enum ReschedulePoint
{
    NotAPoint,
    /// <summary>May sleep or reschedule in every model (<c>schedule</c>, <c>msleep</c>, <c>copy_from_user</c>, <c>cond_resched</c>).</summary>
    Explicit,
    /// <summary>Checks like a sleeping call, but reschedules only under voluntary preemption (<c>might_sleep</c>, <c>might_resched</c>).</summary>
    ExplicitVoluntaryOnly,
    /// <summary>Made to reschedule from IRQ exit, with IRQs off (<c>irqentry_exit_cond_resched</c>, <c>preempt_schedule_irq</c>).</summary>
    IrqExit,
}

/// <summary>Which per-CPU accessor family a call is.</summary>
internal enum PerCpuAccess
{
    NotPerCpu,
    /// <summary><c>__this_cpu_*</c>, <c>smp_processor_id</c>: checked by <c>CONFIG_DEBUG_PREEMPT</c>.</summary>
    Checked,
    /// <summary><c>this_cpu_*</c>: each op is preempt-safe on its own.</summary>
    PreemptSafe,
    /// <summary><c>raw_cpu_*</c>, <c>raw_smp_processor_id</c>: unchecked.</summary>
    Raw,
    /// <summary><c>per_cpu(var, cpu)</c>: names its CPU.</summary>
    ExplicitCpu,
}

/// <summary>What the call's result is, for the per-CPU facts of locals.</summary>
internal enum CallResult { Ordinary, PerCpuValue, CpuId, HypercallStateHandOff }

/// <summary>Preemptible-hypercall region bookkeeping.</summary>
internal enum RegionOperation { Unchanged, Begin, End, HandOffRestore, Hypercall }

/// <summary>Queries whose result the flow uses to refine a branch (<c>preempt_count() == 0</c>, <c>irqs_disabled()</c>).</summary>
internal enum ContextQuery { Nothing, PreemptCount, IrqsDisabled, Preemptible }

/// <summary>
/// Everything the flow engine needs to know about one callee. Built from the name table
/// (<see cref="KernelApi"/>), attributes, <c>.editorconfig</c> lists or a helper's summary.
/// </summary>
internal sealed record CallEffect
{
    public static readonly CallEffect None = new();

    /// <summary>The kernel name this effect stands for (the callee's, or the wrapped primitive's for a helper).</summary>
    public string Name { get; init; } = "";

    /// <summary>For a helper seen through: the primitive it wraps, for messages ("'helper' (calls 'schedule')").</summary>
    public string? Via { get; init; }

    /// <summary>Derived from a straight-line helper's body rather than declared by name, attribute or option.</summary>
    public bool IsSummary { get; init; }

    public int PreemptDelta { get; init; }
    public int MigrateDelta { get; init; }
    public IrqOperation Irq { get; init; }
    public ContextAssertion Asserts { get; init; }
    public ReschedulePoint Reschedule { get; init; }
    public PerCpuAccess PerCpu { get; init; }
    public CallResult Result { get; init; }
    public RegionOperation Region { get; init; }
    public ContextQuery Query { get; init; }
    public bool RequiresPreemptDisabled { get; init; }

    /// <summary>A per-CPU write accessor (<c>__this_cpu_write(var, value)</c>): its first argument is the variable written.</summary>
    public bool WritesPerCpuVariable { get; init; }

    /// <summary>A conditional acquire: preemption is disabled one level only when the call returns this value.</summary>
    public bool? DisablesPreemptionWhenReturns { get; init; }

    /// <summary>The call never returns (<c>[DoesNotReturn]</c>, <c>panic</c>, <c>BUG</c>): the path ends there.</summary>
    public bool NeverReturns { get; init; }

    /// <summary>
    /// A region begin that sets no per-CPU state: its body uses a <c>[PerTask]</c> member (e.g. a thread flag,
    /// which follows the task when it migrates), or it is an empty stub (the mechanism compiled out in this
    /// configuration). XPA0001 (a) does not apply to it.
    /// </summary>
    public bool NoPerCpuRegionState { get; init; }

    /// <summary>A checked per-CPU accessor's preempt-safe twin (<c>__this_cpu_write</c> → <c>this_cpu_write</c>).</summary>
    public string? PreemptSafeVariant { get; init; }

    /// <summary>
    /// A region begin whose body is an empty stub inside a preprocessor conditional: the mechanism is compiled out in
    /// this build (include/xen/xen-ops.h's <c>#else</c> stubs).
    /// </summary>
    public bool CompiledOut { get; init; }

    /// <summary>Patchable under dynamic preemption; <see cref="RawVariant"/> is the call that is never patched.</summary>
    public PatchFamily Patchable { get; init; }
    public string? RawVariant { get; init; }

    /// <summary>A never-patched reschedule; <see cref="PatchableVariant"/> is the one that honours <c>preempt=</c>.</summary>
    public PatchFamily RawOf { get; init; }
    public string? PatchableVariant { get; init; }

    /// <summary>
    /// Does nothing the analysis models: every member is at its default except the names (<see cref="Name"/>,
    /// <see cref="Via"/>) and <see cref="IsSummary"/>. Asked for every call on every path, so it compares members
    /// instead of building a copy of <see cref="None"/> to compare with; <c>CallEffectTests</c> fails if a member is
    /// added to the record and not here.
    /// </summary>
    public bool IsNone =>
        ReferenceEquals(this, None)
        || (PreemptDelta == 0 && MigrateDelta == 0 && Irq == default && Asserts == default && Reschedule == default
            && PerCpu == default && Result == default && Region == default && Query == default && !RequiresPreemptDisabled
            && !WritesPerCpuVariable && DisablesPreemptionWhenReturns is null && !NeverReturns && !NoPerCpuRegionState
            && PreemptSafeVariant is null && !CompiledOut && Patchable == default && RawVariant is null && RawOf == default
            && PatchableVariant is null);

    /// <summary>The quoted name to show in a message: <c>'schedule'</c>, or <c>'helper' (which calls 'schedule')</c>.</summary>
    public string Display => Via is null ? $"'{Name}'" : $"'{Name}' (which calls '{Via}')";
}
