using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace XenPreemptAnalyzers.Performance;

/// <summary>The kinds of code the performance guards and benchmarks run the analyzers on.</summary>
public enum CodeKind
{
    /// <summary>The dense files' exact shapes with every recognised name renamed to an ordinary one.</summary>
    Ordinary,

    /// <summary>Kernel-style drivers: per-CPU accesses, preemption and IRQ toggles, hypercall regions, helpers, loops.</summary>
    Dense,

    /// <summary>One method of 2,000 branches and loops (plus the API file).</summary>
    ManyBranches,

    /// <summary>One method nested 100 deep in if/for/while/try (plus the API file).</summary>
    DeepNesting,

    /// <summary>
    /// <see cref="Ordinary"/> code plus one small file whose one body calls a method named <c>schedule</c>: one
    /// kernel name in an otherwise ordinary project (issue 17's Go runtime translated to C#).
    /// </summary>
    OneSchedule,
}

/// <summary>One generated source file: a relative path and its text.</summary>
public sealed record GeneratedSource(string Path, string Text);

/// <summary>
/// Generates C# code of a given size for the performance guards (tests/XenPreemptAnalyzers.Tests/Performance)
/// and the benchmarks (tests/XenPreemptAnalyzers.Benchmarks links this file). Output is deterministic: the
/// same kind and size always give the same text. Ordinary code is the dense code with every recognised name
/// renamed, so the two differ only in what the analyzers can recognise, not in size or shape.
/// </summary>
public static class KernelCodeGenerator
{
    public const int ManyBranchesCount = 2000;
    public const int DeepNestingDepth = 100;

    /// <summary>Recognised name → ordinary name: kernel API, per-CPU type, contract attributes (and the namespaces).</summary>
    public static readonly IReadOnlyDictionary<string, string> OrdinaryNames = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["preempt_disable"] = "enter_scope",
        ["preempt_enable"] = "leave_scope",
        ["local_irq_save"] = "save_flags",
        ["local_irq_restore"] = "restore_flags",
        ["__this_cpu_add"] = "add_slot",
        ["__this_cpu_inc"] = "inc_slot",
        ["__this_cpu_dec"] = "dec_slot",
        ["__this_cpu_read"] = "read_slot",
        ["this_cpu_inc"] = "count_event",
        ["this_cpu_read"] = "peek_slot",
        ["smp_processor_id"] = "current_slot",
        ["xen_preemptible_hcall_begin"] = "begin_batch",
        ["xen_preemptible_hcall_end"] = "end_batch",
        ["privcmd_call"] = "submit_request",
        ["HYPERVISOR_sched_op"] = "submit_op",
        ["might_sleep"] = "check_state",
        ["cond_resched"] = "yield_now",
        ["PerCpu"] = "Slot",
        ["ProcessContext"] = "Documented",
        ["ProcessContextAttribute"] = "DocumentedAttribute",
        ["PerTask"] = "Tracked",
        ["PerTaskAttribute"] = "TrackedAttribute",
        // Separate namespaces, so ordinary and dense code can share one compilation.
        ["Kernel"] = "Runtime",
        ["Drivers"] = "Services",
    };

    private static readonly Regex RecognisedName = new(
        @"\b(" + string.Join("|", OrdinaryNames.Keys.OrderByDescending(k => k.Length).Select(Regex.Escape)) + @")\b",
        RegexOptions.CultureInvariant);

    /// <summary>The API file and <paramref name="files"/> driver files (ignored for the one-method kinds).</summary>
    public static IReadOnlyList<GeneratedSource> Generate(CodeKind kind, int files)
    {
        if (files < 1)
            throw new ArgumentOutOfRangeException(nameof(files), files, "at least one file");
        var sources = new List<GeneratedSource> { new("Kernel/Api.cs", ApiSource) };
        switch (kind)
        {
            case CodeKind.Dense:
            case CodeKind.Ordinary:
            case CodeKind.OneSchedule:
                for (var i = 0; i < files; i++)
                    sources.Add(new GeneratedSource($"Drivers/Driver{i:D4}.cs", DriverFile(i)));
                break;
            case CodeKind.ManyBranches:
                sources.Add(new GeneratedSource("Drivers/ManyBranches.cs", ManyBranchesFile(ManyBranchesCount)));
                break;
            case CodeKind.DeepNesting:
                sources.Add(new GeneratedSource("Drivers/DeepNesting.cs", DeepNestingFile(DeepNestingDepth)));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
        if (kind is CodeKind.Dense or CodeKind.ManyBranches or CodeKind.DeepNesting)
            return sources;
        var ordinary = sources.Select(s => new GeneratedSource(Ordinary(s.Path), Ordinary(s.Text))).ToList();
        if (kind == CodeKind.OneSchedule)
            ordinary.Add(new GeneratedSource("Runtime/Proc.cs", OneScheduleSource));
        return ordinary;
    }

    /// <summary>The one file of <see cref="CodeKind.OneSchedule"/> that names something recognised.</summary>
    public const string OneScheduleSource = """
        public static class Proc
        {
            private static int ticks;
            public static void schedule() { ticks++; }
            public static void park() { ticks--; schedule(); }
        }
        """;

    /// <summary>The same text with every recognised name replaced by its ordinary counterpart.</summary>
    public static string Ordinary(string kernelText) => RecognisedName.Replace(kernelText, m => OrdinaryNames[m.Value]);

    /// <summary>
    /// The kernel-style API the drivers call: declared in source, as a port declares it. The region's state is
    /// per task (as upstream since 2023), and the stubs' bodies call nothing recognised.
    /// </summary>
    public const string ApiSource = """
        using System;
        using System.Runtime.Versioning;

        namespace Kernel
        {
            [AttributeUsage(AttributeTargets.Method)] public sealed class ProcessContextAttribute : Attribute { }
            [AttributeUsage(AttributeTargets.Field)] public sealed class PerTaskAttribute : Attribute { }

            public sealed class PerCpu<T> { public T Value; }

            public struct HypercallArgs { public long op, a0, a1, a2, a3, a4; }

            /// <summary>A scratch buffer: disposable, as ports' buffers are.</summary>
            public sealed class PageBuffer : IDisposable
            {
                private byte[] _bytes;
                public PageBuffer(int size) { _bytes = new byte[size]; }
                public int Length => _bytes.Length;
                public byte this[int index] { get => _bytes[index]; set => _bytes[index] = value; }
                public void Dispose() { _bytes = Array.Empty<byte>(); }
            }

            public static class Api
            {
                public static readonly PerCpu<long> stat_events = new PerCpu<long>();
                public static readonly PerCpu<long> stat_bytes = new PerCpu<long>();
                public static readonly PerCpu<int> lock_depth = new PerCpu<int>();
                [PerTask] public static bool in_hcall;

                public static void preempt_disable() { }
                public static void preempt_enable() { }
                public static ulong local_irq_save() => 0;
                public static void local_irq_restore(ulong flags) { }
                public static void might_sleep() { }
                public static void cond_resched() { }
                public static T __this_cpu_read<T>(PerCpu<T> v) => v.Value;
                public static void __this_cpu_add(PerCpu<long> v, long x) { v.Value += x; }
                public static void __this_cpu_inc(PerCpu<int> v) { v.Value++; }
                public static void __this_cpu_dec(PerCpu<int> v) { v.Value--; }
                public static void this_cpu_inc(PerCpu<long> v) { v.Value++; }
                public static T this_cpu_read<T>(PerCpu<T> v) => v.Value;
                public static int smp_processor_id() => 0;
                public static void xen_preemptible_hcall_begin() { in_hcall = true; }
                public static void xen_preemptible_hcall_end() { in_hcall = false; }
                public static long privcmd_call(long op, long a0, long a1, long a2, long a3, long a4) => op + a0 + a1 + a2 + a3 + a4;
                public static long HYPERVISOR_sched_op(int cmd, long arg) => cmd + arg;

                [SupportedOSPlatform("linux")]
                public static int read_sysfs(PageBuffer buffer) => buffer.Length;
            }
        }

        """;

    /// <summary>
    /// One driver file: eight methods covering what the engine handles (loops, switch, try/finally, using,
    /// helpers seen through as summaries, a local function) and one ordinary method with no candidate call.
    /// Written to be correct under every preemption model, as a port's fixed code is.
    /// </summary>
    private static string DriverFile(int i)
    {
        var text = """
            using System;
            using Kernel;
            using static Kernel.Api;

            namespace Drivers
            {
                public static class Driver@I
                {
                    [ProcessContext]
                    public static long account_@I(long[] values, int limit)
                    {
                        long total = 0;
                        preempt_disable();
                        for (int k = 0; k < values.Length && k < limit; k++)
                        {
                            if (values[k] > @MOD7)
                                __this_cpu_add(stat_bytes, values[k]);
                            else
                                total += values[k];
                        }
                        total += smp_processor_id();
                        preempt_enable();
                        return total;
                    }

                    [ProcessContext]
                    public static int drain_@I(int budget, int urgent)
                    {
                        int done = 0;
                        ulong flags = local_irq_save();
                        while (budget-- > 0)
                        {
                            if (urgent > @MOD3 && budget % 2 == 0)
                            {
                                this_cpu_inc(stat_events);
                                continue;
                            }
                            if (budget == @MOD5)
                                break;
                            done++;
                        }
                        local_irq_restore(flags);
                        return done;
                    }

                    [ProcessContext]
                    public static long batch_@I(HypercallArgs[] calls)
                    {
                        long rc = 0;
                        xen_preemptible_hcall_begin();
                        try
                        {
                            foreach (var call in calls)
                            {
                                rc = privcmd_call(call.op, call.a0, call.a1, call.a2, call.a3, call.a4);
                                if (rc < 0)
                                    break;
                            }
                        }
                        finally
                        {
                            xen_preemptible_hcall_end();
                        }
                        return rc;
                    }

                    private static void stats_lock_@I()
                    {
                        preempt_disable();
                        __this_cpu_inc(lock_depth);
                    }

                    private static void stats_unlock_@I()
                    {
                        __this_cpu_dec(lock_depth);
                        preempt_enable();
                    }

                    [ProcessContext]
                    public static int find_@I(int[] items, int key)
                    {
                        stats_lock_@I();
                        int found = -1;
                        for (int k = 0; k < items.Length; k++)
                        {
                            if (items[k] == key + @I)
                            {
                                found = k;
                                break;
                            }
                        }
                        stats_unlock_@I();
                        return found;
                    }

                    [ProcessContext]
                    public static long scrub_@I(int pages)
                    {
                        long sum = 0;
                        might_sleep();
                        for (int p = 0; p < pages; p++)
                        {
                            switch (p % 4)
                            {
                                case 0:
                                    sum += p;
                                    break;
                                case 1:
                                    sum -= HYPERVISOR_sched_op(p, sum);
                                    break;
                                default:
                                    sum ^= p;
                                    break;
                            }
                            if (p % 64 == 0)
                                cond_resched();
                        }
                        return sum;
                    }

                    [ProcessContext]
                    public static int probe_@I(string name)
                    {
                        using var buffer = new PageBuffer(64 + @MOD16);
                        if (string.IsNullOrEmpty(name))
                            return -1;
                        for (int k = 0; k < name.Length && k < buffer.Length; k++)
                            buffer[k] = (byte)name[k];
                        if (OperatingSystem.IsLinux())
                            return read_sysfs(buffer);
                        return 0;
                    }

                    [ProcessContext]
                    public static long sum_cpus_@I(int[] cpus)
                    {
                        long sum = 0;
                        foreach (var cpu in cpus)
                            sum += read(cpu);
                        return sum;

                        static long read(int cpu)
                        {
                            preempt_disable();
                            long value = this_cpu_read(stat_events) + cpu;
                            preempt_enable();
                            return value;
                        }
                    }

                    public static string describe_@I(int code) => code switch
                    {
                        0 => "ok",
                        < 0 => "error " + code.ToString(),
                        _ => "pending " + (code + @I).ToString(),
                    };
                }
            }

            """;
        return text
            .Replace("@MOD16", Number(i % 16))
            .Replace("@MOD7", Number(i % 7 + 1))
            .Replace("@MOD5", Number(i % 5))
            .Replace("@MOD3", Number(i % 3))
            .Replace("@I", Number(i));
    }

    /// <summary>One method of <paramref name="count"/> branches and loops in sequence, four shapes in turn.</summary>
    private static string ManyBranchesFile(int count)
    {
        var body = new StringBuilder();
        for (var k = 0; k < count; k++)
        {
            var n = Number(k);
            body.Append("            ").AppendLine((k % 4) switch
            {
                0 => $"if (a[{Number(k % 16)}] > {n}) s += this_cpu_read(stat_events);",
                1 => $"for (int i{n} = 0; i{n} < a[{Number(k % 16)}]; i{n}++) s += i{n};",
                2 => $"if (s > {n}) {{ preempt_disable(); s += smp_processor_id(); preempt_enable(); }} else s--;",
                _ => $"while (s > {n} * 3) {{ s /= 2; if (s % 7 == 0) cond_resched(); }}",
            });
        }
        return Method("ManyBranches", "many_branches", body.ToString());
    }

    /// <summary>One method nested <paramref name="depth"/> deep, each level a toggled per-CPU read then a nested if, for, while or try.</summary>
    private static string DeepNestingFile(int depth)
    {
        var body = new StringBuilder();
        for (var d = 0; d < depth; d++)
        {
            var n = Number(d);
            var indent = new string(' ', 12 + (2 * d));
            body.Append(indent).AppendLine("preempt_disable(); s += smp_processor_id(); preempt_enable();");
            body.Append(indent).AppendLine((d % 4) switch
            {
                0 => $"if (a[{Number(d % 16)}] > {n}) {{",
                1 => $"for (int i{n} = 0; i{n} < a[{Number(d % 16)}]; i{n}++) {{",
                2 => $"while (s > {n}) {{ s /= 3;",
                _ => "try {",
            });
        }
        body.Append(new string(' ', 12 + (2 * depth))).AppendLine("s += this_cpu_read(stat_events); cond_resched();");
        for (var d = depth - 1; d >= 0; d--)
            body.Append(new string(' ', 12 + (2 * d))).AppendLine(d % 4 == 3 ? "} finally { s++; }" : "}");
        return Method("DeepNesting", "deep_nesting", body.ToString());
    }

    private static string Method(string type, string name, string body) => $$"""
        using System;
        using Kernel;
        using static Kernel.Api;

        namespace Drivers
        {
            public static class {{type}}
            {
                [ProcessContext]
                public static long {{name}}(int[] a)
                {
                    long s = 0;
        {{body}}            return s;
                }
            }
        }

        """;

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
