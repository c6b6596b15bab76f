using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace XenPreemptAnalyzers.Tests.Infrastructure;

/// <summary>
/// Reference assemblies from the targeting pack installed beside the running runtime: fully offline,
/// nothing is downloaded at test time (never ReferenceAssemblies.Net.Net90/Net100/Default).
/// </summary>
internal static class InstalledReferences
{
    public static readonly Lazy<ImmutableArray<MetadataReference>> Net = new(Load);

    private static ImmutableArray<MetadataReference> Load()
    {
        var shared = Path.GetDirectoryName(typeof(object).Assembly.Location)!; // <root>/shared/Microsoft.NETCore.App/<version>
        var root = Path.GetFullPath(Path.Combine(shared, "..", "..", ".."));
        var packs = Path.Combine(root, "packs", "Microsoft.NETCore.App.Ref");
        var exact = Path.Combine(packs, Environment.Version.ToString(3), "ref", "net10.0");
        var directory = Directory.Exists(exact)
            ? exact
            : Directory.GetDirectories(packs).OrderByDescending(d => d, StringComparer.Ordinal)
                .Select(d => Path.Combine(d, "ref", "net10.0")).First(Directory.Exists);
        return Directory.GetFiles(directory, "*.dll")
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
    }
}
