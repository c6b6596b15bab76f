using System;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using Xunit;

namespace XenPreempt.EndToEnd.Tests;

/// <summary>
/// An editor: csharp-ls (from the repository's tool manifest; run <c>dotnet tool restore</c> first), with
/// <c>csharp.analyzersEnabled</c>, publishes XPA0002 for samples/KernelPort/Upcall.cs consuming the packed
/// analyzers, withdraws it after a didChange that applies the fix, and publishes it again when the change is undone.
/// </summary>
[Collection(PackedFeedCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class EditorTests(PackedFeed feed)
{
    /// <summary>Every wait ends as soon as its message arrives; this only stops a hung server (csharp-ls at high load takes minutes).</summary>
    private static readonly TimeSpan Wait = Dotnet.HangGuard;

    [Fact]
    public void Csharp_ls_publishes_xpa0002_and_follows_edits()
    {
        var dir = feed.CopySample("KernelPort");
        var restore = Dotnet.Run(dir, "restore", "--ignore-failed-sources");
        Assert.True(restore.Code == 0, restore.Output);
        var solution = Path.Combine(dir, "KernelPort.slnx");
        File.WriteAllText(solution, "<Solution>\n  <Project Path=\"KernelPort.csproj\" />\n</Solution>\n");

        var settings = new JsonObject { ["csharp"] = new JsonObject { ["analyzersEnabled"] = true } };
        // Started from the repository so that its .config/dotnet-tools.json resolves the tool.
        using var lsp = new LspClient(Dotnet.StartInfo("dotnet", Dotnet.RepoRoot, null, "tool", "run", "csharp-ls", "--", "--solution", solution), settings);

        var rootUri = new Uri(dir + Path.DirectorySeparatorChar).AbsoluteUri.TrimEnd('/');
        lsp.Request("initialize", new JsonObject
        {
            ["processId"] = Environment.ProcessId,
            ["rootUri"] = rootUri,
            ["workspaceFolders"] = new JsonArray(new JsonObject { ["uri"] = rootUri, ["name"] = "KernelPort" }),
            ["capabilities"] = new JsonObject
            {
                ["workspace"] = new JsonObject { ["configuration"] = true, ["workspaceFolders"] = true },
                ["textDocument"] = new JsonObject
                {
                    ["synchronization"] = new JsonObject { ["didSave"] = true },
                    ["publishDiagnostics"] = new JsonObject { ["relatedInformation"] = true },
                },
            },
        }, Wait);
        lsp.Notify("initialized", new JsonObject());
        lsp.Notify("workspace/didChangeConfiguration", new JsonObject { ["settings"] = settings.DeepClone() });

        var path = Path.Combine(dir, "Upcall.cs");
        var uri = new Uri(path).AbsoluteUri;
        var text = File.ReadAllText(path);
        lsp.Notify("textDocument/didOpen", new JsonObject
        {
            ["textDocument"] = new JsonObject { ["uri"] = uri, ["languageId"] = "csharp", ["version"] = 1, ["text"] = text },
        });

        // Upcall.cs(12,9): the invocation irqentry_exit_cond_resched() — zero-based line 11, characters 8 to 36.
        Assert.True(lsp.Pump(() => Xpa0002(lsp, uri) is not null, Wait), "no XPA0002 after didOpen\n" + lsp.Transcript);
        var range = Xpa0002(lsp, uri)!["range"]!;
        Assert.Equal(11, (int)range["start"]!["line"]!);
        Assert.Equal(8, (int)range["start"]!["character"]!);
        Assert.Equal(11, (int)range["end"]!["line"]!);
        Assert.True(8 + "irqentry_exit_cond_resched()".Length == (int)range["end"]!["character"]!, range.ToJsonString()); // the invocation

        // Upcall.cs(21,13): msleep(1) with IRQs off — XPA0006 at zero-based line 20, character 12.
        var xpa0006 = lsp.Diagnostics[uri].FirstOrDefault(d => (string?)d!["code"] == "XPA0006");
        Assert.True(xpa0006 is not null, lsp.Diagnostics[uri].ToJsonString());
        Assert.Equal(20, (int)xpa0006!["range"]!["start"]!["line"]!);
        Assert.Equal(12, (int)xpa0006["range"]!["start"]!["character"]!);

        var fixedText = text.Replace("        irqentry_exit_cond_resched();", "        raw_irqentry_exit_cond_resched();", StringComparison.Ordinal);
        Assert.NotEqual(text, fixedText);
        Change(lsp, uri, 2, fixedText);
        Assert.True(lsp.Pump(() => lsp.Diagnostics.TryGetValue(uri, out var d) && Xpa0002(lsp, uri) is null && d.Count > 0, Wait),
            "XPA0002 still published after the fix\n" + lsp.Transcript);

        Change(lsp, uri, 3, text);
        Assert.True(lsp.Pump(() => Xpa0002(lsp, uri) is not null, Wait), "XPA0002 not published again after undoing the fix\n" + lsp.Transcript);
    }

    private static void Change(LspClient lsp, string uri, int version, string text) =>
        lsp.Notify("textDocument/didChange", new JsonObject
        {
            ["textDocument"] = new JsonObject { ["uri"] = uri, ["version"] = version },
            ["contentChanges"] = new JsonArray(new JsonObject { ["text"] = text }),
        });

    private static JsonNode? Xpa0002(LspClient lsp, string uri) =>
        lsp.Diagnostics.TryGetValue(uri, out var diagnostics)
            ? diagnostics.FirstOrDefault(d => (string?)d!["code"] == "XPA0002")
            : null;
}
