// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Text;

namespace XenPreempt.Harness.Exploration;

/// <summary>
/// A replay token: everything needed to re-run one schedule, on one line —
/// <c>xh1.&lt;variant&gt;.&lt;config&gt;.&lt;workload&gt;.&lt;choices&gt;.&lt;check&gt;</c>, where choices are
/// base64url varints and check is an FNV-1a of the rest (a corrupted token is refused, not run).
/// </summary>
public sealed record ReplayToken(string Variant, string Config, string Workload, IReadOnlyList<int> Choices)
{
    private const string Prefix = "xh1";

    public string Encode()
    {
        var bytes = new List<byte>();
        foreach (int c in Choices)
        {
            uint v = (uint)c;
            while (v >= 0x80) { bytes.Add((byte)(v | 0x80)); v >>= 7; }
            bytes.Add((byte)v);
        }
        string body = $"{Prefix}.{Variant}.{Config}.{Workload}.{Base64Url(bytes.ToArray())}";
        return $"{body}.{Check(body):x8}";
    }

    /// <summary>Decodes a token; a malformed or corrupted one gives a message saying what is wrong.</summary>
    public static bool TryDecode(string token, out ReplayToken? result, out string error)
    {
        result = null;
        var parts = token.Trim().Split('.');
        if (parts.Length != 6 || parts[0] != Prefix)
        {
            error = $"not a replay token (expected {Prefix}.<variant>.<config>.<workload>.<choices>.<check>)";
            return false;
        }
        string body = string.Join('.', parts, 0, 5);
        if (parts[5] != Check(body).ToString("x8"))
        {
            error = "the token is corrupted (its check does not match)";
            return false;
        }
        byte[] bytes;
        try { bytes = FromBase64Url(parts[4]); }
        catch (FormatException) { error = "the token's choice list is not base64url"; return false; }
        var choices = new List<int>();
        uint value = 0;
        int shift = 0;
        foreach (byte b in bytes)
        {
            value |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) { choices.Add((int)value); value = 0; shift = 0; }
            else if ((shift += 7) > 28) { error = "the token's choice list is malformed"; return false; }
        }
        result = new ReplayToken(parts[1], parts[2], parts[3], choices);
        error = "";
        return true;
    }

    private static uint Check(string s)
    {
        uint h = 2166136261;
        foreach (char c in s) { h ^= c; h *= 16777619; }
        return h;
    }

    private static string Base64Url(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string s)
    {
        var t = new StringBuilder(s.Replace('-', '+').Replace('_', '/'));
        while (t.Length % 4 != 0) t.Append('=');
        return Convert.FromBase64String(t.ToString());
    }
}
