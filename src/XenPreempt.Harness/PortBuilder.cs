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
    private readonly IGuestImage _image;
    private readonly Lazy<CSharpCompilation> _compilation;

    internal PortBuild(KernelConfig config, Assembly assembly, Lazy<CSharpCompilation> compilation)
    {
        Config = config;
        Assembly = assembly;
        _compilation = compilation;
        // The port exports one IGuestImage (the machine's contract, shared with this load context): typed entry points.
        var imageType = assembly.GetExportedTypes().Single(t => typeof(IGuestImage).IsAssignableFrom(t) && !t.IsAbstract);
        _image = (IGuestImage)Activator.CreateInstance(imageType)!;
        Variants = _image.Variants.ToArray();
        VariantCode = _image.VariantCode.ToDictionary(v => v.Name, v => v.CodeType, StringComparer.Ordinal);
    }

    public KernelConfig Config { get; }
    public Assembly Assembly { get; }
    /// <summary>
    /// The compilation itself: the agreement check runs the analyzers on it. Made when first asked for
    /// (a build loaded from the image cache has none until then: running it needs only the image).
    /// </summary>
    public CSharpCompilation Compilation => _compilation.Value;
    public IReadOnlyList<(string Name, string Models)> Variants { get; }
    /// <summary>Variant name → the full name of the type whose code it runs.</summary>
    public IReadOnlyDictionary<string, string> VariantCode { get; }

    /// <summary>Creates a guest for a kernel command line.</summary>
    public IGuest CreateGuest(string cmdline) => _image.Create(cmdline);
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

    /// <summary>What the port is compiled against: the running framework, the machine and the annotations.</summary>
    public static IReadOnlyList<MetadataReference> PortReferences => References.Value;

    /// <summary>The parse options of a configuration: its Kconfig symbols as preprocessor symbols.</summary>
    public static CSharpParseOptions ParseOptions(KernelConfig config) => new(LanguageVersion.Latest, preprocessorSymbols: config.Symbols);

    /// <summary>The compilation options every build of the port uses.</summary>
    public static readonly CSharpCompilationOptions CompilationOptions =
        new(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, deterministic: true);

    public static PortBuild Get(KernelConfig config) =>
        Builds.GetOrAdd(config.Name, _ => new Lazy<PortBuild>(() => Compile(config, null))).Value;

    /// <summary>A build with one of our fix's seeded mutants compiled in place of variants/ours.cs.</summary>
    public static PortBuild Get(KernelConfig config, Exploration.Mutant? mutant) => mutant is null
        ? Get(config)
        : Builds.GetOrAdd(config.Name + "~" + mutant.Name, _ => new Lazy<PortBuild>(() => Compile(config, mutant))).Value;

    /// <summary>The suffix of a variant run after the analyzers' code fixes: <c>june2023+fixes</c>.</summary>
    public const string FixesSuffix = Exploration.VariantName.FixesSuffix;

    private static readonly ConcurrentDictionary<string, Lazy<Agreement.FixedPort>> FixedPorts = new();

    /// <summary>
    /// The build a variant name runs on: the configuration's own; with a mutant (<c>ours~name</c>) compiled in;
    /// or, for <c>name+fixes</c>, the port after every code fix the analyzers offer under that configuration.
    /// </summary>
    public static PortBuild ForVariant(KernelConfig config, string variant)
    {
        if (!Exploration.VariantName.Split(variant).AfterFixes)
            return Get(config, Exploration.Mutants.Parse(variant).Mutant);
        return Builds.GetOrAdd(config.Name + FixesSuffix,
            _ => new Lazy<PortBuild>(() => LoadShared(config, "fixes", () => CreateCompilation(config, FixedSources(config).Sources)))).Value;
    }

    /// <summary>The port after the code fixes under a configuration's symbols (computed once per symbol set).</summary>
    public static Agreement.FixedPort FixedSources(KernelConfig config) =>
        FixedPorts.GetOrAdd(string.Join(";", config.Symbols),
            _ => new Lazy<Agreement.FixedPort>(() => Agreement.CodeFixApplier.FixPortAsync(config).GetAwaiter().GetResult())).Value;

    /// <summary>The port's sources, with their paths inside src/XenPreempt.Kernel.</summary>
    public static IReadOnlyList<(string Path, string Text)> PortSources => Sources.Value;

    /// <summary>Parses and compiles the port with <paramref name="config"/>'s symbols (no loading).</summary>
    public static CSharpCompilation CreateCompilation(KernelConfig config, Exploration.Mutant? mutant = null) =>
        CreateCompilation(config, MutatedSources(mutant));

    /// <summary>
    /// Builds the port from other sources — for example the port after code fixes were applied — so
    /// that what the analyzers' fixes change can be run in the machine. Not cached.
    /// </summary>
    public static PortBuild Build(KernelConfig config, IEnumerable<(string Path, string Text)> sources) =>
        Load(config, CreateCompilation(config, sources), "custom");

    private static CSharpCompilation CreateCompilation(KernelConfig config, IEnumerable<(string Path, string Text)> sources)
    {
        var options = ParseOptions(config);
        var trees = sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, options, path: s.Path)).ToArray();
        return CSharpCompilation.Create($"XenPreempt.Kernel.{config.Name}", trees, References.Value, CompilationOptions);
    }

    private static PortBuild Compile(KernelConfig config, Exploration.Mutant? mutant) =>
        LoadShared(config, mutant?.Name, () => CreateCompilation(config, mutant), mutant, diskCache: true);

    /// <summary>A compiled image of the port: the same for every configuration with the same symbols.</summary>
    private sealed record Image(Lazy<CSharpCompilation> Compilation, byte[] Bytes);

    private static readonly ConcurrentDictionary<string, Lazy<Image>> Images = new();

    /// <summary>
    /// Loads a build, compiling it only once per symbol set and source variant: the runtime configurations
    /// of one PREEMPT_DYNAMIC build (its preempt= modes) load the same image, each into its own context.
    /// Builds of the port's own sources (a mutant's too) are also kept across runs in the
    /// <see cref="PortImageCache"/>, so a later process loads the image instead of compiling it.
    /// </summary>
    private static PortBuild LoadShared(KernelConfig config, string? tag, Func<CSharpCompilation> compile, Exploration.Mutant? mutant = null, bool diskCache = false)
    {
        var image = Images.GetOrAdd(string.Join(";", config.Symbols) + "~" + tag, _ => new Lazy<Image>(() =>
        {
            var compilation = new Lazy<CSharpCompilation>(compile);
            if (!diskCache)
                return Emit(config, compilation);
            string key = PortImageCache.Key(MutatedSources(mutant), config.Symbols);
            if (PortImageCache.TryRead(key) is byte[] cached)
                return new Image(compilation, cached);
            var image = Emit(config, compilation);
            PortImageCache.Write(key, image.Bytes);
            return image;
        })).Value;
        try
        {
            return LoadImage(config, image, tag);
        }
        catch (BadImageFormatException) when (diskCache)
        {
            // A damaged cache file: forget it and compile.
            Images.TryRemove(string.Join(";", config.Symbols) + "~" + tag, out _);
            PortImageCache.Forget(PortImageCache.Key(MutatedSources(mutant), config.Symbols));
            return LoadShared(config, tag, compile, mutant, diskCache: false);
        }
    }

    private static IEnumerable<(string Path, string Text)> MutatedSources(Exploration.Mutant? mutant) =>
        Sources.Value.Select(s => mutant is not null && s.Path == mutant.File ? (s.Path, mutant.Apply(s.Text.Replace("\r\n", "\n"))) : s);

    private static PortBuild Load(KernelConfig config, CSharpCompilation compilation, string? tag) =>
        LoadImage(config, Emit(config, new Lazy<CSharpCompilation>(compilation)), tag);

    private static Image Emit(KernelConfig config, Lazy<CSharpCompilation> lazy)
    {
        var compilation = lazy.Value;
        using var pe = new MemoryStream();
        var emit = compilation.Emit(pe);
        if (!emit.Success)
        {
            var errors = emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(10);
            throw new InvalidOperationException($"the port does not compile with configuration '{config.Name}':\n" + string.Join("\n", errors));
        }
        return new Image(lazy, pe.ToArray());
    }

    private static PortBuild LoadImage(KernelConfig config, Image image, string? tag)
    {
        var context = new AssemblyLoadContext($"port:{config.Name}{(tag is null ? "" : "~" + tag)}", isCollectible: true);
        using var pe = new MemoryStream(image.Bytes, writable: false);
        return new PortBuild(config, context.LoadFromStream(pe), image.Compilation);
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
