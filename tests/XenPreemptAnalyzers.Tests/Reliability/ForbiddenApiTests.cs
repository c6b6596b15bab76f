// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Xunit;
using XenPreemptAnalyzers.CodeFixes;

namespace XenPreemptAnalyzers.Tests.Reliability;

/// <summary>
/// An analyzer package runs inside every build: it must only analyse. These tests read the metadata of the
/// built analyzer and code-fix assemblies (every type and member they reference) and fail on any reference to
/// file, network, process, environment or reflection-emit APIs, or to assembly loading. RS1035 keeps such calls
/// out at compile time too (EnforceExtendedAnalyzerRules); the end-to-end tests prove the build fails on one.
/// </summary>
public sealed class ForbiddenApiTests
{
    /// <summary>Namespaces of which nothing may be referenced.</summary>
    private static readonly string[] ForbiddenNamespaces =
    {
        "System.Net", "System.IO.Pipes", "System.IO.MemoryMappedFiles", "System.IO.IsolatedStorage", "System.IO.Compression",
        "System.Reflection.Emit", "System.Runtime.Loader", "Microsoft.Win32",
    };

    /// <summary>Types of which nothing may be referenced.</summary>
    private static readonly string[] ForbiddenTypes =
    {
        "System.IO.File", "System.IO.Directory", "System.IO.FileStream", "System.IO.FileInfo", "System.IO.DirectoryInfo",
        "System.IO.FileSystemInfo", "System.IO.FileSystemWatcher", "System.IO.DriveInfo", "System.IO.StreamReader", "System.IO.StreamWriter",
        "System.Diagnostics.Process", "System.Diagnostics.ProcessStartInfo", "System.AppDomain",
        "System.Console",
    };

    /// <summary>
    /// What of <c>System.Environment</c> may be referenced: the compiler's iterator and async state machines read
    /// the managed thread id. Everything else (variables, command line, current directory, exit…) is forbidden.
    /// </summary>
    private static readonly string[] AllowedEnvironmentMembers = { "get_CurrentManagedThreadId", "get_NewLine" };

    /// <summary>Members that load code.</summary>
    private static readonly string[] ForbiddenMembers =
    {
        "System.Reflection.Assembly::Load", "System.Reflection.Assembly::LoadFrom", "System.Reflection.Assembly::LoadFile",
        "System.Reflection.Assembly::UnsafeLoadFrom", "System.Reflection.Assembly::LoadWithPartialName",
    };

    [Fact]
    public void The_analyzer_assembly_references_only_analysis_apis() =>
        Assert.Empty(ForbiddenReferences(typeof(PreemptContextAnalyzer).Assembly.Location));

    [Fact]
    public void The_code_fix_assembly_references_only_analysis_apis() =>
        Assert.Empty(ForbiddenReferences(typeof(Xpa0001CodeFixProvider).Assembly.Location));

    [Fact]
    public void The_check_sees_file_and_environment_access_where_there_is_some()
    {
        // This test assembly lists the installed reference pack and reads the runtime version (InstalledReferences):
        // the scan must say so.
        var found = ForbiddenReferences(typeof(ForbiddenApiTests).Assembly.Location);
        Assert.Contains("System.IO.Directory::GetFiles", found);
        Assert.Contains("System.Environment::get_Version", found);
    }

    [Fact]
    public void Both_assemblies_are_netstandard2_0_and_reference_Roslyn_at_the_floor_only()
    {
        foreach (var assembly in new[] { typeof(PreemptContextAnalyzer).Assembly, typeof(Xpa0001CodeFixProvider).Assembly })
        {
            using var pe = new PEReader(File.OpenRead(assembly.Location));
            var metadata = pe.GetMetadataReader();
            var references = metadata.AssemblyReferences.Select(metadata.GetAssemblyReference)
                .ToDictionary(r => metadata.GetString(r.Name), r => r.Version);
            Assert.Equal(new Version(2, 0, 0, 0), references["netstandard"]);
            foreach (var (name, version) in references.Where(r => r.Key.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal)))
                Assert.True(version == new Version(4, 8, 0, 0), $"{assembly.GetName().Name} references {name} {version}, not the 4.8.0 floor");
        }
    }

    /// <summary>Every forbidden type or member the assembly at <paramref name="path"/> references, as <c>Type</c> or <c>Type::Member</c>.</summary>
    internal static IReadOnlyList<string> ForbiddenReferences(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        var metadata = pe.GetMetadataReader();
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var handle in metadata.TypeReferences)
        {
            var type = FullName(metadata, handle);
            if (IsForbiddenType(type))
                found.Add(type);
        }
        foreach (var handle in metadata.MemberReferences)
        {
            var member = metadata.GetMemberReference(handle);
            if (member.Parent.Kind != HandleKind.TypeReference)
                continue;
            var qualified = FullName(metadata, (TypeReferenceHandle)member.Parent) + "::" + metadata.GetString(member.Name);
            if (IsForbiddenType(qualified[..qualified.IndexOf("::", StringComparison.Ordinal)]) || ForbiddenMembers.Contains(qualified, StringComparer.Ordinal)
                || (qualified.StartsWith("System.Environment::", StringComparison.Ordinal) && !AllowedEnvironmentMembers.Contains(metadata.GetString(member.Name), StringComparer.Ordinal)))
                found.Add(qualified);
        }
        return found.ToList();
    }

    private static bool IsForbiddenType(string type) =>
        ForbiddenTypes.Contains(type, StringComparer.Ordinal)
        || ForbiddenNamespaces.Any(ns => type.StartsWith(ns + ".", StringComparison.Ordinal));

    private static string FullName(MetadataReader metadata, TypeReferenceHandle handle)
    {
        var type = metadata.GetTypeReference(handle);
        var name = metadata.GetString(type.Name);
        if (type.ResolutionScope.Kind == HandleKind.TypeReference)
            return FullName(metadata, (TypeReferenceHandle)type.ResolutionScope) + "+" + name;
        var ns = metadata.GetString(type.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }
}
