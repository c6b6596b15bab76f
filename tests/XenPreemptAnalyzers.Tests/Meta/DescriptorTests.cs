using System;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Tests.Meta;

/// <summary>Every descriptor against its docs page, its help link and its release-tracking row.</summary>
public sealed class DescriptorTests
{
    private static readonly string RepositoryRoot = FindRepositoryRoot();

    public static TheoryData<string> Ids => new(Descriptors.All.Select(d => d.Id));

    [Theory]
    [MemberData(nameof(Ids))]
    public void Docs_page_exists_and_its_heading_is_the_title(string id)
    {
        var descriptor = Descriptors.All.Single(d => d.Id == id);
        var page = Path.Combine(RepositoryRoot, "docs", "rules", id + ".md");
        Assert.True(File.Exists(page), $"missing {page}");
        var heading = File.ReadLines(page).First();
        Assert.Equal($"# {id}: {descriptor.Title}", heading);
        foreach (var section in new[] { "## Cause", "## Rule description", "## Kernel background", "## How to fix", "## When to suppress", "## Configuration" })
            Assert.Contains(section, File.ReadAllText(page));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Help_link_points_to_the_docs_page(string id)
    {
        var descriptor = Descriptors.All.Single(d => d.Id == id);
        Assert.Equal(Descriptors.HelpLinkBase + id + ".md", descriptor.HelpLinkUri);
        Assert.StartsWith("https://", descriptor.HelpLinkUri, StringComparison.Ordinal);
        Assert.Equal(Descriptors.Category, descriptor.Category);
        Assert.True(descriptor.IsEnabledByDefault);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Release_tracking_row_matches(string id)
    {
        var descriptor = Descriptors.All.Single(d => d.Id == id);
        var unshipped = File.ReadAllLines(Path.Combine(RepositoryRoot, "src", "XenPreemptAnalyzers", "AnalyzerReleases.Unshipped.md"));
        var row = Assert.Single(unshipped, line => line.StartsWith(id + " ", StringComparison.Ordinal));
        var cells = row.Split('|').Select(c => c.Trim()).ToArray();
        Assert.Equal(descriptor.Category, cells[1]);
        Assert.Equal(descriptor.DefaultSeverity.ToString(), cells[2]);
    }

    [Fact]
    public void Analyzer_supports_exactly_the_descriptors() =>
        Assert.Equal(Descriptors.All.Select(d => d.Id), new PreemptContextAnalyzer().SupportedDiagnostics.Select(d => d.Id).Distinct());

    [Fact]
    public void Configuration_page_documents_every_key()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot, "docs", "configuration.md"));
        var keys = AnalyzerSettings.NameListKeys.Select(k => k.Key)
            .Append(AnalyzerSettings.PreemptionModelKey).Append(AnalyzerSettings.PatchableMethodsKey);
        foreach (var key in keys)
            Assert.Contains("`" + key + "`", text);
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "XenPreemptAnalyzers.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException("XenPreemptAnalyzers.sln not found above " + AppContext.BaseDirectory);
    }
}
