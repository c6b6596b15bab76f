using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace XenPreemptAnalyzers.Recognition;

/// <summary>One <c>.editorconfig</c> name-list key and the role it gives the names it lists.</summary>
internal sealed record NameListKey(string Key, CallEffect Role, string Meaning);

/// <summary>
/// The one reader of this package's <c>.editorconfig</c>/<c>.globalconfig</c> keys (docs/configuration.md).
/// Read once per syntax tree. A value it cannot parse is ignored, falling back to the next source:
/// configuration never throws and never reports.
/// </summary>
internal sealed class AnalyzerSettings
{
    public const string Prefix = "xen_preempt.";
    public const string PreemptionModelKey = Prefix + "preemption_model";
    public const string PatchableMethodsKey = Prefix + "patchable_methods";

    /// <summary>The name-list keys, each adding names to one role of <see cref="KernelApi"/>.</summary>
    public static readonly NameListKey[] NameListKeys =
    {
        new(Prefix + "preempt_disable_methods", new CallEffect { PreemptDelta = 1 }, "disable preemption (like preempt_disable)"),
        new(Prefix + "preempt_enable_methods", new CallEffect { PreemptDelta = -1 }, "enable preemption (like preempt_enable)"),
        new(Prefix + "migrate_disable_methods", new CallEffect { MigrateDelta = 1 }, "disable migration (like migrate_disable)"),
        new(Prefix + "migrate_enable_methods", new CallEffect { MigrateDelta = -1 }, "enable migration (like migrate_enable)"),
        new(Prefix + "irq_disable_methods", new CallEffect { Irq = IrqOperation.Disable }, "disable IRQs (like local_irq_disable)"),
        new(Prefix + "irq_enable_methods", new CallEffect { Irq = IrqOperation.Enable }, "enable IRQs (like local_irq_enable)"),
        new(Prefix + "scheduling_point_methods", new CallEffect { Reschedule = ReschedulePoint.Explicit }, "may sleep or reschedule (like schedule)"),
        new(Prefix + "irq_exit_reschedule_methods", new CallEffect { Reschedule = ReschedulePoint.IrqExit }, "reschedule from IRQ exit (like preempt_schedule_irq)"),
        new(Prefix + "checked_per_cpu_methods", new CallEffect { PerCpu = PerCpuAccess.Checked }, "checked per-CPU access (like __this_cpu_write)"),
        new(Prefix + "raw_per_cpu_methods", new CallEffect { PerCpu = PerCpuAccess.Raw }, "unchecked per-CPU access (like raw_cpu_write)"),
        new(Prefix + "hypercall_begin_methods", new CallEffect { Region = RegionOperation.Begin }, "begin a preemptible-hypercall region (like xen_preemptible_hcall_begin)"),
        new(Prefix + "hypercall_end_methods", new CallEffect { Region = RegionOperation.End }, "end a preemptible-hypercall region (like xen_preemptible_hcall_end)"),
        new(Prefix + "hypercall_methods", new CallEffect { Region = RegionOperation.Hypercall }, "enter the hypervisor (like privcmd_call)"),
    };

    public static readonly AnalyzerSettings Default = new(PreemptionModel.Dynamic, "default", new Dictionary<string, CallEffect>(StringComparer.Ordinal));

    private AnalyzerSettings(PreemptionModel model, string modelSource, Dictionary<string, CallEffect> configuredNames)
    {
        Model = model;
        ModelSource = modelSource;
        ConfiguredNames = configuredNames;
    }

    public PreemptionModel Model { get; }

    /// <summary>Where the model came from: "editorconfig", "CONFIG_PREEMPT" or "default".</summary>
    public string ModelSource { get; }

    /// <summary>Names added by the name-list keys, with their roles.</summary>
    public IReadOnlyDictionary<string, CallEffect> ConfiguredNames { get; }

    public static AnalyzerSettings Read(AnalyzerConfigOptions options, ParseOptions? parseOptions)
    {
        var (model, source) = ResolveModel(options, parseOptions);
        var names = new Dictionary<string, CallEffect>(StringComparer.Ordinal);
        foreach (var list in NameListKeys)
        {
            if (!options.TryGetValue(list.Key, out var value))
                continue;
            foreach (var name in SplitList(value))
                names[name] = list.Role with { Name = name };
        }
        if (options.TryGetValue(PatchableMethodsKey, out var patchable))
            AddPatchablePairs(patchable, names);

        return names.Count == 0 && source == "default" ? Default : new AnalyzerSettings(model, source, names);
    }

    private static (PreemptionModel, string) ResolveModel(AnalyzerConfigOptions options, ParseOptions? parseOptions)
    {
        if (options.TryGetValue(PreemptionModelKey, out var configured) && PreemptionModelFacts.TryParse(configured, out var model))
            return (model, "editorconfig");

        if (parseOptions is not null)
        {
            var defined = new HashSet<string>(parseOptions.PreprocessorSymbolNames, StringComparer.Ordinal);
            foreach (var (symbol, symbolModel) in PreemptionModelFacts.PreprocessorSymbols)
            {
                if (defined.Contains(symbol))
                    return (symbolModel, symbol);
            }
        }
        return (PreemptionModel.Dynamic, "default");
    }

    /// <summary><c>name:raw_name, other:raw_other</c> — the patchable call and its never-patched variant.</summary>
    private static void AddPatchablePairs(string value, Dictionary<string, CallEffect> names)
    {
        foreach (var pair in SplitList(value))
        {
            var colon = pair.IndexOf(':');
            if (colon <= 0 || colon == pair.Length - 1)
                continue;
            var patchableName = pair.Substring(0, colon).Trim();
            var rawName = pair.Substring(colon + 1).Trim();
            names[patchableName] = new CallEffect
            {
                Name = patchableName,
                Reschedule = ReschedulePoint.IrqExit,
                Patchable = PatchFamily.IrqExitReschedule,
                RawVariant = rawName,
            };
            names[rawName] = new CallEffect
            {
                Name = rawName,
                Reschedule = ReschedulePoint.IrqExit,
                RawOf = PatchFamily.IrqExitReschedule,
                PatchableVariant = patchableName,
            };
        }
    }

    public static IEnumerable<string> SplitList(string value)
    {
        foreach (var part in value.Split(new[] { ',', ';', ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries))
        {
            var name = part.Trim();
            if (name.Length > 0)
                yield return name;
        }
    }
}
