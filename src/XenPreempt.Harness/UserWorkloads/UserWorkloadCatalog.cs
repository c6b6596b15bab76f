// SPDX-License-Identifier: MIT
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using XenPreempt.Machine;

namespace XenPreempt.Harness.UserWorkloads;

/// <summary>
/// The user assemblies opened in this process (<c>--assembly</c>) and their workloads as scenarios the
/// explorer, the replayer and the minimizer run like the port's own. A user workload's scenario name is
/// <c>&lt;workload&gt;@&lt;assembly&gt;</c> (the assembly's simple name, '.' written '+' because a token splits
/// on '.'): that is what a replay token carries, so <c>replay --token … --assembly path</c> in a new
/// process knows which assembly and which workload it came from, and refuses another assembly.
/// </summary>
public static class UserWorkloadCatalog
{
    private static readonly ConcurrentDictionary<string, UserAssembly> Assemblies = new(StringComparer.Ordinal);

    /// <summary>
    /// The configuration a user's workloads are described under: the package's own symbol set (a
    /// PREEMPT_DYNAMIC build), the one the user's project was compiled against.
    /// </summary>
    public static KernelConfig DescribingConfig => KernelConfigs.Find("dynamic-voluntary")!;

    /// <summary>The simulated time a user workload may take: as the port's scenarios.</summary>
    private const long MaxTimeNs = 60_000_000_000;

    /// <summary>Reads a user's assembly and makes its workloads known (an <see cref="ArgumentException"/> if it has none).</summary>
    public static UserAssembly Open(string path)
    {
        var assembly = UserAssembly.Read(path);
        if (assembly.Workloads(DescribingConfig).Count == 0)
            throw new ArgumentException($"'{assembly.Path}' ({assembly.Name}) defines no workload: a public class deriving from XenPreempt.Kernel.Workload, with a public parameterless constructor");
        Assemblies[Token(assembly.Name)] = assembly;
        return assembly;
    }

    /// <summary>The scenario name of a workload of an assembly.</summary>
    public static string ScenarioName(UserAssembly assembly, string workload) => $"{workload}@{Token(assembly.Name)}";

    /// <summary>Whether a scenario name (or a token's workload field) names a user workload.</summary>
    public static bool IsUser(string scenarioName) => scenarioName.Contains('@', StringComparison.Ordinal);

    /// <summary>The assembly a user scenario name refers to, as the token writes it.</summary>
    public static string AssemblyOf(string scenarioName) => scenarioName[(scenarioName.IndexOf('@', StringComparison.Ordinal) + 1)..].Replace('+', '.');

    /// <summary>The path its assembly was given as, if it was opened in this process.</summary>
    public static string? PathOf(string scenarioName) =>
        Assemblies.TryGetValue(scenarioName[(scenarioName.IndexOf('@', StringComparison.Ordinal) + 1)..], out var a) ? a.GivenPath : null;

    /// <summary>A user workload's scenario, if its assembly was opened in this process.</summary>
    public static Scenario? Find(string scenarioName)
    {
        int at = scenarioName.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || !Assemblies.TryGetValue(scenarioName[(at + 1)..], out var assembly))
            return null;
        return All(assembly).FirstOrDefault(s => s.Name == scenarioName);
    }

    /// <summary>Every workload of an assembly, as a scenario.</summary>
    public static IReadOnlyList<Scenario> All(UserAssembly assembly) =>
        assembly.Workloads(DescribingConfig).Select(w => new Scenario(
            ScenarioName(assembly, w.Name),
            $"{w.Name} from {assembly.Name}",
            w.Tasks.Length == 0 ? w.Description : $"{w.Description}; tasks {w.Tasks}",
            Tasks: "",
            new MachineConfig { Cpus = w.Cpus, EventBudget = w.DeviceEvents, ExceptionBudget = w.Breakpoints, MaxTimeNs = MaxTimeNs, MaxSteps = 20_000 },
            o => o,
            Boot: "workload=" + w.Name)).ToArray();

    /// <summary>
    /// The build a user scenario runs on under <paramref name="config"/> (the port with the user's assembly
    /// beside it), or null for the port's own scenarios.
    /// </summary>
    public static PortBuild? BuildFor(Scenario workload, KernelConfig config)
    {
        if (!IsUser(workload.Name))
            return null;
        string asm = workload.Name[(workload.Name.IndexOf('@', StringComparison.Ordinal) + 1)..];
        return Assemblies.TryGetValue(asm, out var assembly)
            ? assembly.Build(config)
            : throw new ArgumentException($"the workload {workload.Name} comes from the assembly {AssemblyOf(workload.Name)}: give --assembly <path to {AssemblyOf(workload.Name)}.dll>");
    }

    /// <summary>The variant names a user workload may boot: the port's own variants (no mutants, no "+fixes": those rebuild the port).</summary>
    public static bool AcceptsVariant(string variant) => Exploration.VariantName.Split(variant).IsPlain;

    private static string Token(string assemblyName) => assemblyName.Replace('.', '+');
}
