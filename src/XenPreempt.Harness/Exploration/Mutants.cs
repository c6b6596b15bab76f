// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Linq;

namespace XenPreempt.Harness.Exploration;

/// <summary>
/// A seeded mutant of our fix: the port's <c>variants/ours.cs</c> with one deliberate mistake, made in
/// memory when the port is compiled. The harness must catch every mutant, with every strategy: if it
/// could not, its silence about our fix would mean nothing.
/// </summary>
public sealed record Mutant(string Name, string Mistake, string ExpectedInvariant, IReadOnlyList<(string Find, string Replace)> Edits)
{
    /// <summary>The pseudo-variant name: <c>ours~name</c>.</summary>
    public string Variant => "ours~" + Name;

    public string Apply(string source)
    {
        foreach (var (find, replace) in Edits)
        {
            if (!source.Contains(find, StringComparison.Ordinal))
                throw new InvalidOperationException($"mutant {Name}: variants/ours.cs no longer contains the text it changes: {find}");
            source = source.Replace(find, replace, StringComparison.Ordinal);
        }
        return source;
    }
}

public static class Mutants
{
    public const string File = "variants/ours.cs";

    // The per-CPU flag the first two mutants go back to (as every historical variant had it).
    private static readonly (string, string)[] PerCpuState =
    {
        ("    [PreemptibleHypercallBegin]\n    private static void xen_preemptible_hcall_begin() => set_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);",
         "    private static readonly PerCpu<bool> xen_mutant_flag = DEFINE_PER_CPU(\"xen_in_preemptible_hcall\", false, traced: true);\n\n" +
         "    [PreemptibleHypercallBegin]\n    private static void xen_preemptible_hcall_begin() => raw_cpu_write(xen_mutant_flag, true);"),
        ("private static void xen_preemptible_hcall_end() => clear_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);",
         "private static void xen_preemptible_hcall_end() => raw_cpu_write(xen_mutant_flag, false);"),
        ("!state.exit_rcu && test_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);", "!state.exit_rcu && raw_cpu_read(xen_mutant_flag);"),
        ("(g, cpu) => test_tsk_thread_flag(g.runqueues[cpu].curr, TIF_XEN_PREEMPTIBLE_HCALL) ? \"1\" : \"0\");",
         "(g, cpu) => xen_variants.percpu_flag_state(xen_mutant_flag, g, cpu));"),
    };

    public static readonly IReadOnlyList<Mutant> All = new[]
    {
        new Mutant("no-clear",
            "the state is per-CPU again, and the upcall reschedules without clearing it first",
            "flag-owner",
            PerCpuState),
        new Mutant("wrong-cpu",
            "the state is per-CPU again; the upcall clears it, reschedules, and restores it on the CPU it was on before the switch",
            "flag-owner",
            PerCpuState.Append((
                "        if (xen_in_preemptible_hcall(state))\n            raw_irqentry_exit_cond_resched();",
                "        if (xen_in_preemptible_hcall(state))\n        {\n            int cpu = raw_smp_processor_id();\n            raw_cpu_write(xen_mutant_flag, false);\n" +
                "            raw_irqentry_exit_cond_resched();\n            xen_mutant_flag.area(LinuxGuest.This)[cpu] = true;\n        }")).ToArray()),
        new Mutant("patchable",
            "the upcall reschedules through the patchable irqentry_exit_cond_resched()",
            "hcall-latency",
            new[] { ("        if (xen_in_preemptible_hcall(state))\n            raw_irqentry_exit_cond_resched();",
                     "        if (xen_in_preemptible_hcall(state))\n            irqentry_exit_cond_resched();") }),
        new Mutant("injected-preemption",
            "preemption injected around the static-call table: every upcall reschedules with the raw call, whatever the model",
            "model-fidelity",
            new[] { ("        else\n            irqentry_exit(regs, state);", "        else\n            raw_irqentry_exit_cond_resched();") }),
        new Mutant("open-region",
            "the region is ended only on the hypercall's error path (an early-return refactor): a successful ioctl returns with the state still set",
            "region-open",
            new[] { ("        xen_preemptible_hcall_end();\n        return ret;",
                     "        if (ret < 0)\n        {\n            xen_preemptible_hcall_end();\n            return ret;\n        }\n        return ret;") }),
    };

    public static Mutant? Find(string name) => All.FirstOrDefault(m => m.Name == name);

    /// <summary>Splits "ours~patchable" into the variant to boot and the mutant to compile in ("june2023+fixes" into the variant alone).</summary>
    public static (string Variant, Mutant? Mutant) Parse(string variant)
    {
        // name+fixes boots the variant itself, on the port after the analyzers' code fixes (PortBuilder.ForVariant).
        if (variant.EndsWith(PortBuilder.FixesSuffix, StringComparison.Ordinal))
            return (variant[..^PortBuilder.FixesSuffix.Length], null);
        int tilde = variant.IndexOf('~');
        if (tilde < 0)
            return (variant, null);
        var mutant = Find(variant[(tilde + 1)..]) ?? throw new ArgumentException($"unknown mutant '{variant[(tilde + 1)..]}' (known: {string.Join(", ", All.Select(m => m.Name))})");
        return (variant[..tilde], mutant);
    }
}
