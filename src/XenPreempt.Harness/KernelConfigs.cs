// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Linq;

namespace XenPreempt.Harness;

/// <summary>
/// A kernel configuration: the Kconfig symbols the port is compiled with, plus the runtime
/// preemption mode of a PREEMPT_DYNAMIC build (the <c>preempt=</c> boot parameter: data, not a symbol).
/// </summary>
public sealed record KernelConfig(string Name, string Description, IReadOnlyList<string> Symbols, string BootPreempt)
{
    public bool IsDynamic => Symbols.Contains("CONFIG_PREEMPT_DYNAMIC");

    /// <summary>The model run is none or voluntary: only explicit points and the hypercall hand-off may switch a task.</summary>
    public bool IsNonPreemptive => IsDynamic ? BootPreempt is "none" or "voluntary" : Name is "none" or "voluntary";
}

/// <summary>The configurations the harness knows: one table, used by the CLI, the tests and the docs.</summary>
public static class KernelConfigs
{
    // Every build is an x86 PV dom0 kernel with the debug checks that print the BUG lines.
    private static readonly string[] Base = { "CONFIG_XEN_PV", "CONFIG_XEN_DOM0", "CONFIG_DEBUG_ATOMIC_SLEEP" };

    // DEBUG_PREEMPT depends on PREEMPTION (lib/Kconfig.debug), so only preemptible builds have it.
    private static readonly string[] Preemptible = { "CONFIG_PREEMPTION", "CONFIG_DEBUG_PREEMPT" };

    // A distro PREEMPT_DYNAMIC build: default mode voluntary (Per Bilse's "vp-d" column), x86's
    // static-call flavour; the mode actually run comes from preempt= at boot.
    private static readonly string[] Dynamic = { "CONFIG_PREEMPT_DYNAMIC", "CONFIG_PREEMPT_VOLUNTARY", "CONFIG_HAVE_PREEMPT_DYNAMIC_CALL" };

    public static readonly IReadOnlyList<KernelConfig> All = new[]
    {
        Make("none", "static PREEMPT_NONE", new[] { "CONFIG_PREEMPT_NONE" }, ""),
        Make("voluntary", "static PREEMPT_VOLUNTARY", new[] { "CONFIG_PREEMPT_VOLUNTARY" }, ""),
        Make("full", "static PREEMPT (full)", Preemptible.Append("CONFIG_PREEMPT").ToArray(), ""),
        Make("lazy", "static PREEMPT_LAZY", Preemptible.Append("CONFIG_PREEMPT_LAZY").ToArray(), ""),
        Make("dynamic-none", "PREEMPT_DYNAMIC booted with preempt=none", Preemptible.Concat(Dynamic).ToArray(), "none"),
        Make("dynamic-voluntary", "PREEMPT_DYNAMIC booted with preempt=voluntary", Preemptible.Concat(Dynamic).ToArray(), "voluntary"),
        Make("dynamic-full", "PREEMPT_DYNAMIC booted with preempt=full", Preemptible.Concat(Dynamic).ToArray(), "full"),
        Make("dynamic-lazy", "PREEMPT_DYNAMIC booted with preempt=lazy", Preemptible.Concat(Dynamic).ToArray(), "lazy"),
        Make("dynamic-none-key", "PREEMPT_DYNAMIC, static-key flavour (arm64 style), preempt=none",
            Preemptible.Concat(new[] { "CONFIG_PREEMPT_DYNAMIC", "CONFIG_PREEMPT_VOLUNTARY", "CONFIG_HAVE_PREEMPT_DYNAMIC_KEY" }).ToArray(), "none"),
        Make("dynamic-full-key", "PREEMPT_DYNAMIC, static-key flavour (arm64 style), preempt=full",
            Preemptible.Concat(new[] { "CONFIG_PREEMPT_DYNAMIC", "CONFIG_PREEMPT_VOLUNTARY", "CONFIG_HAVE_PREEMPT_DYNAMIC_KEY" }).ToArray(), "full"),
    };

    private static KernelConfig Make(string name, string description, string[] model, string boot) =>
        new(name, description, Base.Concat(model).ToArray(), boot);

    public static KernelConfig? Find(string name) => All.FirstOrDefault(c => c.Name == name);

    /// <summary>
    /// The kernels each variant's code shipped in (or, for a proposal, the kernel it was written
    /// against), and so the builds it can be run under: a variant runs only under Kconfig builds its
    /// code met. The facts behind each row:
    /// <list type="bullet">
    /// <item>PREEMPT_DYNAMIC (x86 static calls) arrived in v5.12; static PREEMPT_LAZY and preempt=lazy in
    /// v6.13 (7c70cb94d29c); 7dadeaa6e851 (v7.0) leaves x86 only full and lazy.</item>
    /// <item>x86 selects HAVE_PREEMPT_DYNAMIC_CALL (arch/x86/Kconfig); the static-key flavour is for
    /// architectures without static calls, and Xen PV is x86 only, so no variant's code ever ran under a
    /// "-key" build. Only our (unshipped) fix is run there, to show it does not lean on the call flavour.</item>
    /// </list>
    /// </summary>
    private static readonly IReadOnlyDictionary<string, (string Era, string[] Configs)> Eras = new Dictionary<string, (string, string[])>
    {
        ["fdfd811ddde3"] = ("v3.19-v5.4 (PREEMPT_DYNAMIC came in v5.12, lazy in v6.13)", new[] { "none", "voluntary", "full" }),
        ["2020-irq-enable"] = ("v5.6-v5.7 (PREEMPT_DYNAMIC came in v5.12, lazy in v6.13)", new[] { "none", "voluntary", "full" }),
        ["2020-fixes"] = ("stable 4.3-5.7 (PREEMPT_DYNAMIC came in v5.12, lazy in v6.13)", new[] { "none", "voluntary", "full" }),
        ["66a07b44e765"] = ("v5.8-v5.17 (PREEMPT_DYNAMIC from v5.12, static-call flavour on x86; lazy came in v6.13)",
            new[] { "none", "voluntary", "full", "dynamic-none", "dynamic-voluntary", "dynamic-full" }),
        ["4624a14f4daa"] = ("v5.18-v6.19 on x86 (static-call flavour only)",
            new[] { "none", "voluntary", "full", "lazy", "dynamic-none", "dynamic-voluntary", "dynamic-full", "dynamic-lazy" }),
        ["june2023"] = ("written against v6.4 (no lazy model before v6.13; x86 static-call flavour only)",
            new[] { "none", "voluntary", "full", "dynamic-none", "dynamic-voluntary", "dynamic-full" }),
        ["7dadeaa6e851"] = ("v7.0: x86 offers only the full and lazy preemption models, static-call flavour",
            new[] { "full", "lazy", "dynamic-full", "dynamic-lazy" }),
    };

    /// <summary>The variant a name boots: <c>june2023+fixes</c> and <c>ours~patchable</c> run in their base variant's era.</summary>
    private static string BaseVariant(string variant) => Exploration.VariantName.Split(variant).Base;

    /// <summary>Whether the variant's code ever ran under this build (its era: <see cref="Eras"/>). Unknown names (ours) run everywhere.</summary>
    public static bool Supports(string variant, KernelConfig config) =>
        !Eras.TryGetValue(BaseVariant(variant), out var era) || era.Configs.Contains(config.Name);

    /// <summary>Why a variant has no such build, for the <c>n/a</c> cells.</summary>
    public static string UnsupportedReason(string variant) =>
        Eras.TryGetValue(BaseVariant(variant), out var era) ? $"{BaseVariant(variant)}: {era.Era}; its builds: {string.Join(", ", era.Configs)}" : "";

    /// <summary>The builds a variant runs under, in table order.</summary>
    public static IEnumerable<KernelConfig> For(string variant) => All.Where(c => Supports(variant, c));
}
