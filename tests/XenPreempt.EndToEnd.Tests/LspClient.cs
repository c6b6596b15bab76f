using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading;

namespace XenPreempt.EndToEnd.Tests;

/// <summary>
/// A minimal Language Server Protocol client over stdio (Content-Length framing, JSON-RPC 2.0): enough to open a
/// document, change it, and watch textDocument/publishDiagnostics. Answers workspace/configuration from
/// <see cref="settings"/>; every other server request gets a null result.
/// </summary>
internal sealed class LspClient : IDisposable
{
    private readonly Process process;
    private readonly JsonObject settings;
    private readonly BlockingCollection<JsonObject> inbox = new();
    private readonly Dictionary<int, JsonObject> responses = new();
    private readonly StringBuilder stderr = new();
    private readonly List<string> log = new();
    private int nextId;

    /// <summary>The latest diagnostics published per document URI.</summary>
    public Dictionary<string, JsonArray> Diagnostics { get; } = new();

    public LspClient(ProcessStartInfo start, JsonObject settings)
    {
        this.settings = settings;
        start.RedirectStandardInput = start.RedirectStandardOutput = start.RedirectStandardError = true;
        start.UseShellExecute = false;
        process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        new Thread(ReadLoop) { IsBackground = true }.Start();
    }

    public string Transcript
    {
        get
        {
            lock (stderr)
                return string.Join("\n", log.Count > 40 ? log.GetRange(log.Count - 40, 40) : log) + "\n--- stderr ---\n" + stderr;
        }
    }

    public JsonNode? Request(string method, JsonNode? parameters, TimeSpan timeout)
    {
        var id = ++nextId;
        Send(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = parameters });
        if (!Pump(() => responses.ContainsKey(id), timeout))
            throw new TimeoutException($"no response to {method}\n{Transcript}");
        var response = responses[id];
        responses.Remove(id);
        if (response["error"] is { } error)
            throw new InvalidOperationException($"{method} failed: {error.ToJsonString()}");
        return response["result"];
    }

    public void Notify(string method, JsonNode? parameters) =>
        Send(new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method, ["params"] = parameters });

    /// <summary>Handles incoming messages until <paramref name="done"/> holds or the time is up.</summary>
    public bool Pump(Func<bool> done, TimeSpan timeout)
    {
        var end = DateTime.UtcNow + timeout;
        while (!done())
        {
            var left = end - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                return false;
            if (!inbox.TryTake(out var message, left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200)))
            {
                if (inbox.IsCompleted)
                    return done();
                continue;
            }
            Handle(message);
        }
        return true;
    }

    private void Handle(JsonObject message)
    {
        var method = (string?)message["method"];
        if (method is not null && message["id"] is { } id)
        {
            JsonNode? result = null;
            if (method == "workspace/configuration")
            {
                var items = new JsonArray();
                foreach (var item in message["params"]!["items"]!.AsArray())
                {
                    var section = (string?)item!["section"] ?? "";
                    items.Add(settings[section]?.DeepClone());
                }
                result = items;
            }
            Send(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id.DeepClone(), ["result"] = result });
        }
        else if (method == "textDocument/publishDiagnostics")
        {
            var p = message["params"]!;
            Diagnostics[(string)p["uri"]!] = p["diagnostics"]!.AsArray();
        }
        else if (method is null && message["id"] is { } responseId)
        {
            responses[(int)responseId] = message;
        }
    }

    private void Send(JsonObject message)
    {
        var body = Encoding.UTF8.GetBytes(message.ToJsonString());
        lock (stderr)
            log.Add("-> " + Truncate(message.ToJsonString()));
        var stdin = process.StandardInput.BaseStream;
        var header = Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n");
        stdin.Write(header);
        stdin.Write(body);
        stdin.Flush();
    }

    private void ReadLoop()
    {
        var stdout = process.StandardOutput.BaseStream;
        try
        {
            while (true)
            {
                int length = -1;
                string? line;
                while (!string.IsNullOrEmpty(line = ReadHeaderLine(stdout)))
                {
                    if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                        length = int.Parse(line["Content-Length:".Length..].Trim());
                }
                if (line is null || length < 0)
                    break;
                var body = new byte[length];
                var read = 0;
                while (read < length)
                {
                    var n = stdout.Read(body, read, length - read);
                    if (n == 0)
                        throw new EndOfStreamException();
                    read += n;
                }
                var text = Encoding.UTF8.GetString(body);
                lock (stderr)
                    log.Add("<- " + Truncate(text));
                if (JsonNode.Parse(text) is JsonObject message)
                    inbox.Add(message);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or EndOfStreamException)
        {
        }
        finally
        {
            inbox.CompleteAdding();
        }
    }

    private static string? ReadHeaderLine(Stream stream)
    {
        var bytes = new List<byte>();
        while (true)
        {
            var b = stream.ReadByte();
            if (b < 0)
                return bytes.Count == 0 ? null : Encoding.ASCII.GetString(bytes.ToArray());
            if (b == '\n')
                return Encoding.ASCII.GetString(bytes.ToArray()).TrimEnd('\r');
            bytes.Add((byte)b);
        }
    }

    private static string Truncate(string s) => s.Length > 400 ? s[..400] + "…" : s;

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                Request("shutdown", null, TimeSpan.FromSeconds(10));
                Notify("exit", null);
                process.WaitForExit(10_000);
            }
        }
        catch (Exception e) when (e is TimeoutException or IOException or InvalidOperationException)
        {
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
            process.Dispose();
        }
    }
}
