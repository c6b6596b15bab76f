// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace XenPreempt.Harness;

/// <summary>
/// Compiled port images kept across runs, one file per hash of everything the image depends on: the
/// port's sources (a mutant's edits applied), the Kconfig symbols, the compiler's version and the
/// identity of what it is compiled against (the runtime, the machine, the annotations) and of the
/// harness that assembles them. Any change to
/// one of them is another key, so a stale image is never loaded; a damaged file is dropped and rebuilt.
/// </summary>
/// <remarks>
/// Where: <c>$XEN_HARNESS_CACHE_DIR</c> if set (tests point it at a temporary folder); else
/// <c>$XDG_CACHE_HOME/xen-harness</c>, <c>~/.cache/xen-harness</c> on Unix, the local application data
/// folder on Windows; the temporary folder if none can be found. Never inside the repository.
/// Writes go to a temporary file renamed into place, so two processes building the same image at once
/// both end with a whole file.
/// </remarks>
public static class PortImageCache
{
    public const string DirectoryVariable = "XEN_HARNESS_CACHE_DIR";

    /// <summary>The folder images are kept in (created when the first image is written).</summary>
    public static string Directory => Path.Combine(Root(), "port-images");

    private static string Root()
    {
        if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } overridden)
            return overridden;
        if (Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg))
            return Path.Combine(xdg, "xen-harness");
        if (OperatingSystem.IsWindows())
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "xen-harness", "cache");
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify);
        return home.Length > 0
            ? Path.Combine(home, OperatingSystem.IsMacOS() ? "Library/Caches" : ".cache", "xen-harness")
            : Path.Combine(Path.GetTempPath(), "xen-harness-cache");
    }

    /// <summary>
    /// The hash of an image's inputs (hex SHA-256). Computed without opening a compiler or a reference
    /// assembly, so that a cache hit costs no more than reading the image: the framework is named by
    /// the runtime's version, the shared assemblies and the harness (which fixes the compiler it
    /// ships with, and how it assembles the sources and compilation options) by their module version ids.
    /// </summary>
    public static string Key(IEnumerable<(string Path, string Text)> sources, IEnumerable<string> symbols)
    {
        var sb = new StringBuilder();
        sb.Append("xen-harness port image v1\n");
        sb.Append("runtime ").Append(System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription).Append(' ').Append(Environment.Version).Append('\n');
        var harness = typeof(PortImageCache).Assembly;
        foreach (var assembly in new[] { harness, typeof(XenPreempt.Machine.IGuest).Assembly, typeof(XenPreempt.Annotations.ProcessContextAttribute).Assembly })
            sb.Append("assembly ").Append(assembly.GetName().Name).Append(' ').Append(assembly.ManifestModule.ModuleVersionId).Append('\n');
        foreach (var reference in harness.GetReferencedAssemblies().Where(a => a.Name?.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal) == true))
            sb.Append("compiler ").Append(reference.FullName).Append('\n');
        foreach (var symbol in symbols)
            sb.Append("symbol ").Append(symbol).Append('\n');
        foreach (var (path, text) in sources.OrderBy(s => s.Path, StringComparer.Ordinal))
            sb.Append("source ").Append(path).Append(' ').Append(text.Length).Append('\n').Append(text).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    private static string PathOf(string key) => Path.Combine(Directory, key + ".dll");

    /// <summary>The cached image for a key, or null (none yet, or the cache cannot be read).</summary>
    public static byte[]? TryRead(string key)
    {
        try
        {
            return File.Exists(PathOf(key)) ? File.ReadAllBytes(PathOf(key)) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Keeps an image; a cache that cannot be written only costs the next run a compile.</summary>
    public static void Write(string key, byte[] image)
    {
        string temp = PathOf(key) + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            File.WriteAllBytes(temp, image);
            File.Move(temp, PathOf(key), overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (Exception d) when (d is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>Drops a damaged image.</summary>
    public static void Forget(string key)
    {
        try { File.Delete(PathOf(key)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
