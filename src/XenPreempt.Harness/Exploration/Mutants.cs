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
    /// <summary>
    /// The workload the mutant is caught on: the standard PV one, or a scenario (c1 boots a PVH dom0,
    /// whose callback vector is the route some mistakes need).
    /// </summary>
    public string Workload { get; init; } = Workloads.Standard.Name;

    /// <summary>
    /// Not a mistake: a design kept to show it is correct on every faithful route (the harness must
    /// find nothing; docs/harness.md says why). <see cref="ExpectedInvariant"/> is then <see cref="NoInvariant"/>.
    /// </summary>
    public bool ShownCorrect => ExpectedInvariant == NoInvariant;

    public const string NoInvariant = "none";

    /// <summary>The variant the mutant is made from (and boots as): our fix, or a historical variant for a draft of it.</summary>
    public string Base { get; init; } = "ours";

    /// <summary>The port file the edits apply to.</summary>
    public string File { get; init; } = Mutants.File;

    /// <summary>The pseudo-variant name: <c>ours~name</c> (or <c>base~name</c>).</summary>
    public string Variant => new VariantName(Base, Name, AfterFixes: false).ToString();

    public string Apply(string source)
    {
        foreach (var (find, replace) in Edits)
        {
            if (!source.Contains(find, StringComparison.Ordinal))
                throw new InvalidOperationException($"mutant {Name}: {File} no longer contains the text it changes: {find}");
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
        ("(g, cpu) => test_tsk_thread_flag(g.runqueues[cpu].curr, TIF_XEN_PREEMPTIBLE_HCALL) ? \"1\" : \"0\")",
         "(g, cpu) => xen_variants.percpu_flag_state(xen_mutant_flag, g, cpu))"),
    };

    // The per-CPU state with the hand-off every mainline variant has: clear it, reschedule, and set it
    // again on whichever CPU the task returns on (66a07b44e765's get_and_clear_inhcall/restore_inhcall).
    private static readonly (string, string) CorrectHandOff =
        ("        if (xen_in_preemptible_hcall(state))\n            raw_irqentry_exit_cond_resched();",
         "        if (xen_in_preemptible_hcall(state))\n        {\n            raw_cpu_write(xen_mutant_flag, false);\n" +
         "            raw_irqentry_exit_cond_resched();\n            raw_cpu_write(xen_mutant_flag, true);\n        }");

    // The PVH callback vector left generic, as the June 2023 patch leaves it: only PV gets the hand-off.
    private static readonly (string, string) GenericPvhVector =
        ("        xen_pvh_evtchn_do_upcall,\n        privcmd_ioctl_hypercall,",
         "        null, // the PVH callback vector stays the generic sysvec_xen_hvm_callback\n        privcmd_ioctl_hypercall,");

    // The begin spelt with the preempt-safe accessor (DEBUG_PREEMPT has nothing to say about it).
    private static readonly (string, string) ThisCpuWriteBegin =
        ("xen_preemptible_hcall_begin() => raw_cpu_write(xen_mutant_flag, true);",
         "xen_preemptible_hcall_begin() => this_cpu_write(xen_mutant_flag, true);");

    /// <summary>
    /// A historical draft rather than a mistake of ours: Per Bilse's June 2023 patch without its item 3, i.e.
    /// the mainline <c>__this_cpu_*()</c> accessors compiled into PREEMPTION kernels by item 2. That is the
    /// state in which the DEBUG_PREEMPT line he quotes ("BUG: using __this_cpu_write() in preemptible
    /// [00000000] code") is printed, and the reason for item 3 (C5). No shipped variant prints it under a
    /// build it met: the mainline code is compiled out wherever DEBUG_PREEMPT exists.
    /// </summary>
    public static readonly Mutant June2023WithoutItem3 = new("without-item3",
        "Per Bilse's June 2023 patch without item 3: __this_cpu_write()/__this_cpu_read() compiled into PREEMPTION kernels (item 2)",
        "debug-preempt",
        new[]
        {
            ("xen_preemptible_hcall_set(bool state) => raw_cpu_write(xen_in_preemptible_hcall, state);",
             "xen_preemptible_hcall_set(bool state) => __this_cpu_write(xen_in_preemptible_hcall, state);"),
            ("xen_preemptible_hcall_get() => raw_cpu_read(xen_in_preemptible_hcall);",
             "xen_preemptible_hcall_get() => __this_cpu_read(xen_in_preemptible_hcall);"),
        })
    { Base = "june2023", File = "variants/june2023.cs" };

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
        new Mutant("percpu-handoff",
            "not a mistake: the state is per-CPU again, with a correct clear -> reschedule -> restore hand-off in the PV upcall " +
            "and the PVH callback vector, compiled into every build; no route switches a task inside the bracket other than " +
            "through that hand-off, so it is correct (docs/harness.md, routes)",
            Mutant.NoInvariant,
            PerCpuState.Append(CorrectHandOff).ToArray()),
        new Mutant("percpu-pv-handoff",
            "the state is per-CPU with the correct hand-off in the PV upcall only; the PVH callback vector stays generic (as in the " +
            "June 2023 patch), so on a PVH dom0 under full preemption irqentry_exit() switches the task out with the state set",
            "flag-owner",
            PerCpuState.Append(CorrectHandOff).Append(GenericPvhVector).ToArray()) { Workload = "c1" },
        new Mutant("this-cpu-write",
            "as percpu-pv-handoff, with the begin spelt this_cpu_write(): the scripts and the checks must recognise the state, not the accessor",
            "flag-owner",
            PerCpuState.Append(CorrectHandOff).Append(GenericPvhVector).Append(ThisCpuWriteBegin).ToArray()) { Workload = "c1" },
        new Mutant("open-region",
            "the region is ended only on the hypercall's error path (an early-return refactor): a successful ioctl returns with the state still set",
            "region-open",
            new[] { ("        xen_preemptible_hcall_end();\n        return ret;",
                     "        if (ret < 0)\n        {\n            xen_preemptible_hcall_end();\n            return ret;\n        }\n        return ret;") }),
        June2023WithoutItem3,
    };

    public static Mutant? Find(string name) => All.FirstOrDefault(m => m.Name == name);


    /// <summary>Splits "ours~patchable" into the variant to boot and the mutant to compile in ("june2023+fixes" into the variant alone).</summary>
    public static (string Variant, Mutant? Mutant) Parse(string variant)
    {
        // name+fixes boots the variant itself, on the port after the analyzers' code fixes (PortBuilder.ForVariant).
        var name = VariantName.Split(variant);
        if (name.AfterFixes || name.MutantName is null)
            return (name.Base, null);
        var mutant = All.FirstOrDefault(m => m.Base == name.Base && m.Name == name.MutantName)
            ?? throw new ArgumentException($"unknown mutant '{variant}' (known: {string.Join(", ", All.Select(m => m.Variant))})");
        return (mutant.Base, mutant);
    }
}
