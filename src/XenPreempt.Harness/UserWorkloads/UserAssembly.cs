// SPDX-License-Identifier: MIT
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using XenPreempt.Machine;

namespace XenPreempt.Harness.UserWorkloads;

/// <summary>One workload found in a user's assembly, as the port describes it.</summary>
public sealed record UserWorkload(string Name, string Description, int Cpus, int DeviceEvents, int Breakpoints, string Tasks);

/// <summary>
/// A user's compiled project (a .dll referencing the XenPreempt.Kernel package) bound to the port's
/// builds: for each configuration the port is compiled under that configuration's Kconfig symbols as an
/// assembly named <c>XenPreempt.Kernel</c> (the name and version the user's assembly references), and the
/// user's assembly is loaded beside it in one load context, so that its calls into the port run that
/// configuration's code. The machine and the annotations are shared with the harness, as for the port's
/// own builds.
/// </summary>
public sealed class UserAssembly
{
    /// <summary>The port's assembly name: what a user's project references (the XenPreempt.Kernel package).</summary>
    public const string PortAssemblyName = "XenPreempt.Kernel";

    private readonly byte[] _image;
    private readonly ConcurrentDictionary<string, Lazy<(PortBuild Build, IReadOnlyList<UserWorkload> Workloads)>> _builds = new();

    private UserAssembly(string givenPath, string path, string name, Version portVersion, byte[] image)
    {
        GivenPath = givenPath;
        Path = path;
        Name = name;
        PortVersion = portVersion;
        _image = image;
    }

    /// <summary>The path as the user gave it (what a printed replay command repeats).</summary>
    public string GivenPath { get; }
    /// <summary>Where the assembly was read from.</summary>
    public string Path { get; }
    /// <summary>The assembly's simple name: what a replay token names.</summary>
    public string Name { get; }
    /// <summary>The version of XenPreempt.Kernel it was compiled against.</summary>
    public Version PortVersion { get; }

    /// <summary>
    /// Reads a user's assembly. A problem with the file (missing, not a .NET assembly, no reference to
    /// the port) is an <see cref="ArgumentException"/> saying so: the user's input, not our failure.
    /// </summary>
    public static UserAssembly Read(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new ArgumentException($"'{full}' does not exist (give the .dll your project builds, e.g. bin/Debug/net10.0/MyDriver.dll)");
        byte[] image;
        try
        {
            image = File.ReadAllBytes(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"cannot read '{full}': {e.Message}");
        }
        try
        {
            using var pe = new PEReader(new MemoryStream(image, writable: false));
            if (!pe.HasMetadata)
                throw new ArgumentException($"'{full}' is not a .NET assembly");
            var md = pe.GetMetadataReader();
            if (!md.IsAssembly)
                throw new ArgumentException($"'{full}' is a module, not an assembly");
            string name = md.GetString(md.GetAssemblyDefinition().Name);
            foreach (var handle in md.AssemblyReferences)
            {
                var reference = md.GetAssemblyReference(handle);
                if (md.GetString(reference.Name) == PortAssemblyName)
                    return new UserAssembly(path, full, name, reference.Version, image);
            }
            throw new ArgumentException($"'{full}' ({name}) does not reference {PortAssemblyName}: a workload is written against the XenPreempt.Kernel package");
        }
        catch (BadImageFormatException)
        {
            throw new ArgumentException($"'{full}' is not a .NET assembly");
        }
    }

    /// <summary>The workloads the assembly defines (found in its build for <paramref name="config"/>).</summary>
    public IReadOnlyList<UserWorkload> Workloads(KernelConfig config) => Bind(config).Workloads;

    /// <summary>The port built under <paramref name="config"/> with this assembly loaded beside it.</summary>
    public PortBuild Build(KernelConfig config) => Bind(config).Build;

    private (PortBuild Build, IReadOnlyList<UserWorkload> Workloads) Bind(KernelConfig config) =>
        _builds.GetOrAdd(config.Name, _ => new Lazy<(PortBuild, IReadOnlyList<UserWorkload>)>(() => Load(config))).Value;

    private (PortBuild, IReadOnlyList<UserWorkload>) Load(KernelConfig config)
    {
        var compilation = new Lazy<CSharpCompilation>(() => Compile(config));
        byte[] port = PortImage(config, compilation);
        var context = new UserPortContext($"user:{Name}:{config.Name}", port, System.IO.Path.GetDirectoryName(Path)!);
        var build = new PortBuild(config, context.Port, compilation);
        Assembly user;
        try
        {
            user = context.LoadFromStream(new MemoryStream(_image, writable: false));
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException)
        {
            throw new ArgumentException($"'{Path}' cannot be loaded: {e.Message}");
        }
        var register = context.Port.GetType("XenPreempt.Kernel.LinuxGuest", throwOnError: true)!.GetMethod("register_workloads")!;
        IReadOnlyList<(string Name, string Description, int Cpus, int DeviceEvents, int Breakpoints, string Tasks)> found;
        try
        {
            found = (IReadOnlyList<(string, string, int, int, int, string)>)register.Invoke(null, new object[] { user })!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            // The user's constructor or setup() threw, or a type did not load against this build.
            throw new ArgumentException($"{Name}: describing its workloads under {config.Name} failed: {e.InnerException.GetType().Name}: {e.InnerException.Message}");
        }
        catch (ReflectionTypeLoadException e)
        {
            throw new ArgumentException($"{Name}: its types do not load against the port built for {config.Name}: {e.LoaderExceptions.FirstOrDefault()?.Message}");
        }
        return (build, found.Select(w => new UserWorkload(w.Name, w.Description, w.Cpus, w.DeviceEvents, w.Breakpoints, w.Tasks)).ToArray());
    }

    // The port under the configuration's symbols, named and versioned as the user's reference asks; kept
    // in the image cache like the port's own builds (the name and version are part of the key).
    private byte[] PortImage(KernelConfig config, Lazy<CSharpCompilation> compilation)
    {
        var identity = config.Symbols.Append($"assembly:{PortAssemblyName},{PortVersion}");
        string key = PortImageCache.Key(PortBuilder.PortSources, identity);
        if (PortImageCache.TryRead(key) is byte[] cached)
            return cached;
        using var pe = new MemoryStream();
        var emit = compilation.Value.Emit(pe);
        if (!emit.Success)
            throw new InvalidOperationException($"the port does not compile with configuration '{config.Name}':\n" +
                string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(10)));
        PortImageCache.Write(key, pe.ToArray());
        return pe.ToArray();
    }

    private CSharpCompilation Compile(KernelConfig config) => CompilePort(config, PortVersion);

    /// <summary>The port under <paramref name="config"/>'s symbols, as the assembly <c>XenPreempt.Kernel</c> of <paramref name="version"/>.</summary>
    internal static CSharpCompilation CompilePort(KernelConfig config, Version version)
    {
        var options = PortBuilder.ParseOptions(config);
        var trees = PortBuilder.PortSources.Select(s => CSharpSyntaxTree.ParseText(s.Text, options, path: s.Path))
            .Append(CSharpSyntaxTree.ParseText($"[assembly: System.Reflection.AssemblyVersion(\"{version}\")]", options, path: "AssemblyVersion.cs"));
        return CSharpCompilation.Create(PortAssemblyName, trees, PortBuilder.PortReferences, PortBuilder.CompilationOptions);
    }
}

/// <summary>
/// The load context of one user assembly under one configuration: <c>XenPreempt.Kernel</c> resolves to
/// that configuration's build of the port; the machine, the annotations and the framework come from
/// the harness (the default context); anything else the user's assembly needs, from its own folder.
/// </summary>
internal sealed class UserPortContext : AssemblyLoadContext
{
    private readonly string _directory;

    public UserPortContext(string name, byte[] port, string directory) : base(name, isCollectible: true)
    {
        _directory = directory;
        Port = LoadFromStream(new MemoryStream(port, writable: false));
    }

    public Assembly Port { get; }

    protected override Assembly? Load(AssemblyName name)
    {
        if (name.Name == UserAssembly.PortAssemblyName)
            return Port;
        // Shared with the harness: the guest must be an IGuest the harness can drive.
        if (name.Name is "XenPreempt.Machine" or "XenPreempt.Annotations")
            return null;
        string candidate = System.IO.Path.Combine(_directory, name.Name + ".dll");
        return Default.Assemblies.Any(a => a.GetName().Name == name.Name) || !File.Exists(candidate) ? null : LoadFromAssemblyPath(candidate);
    }
}
