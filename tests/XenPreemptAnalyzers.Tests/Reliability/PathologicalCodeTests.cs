// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Xunit;
using XenPreemptAnalyzers.Tests.Infrastructure;

namespace XenPreemptAnalyzers.Tests.Reliability;

/// <summary>
/// Code no one writes on purpose, and code that uses kernel names for something else: the analyzers must
/// neither throw nor warn falsely. Each source marks every diagnostic it must get with a <c>/*XPA000n*/</c>
/// comment on that line; the test asserts exactly that set — so a true bug deep inside still is found, and
/// nothing else is reported.
/// </summary>
public sealed class PathologicalCodeTests
{
    private const int Depth = 500;

    [Fact]
    public Task Five_hundred_nested_ifs_with_balanced_preemption_are_silent()
    {
        var body = new StringBuilder();
        for (var i = 0; i < Depth; i++)
            body.Append($"if (n > {i}) {{ preempt_disable();\n");
        body.Append("__this_cpu_inc(counter);\n");
        for (var i = 0; i < Depth; i++)
            body.Append("preempt_enable(); }\n");
        return AssertExactly($"class C {{ [ProcessContext] static void f(int n) {{\n{body}}} }}");
    }

    [Fact]
    public Task Five_hundred_nested_blocks_still_find_the_unprotected_access_at_the_bottom()
    {
        var source = $"class C {{ [ProcessContext] static void f() {{\n{Repeat("{\n", Depth)}__this_cpu_inc(counter); /*XPA0004*/\n{Repeat("}\n", Depth)}}} }}";
        return AssertExactly(source);
    }

    [Fact]
    public Task Five_hundred_nested_lambdas_and_local_functions_do_not_overflow()
    {
        var lambdas = new StringBuilder("System.Action a0 = () => { preempt_disable(); __this_cpu_inc(counter); preempt_enable(); };\n");
        for (var i = 1; i < Depth; i++)
            lambdas.Insert(0, $"System.Action a{i} = () => {{\n").Append("};\n");
        var locals = new StringBuilder("void l0() { preempt_disable(); __this_cpu_inc(counter); preempt_enable(); }\n");
        for (var i = 1; i < Depth; i++)
            locals.Insert(0, $"void l{i}() {{\n").Append("}\n");
        return AssertExactly($"class C {{ [ProcessContext] static void f() {{\n{lambdas}{locals}}} }}");
    }

    [Fact]
    public Task A_call_nested_five_hundred_deep_in_arguments_does_not_overflow()
    {
        var call = new StringBuilder("__this_cpu_read(counter)");
        for (var i = 0; i < Depth; i++)
            call.Insert(0, "id(").Append(')');
        return AssertExactly($"class C {{ static int id(int x) => x; [ProcessContext] static int f() {{ preempt_disable(); var v = {call}; preempt_enable(); return v; }} }}");
    }

    [Fact]
    public Task Ten_thousand_statements_are_analysed_to_the_one_bug_at_the_end()
    {
        var body = new StringBuilder();
        for (var i = 0; i < 10_000 / 4; i++)
            body.Append("preempt_disable(); __this_cpu_inc(counter); preempt_enable(); n++;\n");
        body.Append("__this_cpu_inc(counter); /*XPA0004*/\n");
        return AssertExactly($"class C {{ [ProcessContext] static void f(int n) {{\n{body}}} }}");
    }

    [Fact]
    public Task Recursion_and_mutual_recursion_through_helpers_terminate_silently() =>
        AssertExactly("""
            class C
            {
                [ProcessContext] static void recurse(int n) { preempt_disable(); if (n > 0) recurse(n - 1); __this_cpu_inc(counter); preempt_enable(); }
                [ProcessContext] static void ping(int n) { if (n > 0) pong(n - 1); this_cpu_inc(counter); }
                [ProcessContext] static void pong(int n) { if (n > 0) ping(n - 1); this_cpu_inc(counter); }
                // Straight-line helpers that call each other: one level of see-through, never a loop.
                static void disable_then_b() { preempt_disable(); enable_then_a(); }
                static void enable_then_a() { preempt_enable(); disable_then_b(); }
                static void self() { self(); }
                [ProcessContext] static void user() { self(); disable_then_b(); enable_then_a(); this_cpu_inc(counter); }
                [ProcessContext] static int fib(int n) => n < 2 ? n : fib(n - 1) + fib(n - 2);
            }
            """);

    [Fact]
    public Task Goto_spaghetti_balanced_on_every_path_is_silent_and_the_one_unbalanced_exit_is_found() =>
        AssertExactly("""
            class C
            {
                [ProcessContext] static void spaghetti(int n)
                {
                    preempt_disable();
                a:  if (n-- > 10) goto c;
                b:  __this_cpu_inc(counter);
                    if (n % 3 == 0) goto a;
                    if (n % 5 == 0) goto d;
                c:  if (n > 100) goto b;
                    if (n < -100) goto a;
                d:  switch (n) { case 1: goto a; case 2: goto b; case 3: goto case 1; default: break; }
                    preempt_enable();
                }
                [ProcessContext] static void leaks(int n)
                {
                    preempt_disable();
                again: if (n-- > 0) goto again;
                    if (n == -7) goto out_unbalanced;
                    preempt_enable();
                    return;
                out_unbalanced:
                    return;
                } /*XPA0005*/ // a bare return in a block of its own has no operation to anchor it: the closing brace is the exit

            }
            """);

    [Fact]
    public Task Async_methods_and_iterators_with_balanced_sections_are_silent() =>
        AssertExactly("""
            using System.Collections.Generic;
            using System.Threading.Tasks;
            class C
            {
                [ProcessContext] static async Task<int> work()
                {
                    preempt_disable(); __this_cpu_inc(counter); preempt_enable();
                    await Task.Yield();
                    int cpu = get_cpu(); per_cpu(counter, cpu); put_cpu();
                    await Task.Delay(1).ConfigureAwait(false);
                    return this_cpu_read(counter);
                }
                [ProcessContext] static IEnumerable<int> walk(int n)
                {
                    for (var i = 0; i < n; i++)
                    {
                        preempt_disable(); __this_cpu_inc(counter); preempt_enable();
                        var v = this_cpu_read(counter);
                        yield return v;
                    }
                    yield break;
                }
                [ProcessContext] static async IAsyncEnumerable<int> stream()
                {
                    await Task.Yield();
                    yield return this_cpu_read(counter);
                }
                static async Task lambdas() { System.Func<Task> f = async () => { preempt_disable(); preempt_enable(); await Task.Yield(); }; await f(); }
            }
            """);

    [Fact]
    public Task Unsafe_code_is_analysed_like_any_other() =>
        AssertExactly("""
            unsafe class C
            {
                [ProcessContext] static int sum(int* p, int n)
                {
                    int total = 0;
                    int* scratch = stackalloc int[4];
                    fixed (int* q = new int[4])
                    {
                        preempt_disable();
                        for (var i = 0; i < n; i++) total += p[i] + q[i % 4] + scratch[i % 4] + __this_cpu_read(counter);
                        preempt_enable();
                    }
                    delegate*<void> pointer = &schedule;
                    pointer();
                    return total + *p + sizeof(long);
                }
                [ProcessContext] static void bug() { int x = 1; int* p = &x; *p = __this_cpu_read(counter); /*XPA0004*/ }
            }
            """);

    [Fact]
    public Task Top_level_statements_and_their_local_functions() =>
        AssertExactly("""
            preempt_disable();
            __this_cpu_inc(counter);
            preempt_enable();
            schedule();
            ok();
            bug();

            [ProcessContext] static void ok() { preempt_disable(); __this_cpu_inc(counter); preempt_enable(); }
            [ProcessContext] static void bug() { __this_cpu_inc(counter); /*XPA0004*/ }
            """, outputKind: OutputKind.ConsoleApplication);

    [Fact]
    public Task Partial_and_generic_methods() =>
        AssertExactly("""
            partial class C
            {
                [ProcessContext] public partial void declared_here(int n);
                [ProcessContext] static void generic<T>(PerCpu<T> v, T x) where T : struct { preempt_disable(); __this_cpu_write(v, x); preempt_enable(); }
                [ProcessContext] static void generic_bug<T>(PerCpu<T> v, T x) { __this_cpu_write(v, x); /*XPA0004*/ }
                static T read<T>(PerCpu<T> v) => this_cpu_read(v);
                [ProcessContext] static void uses() { generic(counter, 1); generic<int>(counter, 2); _ = read(counter); }
            }
            partial class C
            {
                public partial void declared_here(int n) { preempt_disable(); if (n > 0) __this_cpu_inc(counter); preempt_enable(); }
                partial void implemented_bug();
                [ProcessContext] partial void implemented_bug() { smp_processor_id(); /*XPA0004*/ }
            }
            """);

    [Fact]
    public Task Kernel_names_used_as_fields_properties_locals_delegates_and_method_groups_are_not_calls() =>
        AssertExactly("""
            using System;
            class Names
            {
                int preempt_disable;
                bool schedule { get; set; }
                Action cond_resched = () => { };
                Func<int> smp_processor_id = () => 7;
                event Action might_sleep;
                [ProcessContext] void use()
                {
                    preempt_disable++;
                    schedule = !schedule;
                    cond_resched();
                    var id = smp_processor_id();
                    might_sleep?.Invoke();
                    Action group = Kernel.preempt_enable;
                    Action<PerCpu<int>> inc = Kernel.__this_cpu_inc;
                    var name = nameof(__this_cpu_write) + nameof(Kernel.xen_preemptible_hcall_begin) + "preempt_enable()";
                    int local_irq_disable = 3, get_cpu = local_irq_disable;
                    Console.WriteLine(name + id + get_cpu);
                    __this_cpu_inc(counter); /*XPA0004*/
                }
            }
            """);

    [Fact]
    public Task Kernel_names_in_other_meanings_in_ordinary_code_are_silent() =>
        AssertExactly("""
            using System;
            using System.Collections.Generic;
            using System.Threading.Tasks;
            namespace Jobs
            {
                // A job scheduler that happens to share names with the kernel: nothing here is proven kernel context.
                sealed class Scheduler
                {
                    private readonly Queue<Action> _jobs = new();
                    public void schedule(Action job) => _jobs.Enqueue(job);
                    public void cond_resched() { if (_jobs.Count > 0) _jobs.Dequeue()(); }
                    public Task msleep(int ms) => Task.Delay(ms);
                    public int smp_processor_id() => Environment.CurrentManagedThreadId;
                    public void run() { schedule(() => { }); cond_resched(); _ = msleep(1); var cpu = smp_processor_id(); cond_resched(); _ = cpu; }
                }
                sealed class Settings
                {
                    public int level;
                    public void preempt_disable(int level) => this.level = level;
                    public bool local_irq_disable { get; set; }
                    public static void configure(Settings s) { s.preempt_disable(3); s.local_irq_disable = true; }
                }
                enum preempt_disable { None, Some }
                sealed class per_cpu { public int schedule; }
                record xen_preemptible_hcall_begin(int cpu);
                static class Uses
                {
                    static void f(Scheduler s)
                    {
                        var mode = preempt_disable.Some;
                        var slot = new per_cpu { schedule = 1 };
                        var hcall = new xen_preemptible_hcall_begin(2);
                        s.schedule(() => Console.WriteLine($"{mode} {slot.schedule} {hcall.cpu}"));
                        s.run();
                    }
                }
            }
            """, withKernelUsings: false);

    private static string Repeat(string text, int times) => string.Concat(Enumerable.Repeat(text, times));

    private static readonly Regex Marker = new(@"/\*(XPA\d{4})\*/", RegexOptions.CultureInvariant);

    /// <summary>
    /// Compiles <paramref name="source"/> with the kernel stubs (no compile errors allowed: these are valid programs),
    /// runs every analyzer with an exception handler, and asserts the diagnostics are exactly the marked lines.
    /// </summary>
    private static async Task AssertExactly(string source, OutputKind outputKind = OutputKind.DynamicallyLinkedLibrary, bool withKernelUsings = true)
    {
        var text = (withKernelUsings ? KernelStubs.Usings : "") + source;
        var compilation = Compile.Create(text, KernelStubs.Source)
            .WithOptions(new Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions(outputKind, allowUnsafe: true));
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()));

        var tree = compilation.SyntaxTrees.First();
        var diagnostics = await AllExtensions.AnalyzeAsync(compilation, tree, new ModelOptions(null), CancellationToken.None);
        var actual = diagnostics.Select(d => $"{d.Id} line {d.Location.GetLineSpan().StartLinePosition.Line + 1}").OrderBy(s => s, StringComparer.Ordinal);
        var lines = text.Split('\n');
        var expected = lines.SelectMany((line, i) => Marker.Matches(line).Select(m => $"{m.Groups[1].Value} line {i + 1}")).OrderBy(s => s, StringComparer.Ordinal);
        Assert.Equal(expected, actual);
    }
}
