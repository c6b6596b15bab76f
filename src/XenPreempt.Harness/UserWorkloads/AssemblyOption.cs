// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.IO;
using System.Linq;
using XenPreempt.Harness.Exploration;
using XenPreempt.Harness.UserWorkloads;

namespace XenPreempt.Harness;

/// <summary><c>--assembly</c>: explore, run, replay and minimize a user's own workloads (docs/harness.md, "Your own code").</summary>
public static partial class Program
{
    internal static Option<FileInfo?> AssemblyOption() => new("--assembly")
    {
        Description = "A compiled project of yours (.dll) that references the XenPreempt.Kernel package and defines workloads (classes deriving from XenPreempt.Kernel.Workload): run those instead of the port's.",
        HelpName = "path",
    };

    /// <summary>
    /// As <see cref="OneOf{T}(Option{T}, IReadOnlyList{string})"/>, except with <c>--assembly</c>: then the
    /// names are the assembly's workloads, checked once it is read.
    /// </summary>
    internal static Option<T> OneOfUnlessAssembly<T>(Option<T> o, IReadOnlyList<string> values, Option<FileInfo?> assembly)
    {
        o.HelpName = string.Join('|', values) + "|<yours>";
        o.Validators.Add(r =>
        {
            if (!AssemblyGiven(r, assembly))
                RefuseOthers(r, o.Name, values);
        });
        return o;
    }

    internal static Argument<string> OneOfUnlessAssembly(Argument<string> a, IReadOnlyList<string> values, Option<FileInfo?> assembly)
    {
        a.HelpName = string.Join('|', values) + "|<yours>";
        a.Validators.Add(r =>
        {
            if (!AssemblyGiven(r, assembly))
                RefuseOthers(r, "<" + a.Name + ">", values);
        });
        return a;
    }

    private static bool AssemblyGiven(SymbolResult r, Option<FileInfo?> assembly)
    {
        for (var p = r.Parent; p is not null; p = p.Parent)
            if (p is CommandResult c)
                return c.GetResult(assembly) is { Implicit: false };
        return false;
    }

    /// <summary>Reads the user's assembly; a problem with it is a usage error naming the option.</summary>
    private static bool TryOpenAssembly(FileInfo? file, out UserAssembly? assembly, out string problem)
    {
        assembly = null;
        problem = "";
        if (file is null)
            return true;
        try
        {
            assembly = UserWorkloadCatalog.Open(file.ToString());
            return true;
        }
        catch (ArgumentException e)
        {
            problem = $"--assembly: {OneLine(e.Message)}";
            return false;
        }
    }

    /// <summary>
    /// The user workload <c>--workload</c> names (<paramref name="given"/>; null when not given: the only one
    /// there is), or a problem listing the ones found.
    /// </summary>
    private static Scenario? PickUserWorkload(UserAssembly assembly, string? given, out string problem)
    {
        var all = UserWorkloadCatalog.All(assembly);
        string names = string.Join(", ", all.Select(s => s.Name[..s.Name.IndexOf('@', StringComparison.Ordinal)]));
        problem = "";
        if (given is null)
        {
            if (all.Count == 1)
                return all[0];
            problem = $"--workload: {assembly.Name} defines {all.Count} workloads, give one (found: {names})";
            return null;
        }
        var found = all.FirstOrDefault(s => s.Name == UserWorkloadCatalog.ScenarioName(assembly, given));
        if (found is null)
            problem = $"--workload: {assembly.Name} defines no workload '{given}' (found: {names})";
        return found;
    }

    /// <summary>The command that replays a token: the harness from the repository, or the tool with the user's assembly.</summary>
    internal static string ReplayCommandLine(ReplayToken token)
    {
        string workload = token.Workload.Split('~')[0];
        if (UserWorkloadCatalog.IsUser(workload) && UserWorkloadCatalog.PathOf(workload) is string path)
            return $"xen-harness replay --token {token.Encode()} --assembly {path}";
        return $"dotnet run --project src/XenPreempt.Harness -- replay --token {token.Encode()}";
    }
}
