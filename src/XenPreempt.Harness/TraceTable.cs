// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using XenPreempt.Machine;

namespace XenPreempt.Harness;

/// <summary>
/// Prints a run as a per-CPU trace table, one row per event, a column block per CPU (current task,
/// preemptible-hypercall state, preempt count, IRQs), in the manner of TigerBeetle's VOPR.
/// </summary>
public static class TraceTable
{
    public static void Write(TextWriter w, IReadOnlyList<TraceEntry> entries, IReadOnlyCollection<long> markSteps, int lastRows)
    {
        if (entries.Count == 0)
        {
            w.WriteLine("(no events)");
            return;
        }
        int cpus = entries[0].Cpus.Length;
        var header = new List<string> { "step", "time ms", "cpu", "task", "event" };
        for (int c = 0; c < cpus; c++)
            header.Add($"cpu{c} [cur hcall pc irq]");
        var rows = new List<string[]>();
        // Show the rows around the first violation if there is one, else the last rows.
        int skip = 0, take = entries.Count;
        if (lastRows > 0 && entries.Count > lastRows)
        {
            int first = markSteps.Count == 0 ? -1 : FindFirst(entries, markSteps.Min());
            skip = first < 0 ? entries.Count - lastRows : Math.Clamp(first - lastRows / 2, 0, entries.Count - lastRows);
            take = lastRows;
        }
        foreach (var e in entries.Skip(skip).Take(take))
        {
            var row = new List<string>
            {
                (markSteps.Contains(e.Step) ? "!! " : "") + e.Step.ToString(CultureInfo.InvariantCulture),
                (e.TimeNs / 1_000_000.0).ToString("F3", CultureInfo.InvariantCulture),
                e.Cpu < 0 ? "-" : e.Cpu.ToString(CultureInfo.InvariantCulture),
                e.Task,
                Clip($"{e.Kind}: {e.Detail}", 72),
            };
            foreach (var v in e.Cpus)
                row.Add($"{v.Current} {v.HcallState} {v.PreemptCount:x} {(v.IrqsDisabled ? "off" : "on")}");
            rows.Add(row.ToArray());
        }
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        if (take < entries.Count)
            w.WriteLine($"(events {skip + 1}-{skip + take} of {entries.Count}; --verbose shows all)");
        w.WriteLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        w.WriteLine(string.Join("  ", widths.Select(n => new string('-', n))));
        foreach (var r in rows)
            w.WriteLine(string.Join("  ", r.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
    }

    private static int FindFirst(IReadOnlyList<TraceEntry> entries, long step)
    {
        for (int i = 0; i < entries.Count; i++)
            if (entries[i].Step >= step)
                return i;
        return -1;
    }

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";
}
