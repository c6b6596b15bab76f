using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using Xunit;
using XenPreemptAnalyzers.CodeFixes;
using XenPreemptAnalyzers.Tests.Infrastructure;
using static XenPreemptAnalyzers.Tests.Infrastructure.Verify;

namespace XenPreemptAnalyzers.Tests.CodeFixes;

/// <summary>
/// XPA0001 (a): the preemptible-hypercall state moves from a per-CPU variable to the task, in every file
/// of the solution that accesses it (a multi-document solution: privcmd, the region helpers, the upcall).
/// </summary>
public sealed class HypercallStateMoveTests
{
    private const string ThreadFlag = Xpa0001CodeFixProvider.MoveToThreadFlagPrefix + "Thread.TIF_XEN_PREEMPTIBLE_HCALL";

    /// <summary>The port's thread-flag API; the constant is deliberately not [PerTask]: set_thread_flag is per-task by name.</summary>
    private const string ThreadApi = """
        public static class Thread
        {
            public const int TIF_NEED_RESCHED = 3;
            public const int TIF_XEN_PREEMPTIBLE_HCALL = 16;
            static ulong flags;
            public static void set_thread_flag(int f) => flags |= 1UL << f;
            public static void clear_thread_flag(int f) => flags &= ~(1UL << f);
            public static bool test_thread_flag(int f) => (flags & (1UL << f)) != 0;
        }
        """;

    private const string Privcmd = """
        static class Privcmd
        {
            [ProcessContext]
            static long hcall(Req r)
            {
                {|#0:Xen.xen_preemptible_hcall_begin()|};
                long ret = privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4);
                Xen.xen_preemptible_hcall_end();
                return ret;
            }
        }
        """;

    private const string Xen = """
        static class Xen
        {
            // the flag of fdfd811ddde3
            internal static readonly PerCpu<bool> xen_in_preemptible_hcall = new PerCpu<bool>();

            [PreemptibleHypercallBegin]
            public static void xen_preemptible_hcall_begin() => __this_cpu_write(xen_in_preemptible_hcall, true);

            [PreemptibleHypercallEnd]
            public static void xen_preemptible_hcall_end() => __this_cpu_write(xen_in_preemptible_hcall, false);

            public static bool get_and_clear_inhcall()
            {
                bool inhcall = __this_cpu_read(xen_in_preemptible_hcall);
                __this_cpu_write(xen_in_preemptible_hcall, false); // hand it to the reschedule
                return inhcall;
            }

            public static void restore_inhcall(bool inhcall) => __this_cpu_write(xen_in_preemptible_hcall, inhcall);
        }
        """;

    private const string Upcall = """
        static class Upcall
        {
            [IrqContext]
            static void upcall(PtRegs regs)
            {
                var state = irqentry_enter(regs);
                bool inhcall = Xen.get_and_clear_inhcall();
                if (inhcall && !state.exit_rcu)
                {
                    raw_irqentry_exit_cond_resched();
                    Xen.restore_inhcall(inhcall);
                }
                else
                {
                    irqentry_exit(regs, state);
                }
            }

            static bool hcall_state() => raw_cpu_read(Xen.xen_in_preemptible_hcall);
        }
        """;

    private static FixTest<Xpa0001CodeFixProvider> Solution(string privcmd, string privcmdFixed, params (string Name, string Source, string Fixed)[] files)
    {
        var test = new FixTest<Xpa0001CodeFixProvider>(privcmd, privcmdFixed).WithModel("full");
        // The region helpers' own __this_cpu_write is also XPA0004 at their calls (docs/rules/XPA0004.md); not these tests' subject.
        test.DisabledDiagnostics.Add(DiagnosticIds.CheckedPerCpuAccessInPreemptibleCode);
        foreach (var (name, source, fixedSource) in files)
        {
            test.TestState.Sources.Add(($"/0/{name}.cs", KernelStubs.Usings + source));
            test.FixedState.Sources.Add(($"/0/{name}.cs", KernelStubs.Usings + fixedSource));
        }
        return test;
    }

    [Fact]
    public Task Thread_flag_rewrites_every_access_in_every_file_and_drops_the_per_cpu_variable() =>
        Solution(Privcmd, Privcmd.Replace("{|#0:Xen.xen_preemptible_hcall_begin()|}", "Xen.xen_preemptible_hcall_begin()"),
            ("Thread", ThreadApi, ThreadApi),
            ("Xen", Xen, """
                using static Thread;
                static class Xen
                {

                    [PreemptibleHypercallBegin]
                    public static void xen_preemptible_hcall_begin() => set_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);

                    [PreemptibleHypercallEnd]
                    public static void xen_preemptible_hcall_end() => clear_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);

                    public static bool get_and_clear_inhcall()
                    {
                        bool inhcall = test_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);
                        clear_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL); // hand it to the reschedule
                        return inhcall;
                    }

                    public static void restore_inhcall(bool inhcall)
                    {
                        if (inhcall) set_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL); else clear_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL);
                    }
                }
                """),
            ("Upcall", Upcall, Upcall.Replace("raw_cpu_read(Xen.xen_in_preemptible_hcall)", "test_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL)").Replace("static class Upcall", "using static Thread;\nstatic class Upcall")))
        .Action(ThreadFlag, 0).Expect(Diagnostic("XPA0001")).RunAsync();

    [Fact]
    public Task Static_per_task_member_takes_every_write_and_read() =>
        Solution(Privcmd, Privcmd.Replace("{|#0:Xen.xen_preemptible_hcall_begin()|}", "Xen.xen_preemptible_hcall_begin()"),
            ("Tasks", PerTaskStatic, PerTaskStatic),
            ("Xen", Xen, """
                using static Tasks;
                static class Xen
                {

                    [PreemptibleHypercallBegin]
                    public static void xen_preemptible_hcall_begin() => in_hcall = true;

                    [PreemptibleHypercallEnd]
                    public static void xen_preemptible_hcall_end() => in_hcall = false;

                    public static bool get_and_clear_inhcall()
                    {
                        bool inhcall = in_hcall;
                        in_hcall = false; // hand it to the reschedule
                        return inhcall;
                    }

                    public static void restore_inhcall(bool inhcall) => in_hcall = inhcall;
                }
                """),
            ("Upcall", Upcall, Upcall.Replace("raw_cpu_read(Xen.xen_in_preemptible_hcall)", "in_hcall").Replace("static class Upcall", "using static Tasks;\nstatic class Upcall")))
        .Action(Xpa0001CodeFixProvider.MoveToPerTaskMemberPrefix + "Tasks.in_hcall", 0).Expect(Diagnostic("XPA0001")).RunAsync();

    private const string PerTaskStatic = """
        [System.AttributeUsage(System.AttributeTargets.All)] public sealed class PerTaskAttribute : System.Attribute { }
        public static class Tasks
        {
            [PerTask] public static bool in_hcall;
        }
        """;

    private const string CurrentTask = """
        [System.AttributeUsage(System.AttributeTargets.All)] public sealed class PerTaskAttribute : System.Attribute { }
        public sealed class task_struct
        {
            [PerTask] public bool in_hcall { get; set; }
        }
        """;

    private const string XenWithCurrent = """
        static class Xen
        {
            static task_struct current => new task_struct();
            internal static readonly PerCpu<bool> xen_in_preemptible_hcall = new PerCpu<bool>();
            [PreemptibleHypercallBegin] public static void xen_preemptible_hcall_begin() => this_cpu_write(xen_in_preemptible_hcall, true);
            [PreemptibleHypercallEnd] public static void xen_preemptible_hcall_end() { raw_cpu_write(xen_in_preemptible_hcall, !raw_cpu_read(xen_in_preemptible_hcall)); }
        }
        """;

    [Fact]
    public Task Instance_per_task_member_is_reached_through_current_and_nested_accesses_compose() =>
        Solution(Privcmd, Privcmd.Replace("{|#0:Xen.xen_preemptible_hcall_begin()|}", "Xen.xen_preemptible_hcall_begin()"),
            ("Task", CurrentTask, CurrentTask),
            ("Xen", XenWithCurrent, """
                static class Xen
                {
                    static task_struct current => new task_struct();
                    [PreemptibleHypercallBegin] public static void xen_preemptible_hcall_begin() => current.in_hcall = true;
                    [PreemptibleHypercallEnd] public static void xen_preemptible_hcall_end() { current.in_hcall = !current.in_hcall; }
                }
                """))
        .Action(Xpa0001CodeFixProvider.MoveToPerTaskMemberPrefix + "task_struct.in_hcall", 0).Expect(Diagnostic("XPA0001")).RunAsync();

    private const string TwoFlags = """
        public static class Thread
        {
            public const int TIF_XEN_HCALL = 15;
            public const int TIF_XEN_PREEMPTIBLE_HYPERCALL = 16;
            public static void set_thread_flag(int f) { }
            public static void clear_thread_flag(int f) { }
            public static bool test_thread_flag(int f) => false;
        }
        """;

    private const string XenSmall = """
        static class Xen
        {
            internal static readonly PerCpu<bool> xen_in_preemptible_hcall = new PerCpu<bool>();
            [PreemptibleHypercallBegin] public static void xen_preemptible_hcall_begin() => __this_cpu_write(xen_in_preemptible_hcall, true);
            [PreemptibleHypercallEnd] public static void xen_preemptible_hcall_end() => __this_cpu_write(xen_in_preemptible_hcall, false);
        }
        """;

    [Theory]
    [InlineData(0, "TIF_XEN_HCALL")]
    [InlineData(1, "TIF_XEN_PREEMPTIBLE_HYPERCALL")]
    public Task One_fix_per_hypercall_thread_flag_in_name_order(int index, string flag) =>
        Solution(Privcmd, Privcmd.Replace("{|#0:Xen.xen_preemptible_hcall_begin()|}", "Xen.xen_preemptible_hcall_begin()"),
            ("Thread", TwoFlags, TwoFlags),
            ("Xen", XenSmall, "using static Thread;\n" + XenSmall
                .Replace("    internal static readonly PerCpu<bool> xen_in_preemptible_hcall = new PerCpu<bool>();\n", "")
                .Replace("__this_cpu_write(xen_in_preemptible_hcall, true)", $"set_thread_flag({flag})")
                .Replace("__this_cpu_write(xen_in_preemptible_hcall, false)", $"clear_thread_flag({flag})")))
        .Action(Xpa0001CodeFixProvider.MoveToThreadFlagPrefix + "Thread." + flag, index).Expect(Diagnostic("XPA0001")).RunAsync();

    private const string TwoCallSites = """
        static class Privcmd
        {
            [ProcessContext]
            static long hcall(Req r)
            {
                {|#0:Xen.xen_preemptible_hcall_begin()|};
                long ret = privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4);
                Xen.xen_preemptible_hcall_end();
                return ret;
            }

            [ProcessContext]
            static long hcall_other(Req r)
            {
                {|#1:Xen.xen_preemptible_hcall_begin()|};
                long ret = privcmd_call(r.op, r.a0, r.a1, r.a2, r.a3, r.a4);
                Xen.xen_preemptible_hcall_end();
                return ret;
            }
        }
        """;

    [Fact]
    public Task Fix_all_moves_each_variable_once_across_call_sites() =>
        Solution(TwoCallSites, TwoCallSites.Replace("{|#0:", "").Replace("{|#1:", "").Replace("()|}", "()"),
            ("Thread", ThreadApi, ThreadApi),
            ("Xen", XenSmall, "using static Thread;\n" + XenSmall
                .Replace("    internal static readonly PerCpu<bool> xen_in_preemptible_hcall = new PerCpu<bool>();\n", "")
                .Replace("__this_cpu_write(xen_in_preemptible_hcall, true)", "set_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL)")
                .Replace("__this_cpu_write(xen_in_preemptible_hcall, false)", "clear_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL)")))
        .Action(ThreadFlag, 0).Expect(Diagnostic("XPA0001", 0), Diagnostic("XPA0001", 1)).RunAsync();

    [Fact]
    public Task No_fix_without_a_hypercall_thread_flag_or_per_task_member() =>
        Solution(Privcmd, Privcmd,
            ("Thread", ThreadApi.Replace("TIF_XEN_PREEMPTIBLE_HCALL", "TIF_SINGLESTEP"), ThreadApi.Replace("TIF_XEN_PREEMPTIBLE_HCALL", "TIF_SINGLESTEP")),
            ("Xen", XenSmall, XenSmall))
        .Expect(Diagnostic("XPA0001")).RunAsync();

    [Fact]
    public Task No_fix_without_the_thread_flag_functions() =>
        Solution(Privcmd, Privcmd,
            ("Thread", "public static class Thread { public const int TIF_XEN_PREEMPTIBLE_HCALL = 16; }", "public static class Thread { public const int TIF_XEN_PREEMPTIBLE_HCALL = 16; }"),
            ("Xen", XenSmall, XenSmall))
        .Expect(Diagnostic("XPA0001")).RunAsync();

    /// <summary>
    /// The move is offered without being computed (the light bulb must not wait on finding every reference); when it
    /// is picked and one access cannot be rewritten (another CPU's slot), it changes nothing rather than half the code.
    /// </summary>
    [Fact]
    public async Task A_move_that_meets_another_cpus_slot_is_offered_and_changes_nothing_when_picked()
    {
        using var workspace = new Microsoft.CodeAnalysis.AdhocWorkspace();
        var project = workspace.AddProject("Port", Microsoft.CodeAnalysis.LanguageNames.CSharp)
            .WithMetadataReferences(InstalledReferences.Net.Value)
            .WithCompilationOptions(new Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions(Microsoft.CodeAnalysis.OutputKind.DynamicallyLinkedLibrary));
        foreach (var (name, text) in new[]
        {
            ("KernelStubs", KernelStubs.Source), ("Thread", ThreadApi), ("Xen", KernelStubs.Usings + XenSmall),
            ("Privcmd", KernelStubs.Usings + Privcmd.Replace("{|#0:", "").Replace("|}", "")),
            ("Dump", KernelStubs.Usings + "static class Dump { static bool of(int cpu) => per_cpu(Xen.xen_in_preemptible_hcall, cpu); }"),
        })
            project = project.AddDocument(name + ".cs", text, filePath: "/0/" + name + ".cs").Project;
        var compilation = (await project.GetCompilationAsync())!;
        var diagnostic = Assert.Single((await compilation.WithAnalyzers([new PreemptContextAnalyzer()]).GetAnalyzerDiagnosticsAsync()), d => d.Id == "XPA0001");
        var document = project.GetDocument(diagnostic.Location.SourceTree)!;

        var actions = new System.Collections.Generic.List<Microsoft.CodeAnalysis.CodeActions.CodeAction>();
        await new Xpa0001CodeFixProvider().RegisterCodeFixesAsync(new Microsoft.CodeAnalysis.CodeFixes.CodeFixContext(
            document, diagnostic, (action, _) => actions.Add(action), System.Threading.CancellationToken.None));
        var move = Assert.Single(actions);
        Assert.Equal(ThreadFlag, move.EquivalenceKey);

        var operations = await move.GetOperationsAsync(System.Threading.CancellationToken.None);
        var changed = Assert.IsType<Microsoft.CodeAnalysis.CodeActions.ApplyChangesOperation>(Assert.Single(operations)).ChangedSolution;
        Assert.Empty(changed.GetChanges(project.Solution).GetProjectChanges());
    }

    [Fact]
    public Task Other_references_are_left_and_keep_the_declaration() =>
        Solution(Privcmd, Privcmd.Replace("{|#0:Xen.xen_preemptible_hcall_begin()|}", "Xen.xen_preemptible_hcall_begin()"),
            ("Thread", ThreadApi, ThreadApi),
            ("Xen", XenSmall, "using static Thread;\n" + XenSmall
                .Replace("__this_cpu_write(xen_in_preemptible_hcall, true)", "set_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL)")
                .Replace("__this_cpu_write(xen_in_preemptible_hcall, false)", "clear_thread_flag(TIF_XEN_PREEMPTIBLE_HCALL)")),
            ("Dump", "static class Dump { static object of() => Xen.xen_in_preemptible_hcall; }", "static class Dump { static object of() => Xen.xen_in_preemptible_hcall; }"))
        .Action(ThreadFlag, 0).Expect(Diagnostic("XPA0001")).RunAsync();
}
