// SPDX-License-Identifier: MIT
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using XenPreempt.Machine;

namespace XenPreempt.Harness;

/// <summary>One build of the reference port: the port's sources compiled with one configuration's symbols.</summary>
public sealed class PortBuild
{
    private readonly MethodInfo _create;

    internal PortBuild(KernelConfig config, Assembly assembly, CSharpCompilation compilation)
    {
        Config = config;
        Assembly = assembly;
        Compilation = compilation;
        var type = assembly.GetType("XenPreempt.Kernel.LinuxGuest", throwOnError: true)!;
        _create = type.GetMethod("create")!;
        Variants = ((IReadOnlyList<(string Name, string Models)>)type.GetMethod("variants")!.Invoke(null, null)!).ToArray();
    }

    public KernelConfig Config { get; }
    public Assembly Assembly { get; }
    /// <summary>The compilation itself: the agreement check runs the analyzers on it.</summary>
    public CSharpCompilation Compilation { get; }
    public IReadOnlyList<(string Name, string Models)> Variants { get; }

    /// <summary>Creates a guest for a kernel command line.</summary>
    public IGuest CreateGuest(string cmdline)
    {
        try
        {
            return (IGuest)_create.Invoke(null, new object[] { cmdline })!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}

/// <summary>
/// Compiles the port's sources (embedded in this assembly) once per configuration, in memory, and
/// loads each build into its own collectible load context. The machine and annotation assemblies
/// are shared with the harness, so the guest is an <see cref="IGuest"/> the harness can drive.
/// </summary>
public static class PortBuilder
{
    private static readonly ConcurrentDictionary<string, Lazy<PortBuild>> Builds = new();
    private static readonly Lazy<IReadOnlyList<(string Path, string Text)>> Sources = new(LoadSources);
    private static readonly Lazy<MetadataReference[]> References = new(LoadReferences);

    public static PortBuild Get(KernelConfig config) =>
        Builds.GetOrAdd(config.Name, _ => new Lazy<PortBuild>(() => Compile(config, null))).Value;

    /// <summary>A build with one of our fix's seeded mutants compiled in place of variants/ours.cs.</summary>
    public static PortBuild Get(KernelConfig config, Exploration.Mutant? mutant) => mutant is null
        ? Get(config)
        : Builds.GetOrAdd(config.Name + "~" + mutant.Name, _ => new Lazy<PortBuild>(() => Compile(config, mutant))).Value;

    /// <summary>The port's sources, with their paths inside src/XenPreempt.Kernel.</summary>
    public static IReadOnlyList<(string Path, string Text)> PortSources => Sources.Value;

    /// <summary>Parses and compiles the port with <paramref name="config"/>'s symbols (no loading).</summary>
    public static CSharpCompilation CreateCompilation(KernelConfig config, Exploration.Mutant? mutant = null) =>
        CreateCompilation(config, Sources.Value.Select(s => mutant is not null && s.Path == Exploration.Mutants.File ? (s.Path, mutant.Apply(s.Text.Replace("\r\n", "\n"))) : s));

    /// <summary>
    /// Builds the port from other sources — for example the port after code fixes were applied — so
    /// that what the analyzers' fixes change can be run in the machine. Not cached.
    /// </summary>
    public static PortBuild Build(KernelConfig config, IEnumerable<(string Path, string Text)> sources) =>
        Load(config, CreateCompilation(config, sources), "custom");

    private static CSharpCompilation CreateCompilation(KernelConfig config, IEnumerable<(string Path, string Text)> sources)
    {
        var options = new CSharpParseOptions(LanguageVersion.Latest, preprocessorSymbols: config.Symbols);
        var trees = sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, options, path: s.Path)).ToArray();
        return CSharpCompilation.Create(
            $"XenPreempt.Kernel.{config.Name}",
            trees,
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, deterministic: true));
    }

    private static PortBuild Compile(KernelConfig config, Exploration.Mutant? mutant) =>
        Load(config, CreateCompilation(config, mutant), mutant?.Name);

    private static PortBuild Load(KernelConfig config, CSharpCompilation compilation, string? tag)
    {
        using var pe = new MemoryStream();
        var emit = compilation.Emit(pe);
        if (!emit.Success)
        {
            var errors = emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(10);
            throw new InvalidOperationException($"the port does not compile with configuration '{config.Name}':\n" + string.Join("\n", errors));
        }
        pe.Position = 0;
        var context = new AssemblyLoadContext($"port:{config.Name}{(tag is null ? "" : "~" + tag)}", isCollectible: true);
        return new PortBuild(config, context.LoadFromStream(pe), compilation);
    }

    private static IReadOnlyList<(string Path, string Text)> LoadSources()
    {
        var asm = typeof(PortBuilder).Assembly;
        var list = new List<(string, string)>();
        foreach (var name in asm.GetManifestResourceNames().Where(n => n.StartsWith("port/", StringComparison.Ordinal)).OrderBy(n => n, StringComparer.Ordinal))
        {
            using var reader = new StreamReader(asm.GetManifestResourceStream(name)!);
            list.Add((name["port/".Length..].Replace('\\', '/'), reader.ReadToEnd()));
        }
        if (list.Count == 0)
            throw new InvalidOperationException("the harness was built without the port's sources");
        return list;
    }

    private static MetadataReference[] LoadReferences()
    {
        // The running framework's assemblies, plus the two assemblies the port shares with the harness.
        var tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var framework = tpa.Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll");
        var shared = new[] { typeof(IGuest).Assembly.Location, typeof(XenPreempt.Annotations.ProcessContextAttribute).Assembly.Location };
        return framework.Concat(shared).Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
    }
}
