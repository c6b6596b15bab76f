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
        int skip = lastRows > 0 && entries.Count > lastRows ? entries.Count - lastRows : 0;
        foreach (var e in entries.Skip(skip))
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
        if (skip > 0)
            w.WriteLine($"({skip} earlier events not shown; --verbose shows all)");
        w.WriteLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        w.WriteLine(string.Join("  ", widths.Select(n => new string('-', n))));
        foreach (var r in rows)
            w.WriteLine(string.Join("  ", r.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
    }

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";
}
