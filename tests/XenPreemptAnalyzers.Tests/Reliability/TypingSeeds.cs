// SPDX-License-Identifier: MIT
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using XenPreemptAnalyzers.Tests.Infrastructure;

namespace XenPreemptAnalyzers.Tests.Reliability;

/// <summary>
/// One starting point of the typing simulation: a source text and the solution it lives in (its project's
/// other files, or the kernel stubs for a test snippet), so edits are analysed in a realistic compilation.
/// </summary>
internal sealed record TypingSeed(string Name, string Text, Func<Task<(Solution Solution, DocumentId Document)>> Open);

/// <summary>
/// Builds and caches the seeds' solutions: one ad-hoc workspace per repository project (every .cs file of the
/// project, the installed reference pack, and the assemblies beside this test — the port's machine, the
/// annotations, Roslyn, xunit — so most names bind), and one small solution per test snippet with the kernel
/// stubs. Each solution's compilation is built once; an edit forks it, replacing one document.
/// </summary>
internal static class TypingSeeds
{
    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly ConcurrentDictionary<string, Lazy<Task<(Solution, IReadOnlyDictionary<string, DocumentId>)>>> Projects = new(StringComparer.Ordinal);

    private static readonly ConcurrentDictionary<string, Lazy<Task<(Solution, DocumentId)>>> Snippets = new(StringComparer.Ordinal);

    /// <summary>The file itself, then the kernel snippets its string literals hold (test inputs).</summary>
    public static IReadOnlyList<TypingSeed> For(string relativePath)
    {
        var text = File.ReadAllText(RepositorySources.FullPath(relativePath));
        var seeds = new List<TypingSeed> { new(relativePath, text, () => OpenRepositoryFile(relativePath)) };
        var snippets = RepositorySources.KernelSnippets(text);
        for (var i = 0; i < snippets.Count; i++)
        {
            var snippet = KernelStubs.Usings + snippets[i];
            seeds.Add(new TypingSeed($"{relativePath}, kernel snippet #{i + 1}", snippet, () => OpenSnippet(snippet)));
        }
        return seeds;
    }

    private static async Task<(Solution, DocumentId)> OpenRepositoryFile(string relativePath)
    {
        var directory = RepositorySources.ProjectDirectoryOf(relativePath);
        var (solution, documents) = await Projects.GetOrAdd(directory, d => new(() => CreateProject(d))).Value;
        return (solution, documents[relativePath]);
    }

    internal static Task<(Solution, DocumentId)> OpenSnippet(string snippet) =>
        Snippets.GetOrAdd(snippet, s => new(async () =>
        {
            var (solution, documents) = await CreateSolution("Snippet", new[] { ("/0/Test0.cs", s), ("/0/KernelStubs.cs", KernelStubs.Source) }, "Snippet");
            return (solution, documents["/0/Test0.cs"]);
        })).Value;

    private static Task<(Solution, IReadOnlyDictionary<string, DocumentId>)> CreateProject(string directory)
    {
        var name = Path.GetFileName(directory);
        var files = RepositorySources.FilesOfProject(directory)
            .Select(f => (f, File.ReadAllText(RepositorySources.FullPath(f))))
            .ToArray();
        return CreateSolution(name, files, name);
    }

    private static async Task<(Solution, IReadOnlyDictionary<string, DocumentId>)> CreateSolution(string name, IReadOnlyList<(string Path, string Text)> files, string assemblyName)
    {
        var workspace = new AdhocWorkspace();
        var projectId = ProjectId.CreateNewId(name);
        var documents = new Dictionary<string, DocumentId>(StringComparer.Ordinal);
        var infos = new List<DocumentInfo>();
        foreach (var (path, text) in files)
        {
            var id = DocumentId.CreateNewId(projectId, path);
            documents[path] = id;
            infos.Add(DocumentInfo.Create(id, Path.GetFileName(path), loader: TextLoader.From(TextAndVersion.Create(SourceText.From(text), VersionStamp.Default)), filePath: path));
        }
        var project = ProjectInfo.Create(projectId, VersionStamp.Default, name, assemblyName, LanguageNames.CSharp,
            compilationOptions: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable),
            parseOptions: ParseOptions,
            documents: infos,
            metadataReferences: References(assemblyName));
        var solution = workspace.CurrentSolution.AddProject(project);
        // Built once here; every edit forks this solution and replaces one document.
        _ = await solution.GetProject(projectId)!.GetCompilationAsync();
        return (solution, documents);
    }

    /// <summary>The reference pack, and the assemblies beside this test except the project's own.</summary>
    private static IEnumerable<MetadataReference> References(string assemblyName) =>
        InstalledReferences.Net.Value.Concat(BesideTheTests.Value.Where(r => r.Name != assemblyName).Select(r => r.Reference));

    private static readonly Lazy<ImmutableArray<(string Name, MetadataReference Reference)>> BesideTheTests = new(() =>
    {
        var framework = new HashSet<string>(InstalledReferences.Net.Value.Select(r => Path.GetFileNameWithoutExtension(r.Display!)), StringComparer.OrdinalIgnoreCase);
        return Directory.GetFiles(AppContext.BaseDirectory, "*.dll")
            .Select(path => (Name: Path.GetFileNameWithoutExtension(path), Path: path))
            .Where(f => !framework.Contains(f.Name) && !f.Name.StartsWith("testhost", StringComparison.Ordinal))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => (f.Name, (MetadataReference)MetadataReference.CreateFromFile(f.Path)))
            .ToImmutableArray();
    });
}
