using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace XenPreemptAnalyzers.Recognition;

/// <summary>One <c>.editorconfig</c> name-list key and the role it gives the names it lists.</summary>
internal sealed record NameListKey(string Key, CallEffect Role, string Meaning);

/// <summary>
/// A <c>xen_preempt.*</c> setting the reader cannot use: an unknown key (<see cref="Value"/> null, <see cref="Accepted"/>
/// the closest known key or null), or a known key with an unusable value (<see cref="Accepted"/> what it takes).
/// </summary>
internal sealed record SettingProblem(string Key, string? Value, string? Accepted);

/// <summary>
/// The one reader of this package's <c>.editorconfig</c>/<c>.globalconfig</c> keys (docs/configuration.md).
/// Read once per syntax tree. A value it cannot parse is ignored, falling back to the next source, and never
/// throws; <see cref="Problems"/> says what was ignored, for XPA9000 (<see cref="SettingsAnalyzer"/>).
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

    public const string AcceptedModels = "none, voluntary, full, lazy, dynamic";

    /// <summary>Every key this reader knows, in the order docs/configuration.md gives them.</summary>
    public static IEnumerable<string> KnownKeys()
    {
        yield return PreemptionModelKey;
        foreach (var list in NameListKeys)
            yield return list.Key;
        yield return PatchableMethodsKey;
    }

    /// <summary>
    /// The <c>xen_preempt.*</c> keys and values in <paramref name="options"/> that <see cref="Read"/> ignores, each once:
    /// an unknown key, a model that is not one of <see cref="AcceptedModels"/>, a listed name that is not an identifier,
    /// a patchable pair that is not <c>name:raw_name</c>.
    /// </summary>
    public static IEnumerable<SettingProblem> Problems(AnalyzerConfigOptions options)
    {
        var known = new HashSet<string>(KnownKeys(), StringComparer.Ordinal);
        foreach (var key in KeysOf(options))
        {
            if (!key.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) || !options.TryGetValue(key, out var value))
                continue;
            if (!known.Contains(key))
            {
                yield return new SettingProblem(key, null, ClosestKey(key, known));
                continue;
            }
            if (key == PreemptionModelKey)
            {
                if (!PreemptionModelFacts.TryParse(value, out _))
                    yield return new SettingProblem(key, value.Trim(), AcceptedModels);
            }
            else if (key == PatchableMethodsKey)
            {
                foreach (var pair in SplitList(value))
                {
                    var parts = pair.Split(':');
                    if (parts.Length != 2 || !IsName(parts[0].Trim()) || !IsName(parts[1].Trim()))
                        yield return new SettingProblem(key, pair, "pairs 'patchable_name:raw_name' of method names, separated by commas");
                }
            }
            else
            {
                foreach (var name in SplitList(value))
                {
                    if (!IsName(name))
                        yield return new SettingProblem(key, name, "method names (C# identifiers, without parentheses or a type) separated by commas, semicolons or spaces");
                }
            }
        }
    }

    /// <summary>
    /// The keys present. <see cref="AnalyzerConfigOptions.Keys"/> is virtual and a host's own options type may not
    /// implement it (it throws): then only the known keys' values are checked, and an unknown key goes unnoticed.
    /// </summary>
    private static List<string> KeysOf(AnalyzerConfigOptions options)
    {
        try
        {
            return new List<string>(options.Keys);
        }
        catch (Exception exception) when (exception is NotImplementedException or NotSupportedException)
        {
            return new List<string>(KnownKeys());
        }
    }

    /// <summary>A name a method can have: a C# identifier, optionally verbatim (<c>@name</c>).</summary>
    private static bool IsName(string text)
    {
        var name = text.StartsWith("@", StringComparison.Ordinal) ? text.Substring(1) : text;
        if (name.Length == 0 || !(char.IsLetter(name[0]) || name[0] == '_'))
            return false;
        foreach (var c in name)
        {
            if (!(char.IsLetterOrDigit(c) || c == '_'))
                return false;
        }
        return true;
    }

    /// <summary>The known key a misspelled one most likely meant (edit distance at most a third of its length), or null.</summary>
    private static string? ClosestKey(string key, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = EditDistance(key, candidate);
            if (distance < bestDistance)
                (best, bestDistance) = (candidate, distance);
        }
        return bestDistance <= Math.Max(2, key.Length / 3) ? best : null;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
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
