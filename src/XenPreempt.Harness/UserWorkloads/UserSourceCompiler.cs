// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace XenPreempt.Harness.UserWorkloads;

/// <summary>
/// Compiles a user's C# sources as a project referencing the XenPreempt.Kernel package would be compiled
/// (against the port with the package's Kconfig symbols, version 0.1.0.0), in memory, to a .dll in a folder:
/// for the documentation's real-output blocks and for tests, which need a user assembly without running
/// <c>dotnet build</c> (the end-to-end test builds samples/MyDriver with the real SDK instead).
/// </summary>
public static class UserSourceCompiler
{
    /// <summary>The version the package gives the port's assembly (its package version, 0.1.0).</summary>
    public static readonly Version PackageVersion = new(0, 1, 0, 0);

    /// <summary>Compiles <paramref name="sources"/> to <c>directory/assemblyName.dll</c> and returns its path; errors throw with the compiler's messages.</summary>
    public static string Compile(string assemblyName, IEnumerable<(string Path, string Text)> sources, string directory)
    {
        var port = UserAssembly.CompilePort(UserWorkloadCatalog.DescribingConfig, PackageVersion);
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, parse, path: s.Path));
        var compilation = CSharpCompilation.Create(assemblyName, trees,
            PortBuilder.PortReferences.Append(port.ToMetadataReference()),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, deterministic: true));
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, assemblyName + ".dll");
        using (var pe = File.Create(path))
        {
            var emit = compilation.Emit(pe);
            if (!emit.Success)
                throw new InvalidOperationException($"{assemblyName} does not compile:\n" +
                    string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(10)));
        }
        return path;
    }

    /// <summary>The .cs files of a folder (not its bin/ and obj/), with their names.</summary>
    public static IReadOnlyList<(string Path, string Text)> SourcesIn(string folder) =>
        Directory.GetFiles(folder, "*.cs").OrderBy(f => f, StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllText(f))).ToArray();
}
