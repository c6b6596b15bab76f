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
    /// Whether the variant's kernel can be configured this way. After 7dadeaa6e851 x86 offers only
    /// full and lazy, in Kconfig and at boot.
    /// </summary>
    public static bool Supports(string variant, KernelConfig config) =>
        variant != "7dadeaa6e851" || config.Name is "full" or "lazy" || config.BootPreempt is "full" or "lazy";

    public static string UnsupportedReason(string variant) =>
        variant == "7dadeaa6e851" ? "7dadeaa6e851 (v7.0): x86 offers only the full and lazy preemption models" : "";
}
