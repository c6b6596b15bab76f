using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace XenPreemptAnalyzers;

/// <summary>The rule ids (docs/rules/, one page each). Stable: never reuse or renumber.</summary>
public static class DiagnosticIds
{
    public const string PerCpuStateAcrossPreemption = "XPA0001";
    public const string PatchableRescheduleOnHypercallPath = "XPA0002";
    public const string RawRescheduleOnGenericPath = "XPA0003";
    public const string CheckedPerCpuAccessInPreemptibleCode = "XPA0004";
    public const string UnbalancedContextAtExit = "XPA0005";
    public const string SleepInAtomicContext = "XPA0006";
}

/// <summary>Keys of <see cref="Diagnostic.Properties"/> that code fixes read.</summary>
public static class DiagnosticProperties
{
    /// <summary>XPA0002: the never-patched variant to call instead.</summary>
    public const string RawVariant = "RawVariant";

    /// <summary>XPA0003: the patchable variant that honours the boot-time preemption mode.</summary>
    public const string PatchableVariant = "PatchableVariant";

    /// <summary>XPA0002/XPA0003: the name that was called.</summary>
    public const string CalledName = "CalledName";

    /// <summary>XPA0004: the preempt-safe accessor to call instead, when there is one.</summary>
    public const string PreemptSafeVariant = "PreemptSafeVariant";

    /// <summary>XPA0005: what is unbalanced (Preemption, Migration, Irqs, HypercallRegion).</summary>
    public const string Imbalance = "Imbalance";

    /// <summary>XPA0001: which finding — <c>Region</c> (a) or <c>CachedValue</c> (b).</summary>
    public const string Finding = "Finding";

    /// <summary>XPA0001 (b): the local that caches the per-CPU value or CPU id.</summary>
    public const string CachedLocal = "CachedLocal";

    /// <summary>XPA0001 (b): the source text of the expression the local was read from (to re-read it).</summary>
    public const string CachedFrom = "CachedFrom";

    /// <summary>XPA0005: the call that restores the balance at this exit (e.g. <c>preempt_enable</c>), when one does.</summary>
    public const string Rebalance = "Rebalance";

    /// <summary>XPA0005: the call that begins what is unbalanced (e.g. <c>preempt_disable</c>), for try/finally.</summary>
    public const string Acquire = "Acquire";

    /// <summary>XPA0006: what makes the context atomic — <c>Irqs</c>, <c>Preemption</c> or <c>IrqsAndPreemption</c>.</summary>
    public const string AtomicBecause = "AtomicBecause";

    /// <summary>All: the preemption model the analysis ran under.</summary>
    public const string PreemptionModel = "PreemptionModel";

    /// <summary>The property's value as one of the typed values of its key (<see cref="CachedValueFinding"/>, …), or null.</summary>
    public static TValue? Read<TValue>(Diagnostic diagnostic, string key) where TValue : struct, System.Enum =>
        diagnostic.Properties.TryGetValue(key, out var text) && text is not null && System.Enum.TryParse<TValue>(text, out var value)
            && System.Enum.IsDefined(typeof(TValue), value)
            ? value
            : null;

    /// <summary>Writes a typed value under its key: the one spelling rules and code fixes share.</summary>
    public static string Write<TValue>(TValue value) where TValue : struct, System.Enum => value.ToString();
}

/// <summary>XPA0001's two findings (<see cref="DiagnosticProperties.Finding"/>).</summary>
public enum CachedValueFinding
{
    /// <summary>(a) the per-CPU state a preemptible-hypercall region begin sets.</summary>
    Region,

    /// <summary>(b) a per-CPU value or CPU id cached in a local.</summary>
    CachedValue,

    /// <summary>(a) seen in the upcall: a hand-off that reschedules with the per-CPU state still set (no clear before it).</summary>
    HandOffWithoutClear,
}

/// <summary>What XPA0005 found unbalanced (<see cref="DiagnosticProperties.Imbalance"/>).</summary>
public enum ContextImbalance
{
    Preemption,
    Migration,
    Irqs,
    HypercallRegion,
}

/// <summary>What makes XPA0006's context atomic (<see cref="DiagnosticProperties.AtomicBecause"/>).</summary>
public enum AtomicCause
{
    Irqs,
    Preemption,
    IrqsAndPreemption,
}

/// <summary>All descriptors, in one place. Help links point to docs/rules/&lt;ID&gt;.md.</summary>
internal static class Descriptors
{
    public const string Category = "PreemptionContext";

    /// <summary>The stable base of every help link; the rule pages live at docs/rules/&lt;ID&gt;.md.</summary>
    public const string HelpLinkBase = "https://github.com/XenPreemptAnalyzers/XenPreemptAnalyzers/blob/main/docs/rules/";

    public static string HelpLink(string id) => HelpLinkBase + id + ".md";

    public static readonly DiagnosticDescriptor XPA0001 = Create(
        DiagnosticIds.PerCpuStateAcrossPreemption,
        "Per-CPU state relied on across a preemption point",
        "{0}; under preemption model '{2}' the task may be preempted and migrated to another CPU at {1}",
        "A per-CPU slot belongs to a CPU, not to the task. Set or read with the task on one CPU and relied on after a point where the task may be preempted and migrated, it is the wrong CPU's state. raw_cpu_* and migrate_disable() do not make this right.",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor XPA0002 = Create(
        DiagnosticIds.PatchableRescheduleOnHypercallPath,
        "Patchable reschedule where the reschedule must happen",
        "'{0}' is a no-op in preemption mode(s) {1} (model '{2}'), but this path must reschedule a task inside a preemptible hypercall; call '{3}'",
        "With PREEMPT_DYNAMIC, irqentry_exit_cond_resched() and preempt_schedule*() are static calls patched to nothing unless the mode is full or lazy, and cond_resched()/might_resched() are patched out under full and lazy. On the preemptible-hypercall path the reschedule must happen in every mode, or the toolstack's hypercall hogs the vCPU. Call the raw variant.",
        DiagnosticSeverity.Warning);

    /// <summary>
    /// XPA0002's second message (one id, two messages, as CA1416 has): the region itself is compiled out,
    /// so the only reschedule left for the hypercall is irq exit's patchable one.
    /// </summary>
    public static readonly DiagnosticDescriptor XPA0002RegionCompiledOut = Create(
        DiagnosticIds.PatchableRescheduleOnHypercallPath,
        "Patchable reschedule where the reschedule must happen",
        "'{0}' is empty in this build: the preemptible-hypercall region is compiled out, and the hypercall is rescheduled only by 'irqentry_exit_cond_resched', a no-op in preemption mode(s) {1} (model '{2}'); compile the region in for this configuration",
        "A preemptible-hypercall region whose begin compiles to nothing (a Kconfig guard such as #if !CONFIG_PREEMPTION in a PREEMPT_DYNAMIC build) leaves the hypercall to irq exit's irqentry_exit_cond_resched(), which PREEMPT_DYNAMIC patches to nothing in none and voluntary: the toolstack's hypercall hogs the vCPU (the June 2023 report). No automatic fix: change the guard, and keep the region's state per task.",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor XPA0003 = Create(
        DiagnosticIds.RawRescheduleOnGenericPath,
        "Raw reschedule on a generic path",
        "'{0}' always reschedules, overriding the preemption mode chosen at boot (in mode(s) {1} '{2}' does nothing; model '{3}'); outside the preemptible-hypercall path call '{2}'",
        "The raw reschedule variants ignore the user's preempt= choice. Outside the preemptible-hypercall path, call the patchable variant so that the boot-time or run-time preemption mode is honoured.",
        DiagnosticSeverity.Info);

    public static readonly DiagnosticDescriptor XPA0004 = Create(
        DiagnosticIds.CheckedPerCpuAccessInPreemptibleCode,
        "Checked per-CPU access in preemptible code",
        "{0} is reached with preemption, migration and IRQs enabled, where under preemption model '{1}' the task may be migrated in the middle of it; {2}",
        "The static twin of CONFIG_DEBUG_PREEMPT's \"BUG: using __this_cpu_write() in preemptible code\": a checked per-CPU access (or a call that requires preemption disabled) reached on a path where preemption, migration and IRQs are all enabled.",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor XPA0005 = Create(
        DiagnosticIds.UnbalancedContextAtExit,
        "Unbalanced context at method exit",
        "'{0}' can exit here with {1} (analysed under preemption model '{2}')",
        "Every path out of a method must leave preemption, migration, IRQs and the preemptible-hypercall region as it found them, unless the method is marked as acquiring or releasing them (sparse's \"context imbalance\").",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor XPA0006 = Create(
        DiagnosticIds.SleepInAtomicContext,
        "Sleeping or rescheduling in atomic context",
        "{0} may sleep or reschedule, but is reached with {1} (preemption model '{2}')",
        "A call that may sleep or voluntarily reschedule, reached with IRQs or preemption disabled (\"BUG: sleeping function called from invalid context\"). The irq-exit reschedule primitives made for that context are not reported.",
        DiagnosticSeverity.Warning);

    /// <summary>Category of the configuration diagnostics (XPA9000), which are about settings, not code.</summary>
    public const string ConfigurationCategory = "Configuration";

    /// <summary>The id shared by every "this XenPreemptAnalyzers setting is ignored" warning, from MSBuild and from the analyzer.</summary>
    public const string SettingNotRecognisedId = "XPA9000";

    /// <summary>XPA9000: a known <c>xen_preempt.*</c> key whose value is ignored.</summary>
    public static readonly DiagnosticDescriptor XPA9000UnknownValue = new(
        SettingNotRecognisedId,
        "XenPreemptAnalyzers setting not recognised",
        "'{0} = {1}' is not recognised and is ignored; {0} takes {2}",
        ConfigurationCategory, DiagnosticSeverity.Warning, isEnabledByDefault: true,
        "A xen_preempt.* setting in .editorconfig or .globalconfig (or the XenPreemptPreemptionModel property) that the analyzers cannot use is ignored, and the next source applies (for the model: the CONFIG_PREEMPT* symbols, else dynamic). Reported once per compilation and setting.",
        "https://github.com/XenPreemptAnalyzers/XenPreemptAnalyzers/blob/main/docs/configuration.md#misspelled-settings-xpa9000",
        WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>XPA9000: a <c>xen_preempt.*</c> key the analyzers do not know.</summary>
    public static readonly DiagnosticDescriptor XPA9000UnknownKey = new(
        SettingNotRecognisedId,
        "XenPreemptAnalyzers setting not recognised",
        "'{0}' is not a XenPreemptAnalyzers setting and is ignored{1}; the settings are {2}",
        ConfigurationCategory, DiagnosticSeverity.Warning, isEnabledByDefault: true,
        "A xen_preempt.* key that is not one of the keys docs/configuration.md lists is ignored. Reported once per compilation and key.",
        "https://github.com/XenPreemptAnalyzers/XenPreemptAnalyzers/blob/main/docs/configuration.md#misspelled-settings-xpa9000",
        WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>The rule catalog: one descriptor per id.</summary>
    public static readonly ImmutableArray<DiagnosticDescriptor> All = ImmutableArray.Create(XPA0001, XPA0002, XPA0003, XPA0004, XPA0005, XPA0006);

    /// <summary>What the analyzer reports: the catalog and the second messages of its ids.</summary>
    public static readonly ImmutableArray<DiagnosticDescriptor> Supported = All.Add(XPA0002RegionCompiledOut);

    private static DiagnosticDescriptor Create(string id, string title, string message, string description, DiagnosticSeverity severity) =>
        new(id, title, message, Category, severity, isEnabledByDefault: true, description, HelpLink(id));
}
