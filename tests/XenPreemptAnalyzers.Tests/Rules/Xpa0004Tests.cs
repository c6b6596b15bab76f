using System.Threading.Tasks;
using Xunit;
using XenPreemptAnalyzers.Tests.Infrastructure;
using static XenPreemptAnalyzers.Tests.Infrastructure.Verify;

namespace XenPreemptAnalyzers.Tests.Rules;

public sealed class Xpa0004Tests
{
    private const string G = "class C { [ProcessContext] static void g() { {|#0:__this_cpu_write(counter, 1)|}; } }";

    [Theory]
    [InlineData("dynamic")]
    [InlineData("full")]
    [InlineData("lazy")]
    public Task Checked_access_in_process_context_warns_where_preemption_is_compiled_in(string model) =>
        Analyzer(G, model, Diagnostic("XPA0004").WithArguments("'__this_cpu_write'", model, "call 'this_cpu_write' or disable preemption around it"));

    [Theory]
    [InlineData("none")]
    [InlineData("voluntary")]
    public Task Static_none_and_voluntary_cannot_preempt_inside_the_access(string model) =>
        Analyzer(G.Replace("{|#0:", "").Replace("|}", ""), model);

    [Fact]
    public Task Message_names_what_where_and_model() =>
        Analyzer(G, "full", Diagnostic("XPA0004").WithMessage(
            "'__this_cpu_write' is reached with preemption, migration and IRQs enabled, where under preemption model 'full' the task may be migrated in the middle of it; call 'this_cpu_write' or disable preemption around it"));

    [Fact]
    public Task Cpu_id_advice_is_get_cpu() =>
        Analyzer("class C { [ProcessContext] static int f() => {|#0:smp_processor_id()|}; }",
            Diagnostic("XPA0004").WithArguments("'smp_processor_id'", "dynamic", "use get_cpu()/put_cpu() or disable preemption around it"));

    [Theory]
    [InlineData("preempt_disable(); __this_cpu_inc(counter); preempt_enable();")]
    [InlineData("local_irq_disable(); __this_cpu_inc(counter); local_irq_enable();")]
    [InlineData("var flags = local_irq_save(); __this_cpu_inc(counter); local_irq_restore(flags);")]
    [InlineData("migrate_disable(); __this_cpu_inc(counter); migrate_enable();")]
    [InlineData("int cpu = get_cpu(); __this_cpu_inc(counter); put_cpu();")]
    [InlineData("this_cpu_inc(counter); raw_cpu_write(counter, 1); per_cpu(counter, 0);")]
    [InlineData("if (preempt_count() != 0) __this_cpu_inc(counter);")]
    [InlineData("preempt_disable(); preempt_disable(); preempt_enable(); __this_cpu_inc(counter); preempt_enable();")]
    public Task Protected_or_safe_accesses_are_silent(string body) =>
        Analyzer($"class C {{ [ProcessContext] static void f() {{ {body} }} }}");

    [Fact]
    public Task Unknown_entry_context_is_silent() =>
        Analyzer("class C { static void helper() { __this_cpu_write(counter, 1); } }");

    [Fact]
    public Task After_balanced_nesting_returns_to_zero_it_warns() =>
        Analyzer("class C { [ProcessContext] static void f() { preempt_disable(); preempt_disable(); preempt_enable(); preempt_enable(); {|#0:__this_cpu_inc(counter)|}; } }",
            Diagnostic("XPA0004"));

    [Fact]
    public Task Loop_first_iteration_is_preemptible() =>
        Analyzer("""
            class C
            {
                [ProcessContext] static void f(int n)
                {
                    for (int i = 0; i < n; i++) { {|#0:__this_cpu_inc(counter)|}; preempt_disable(); schedule_work(); preempt_enable(); }
                }
                static void schedule_work() { }
            }
            """, Diagnostic("XPA0004"));

    [Fact]
    public Task Try_finally_protects_inside_and_not_after() =>
        Analyzer("""
            class C
            {
                [ProcessContext] static void f()
                {
                    preempt_disable();
                    try { __this_cpu_inc(counter); }
                    finally { preempt_enable(); }
                    {|#0:__this_cpu_inc(counter)|};
                }
            }
            """, Diagnostic("XPA0004"));

    [Fact]
    public Task Goto_and_switch_go_through_the_graph() =>
        Analyzer("""
            class C
            {
                [ProcessContext] static void f(int n)
                {
                again:
                    switch (n)
                    {
                        case 0: preempt_disable(); __this_cpu_inc(counter); preempt_enable(); break;
                        case 1: {|#0:__this_cpu_inc(counter)|}; break;
                        default: n--; goto again;
                    }
                }
            }
            """, Diagnostic("XPA0004"));

    [Fact]
    public Task Lambda_is_unknown_unless_annotated() =>
        Analyzer("""
            class C
            {
                [ProcessContext] static void f()
                {
                    System.Action plain = () => __this_cpu_inc(counter);
                    System.Action annotated = [ProcessContext] () => {|#0:__this_cpu_inc(counter)|};
                }
            }
            """, Diagnostic("XPA0004"));

    [Fact]
    public Task Local_function_is_unknown_unless_annotated_and_seen_through_at_its_call() =>
        Analyzer("""
            class C
            {
                [ProcessContext] static void f()
                {
                    {|#0:inner()|};
                    preempt_disable(); inner(); preempt_enable();
                    annotated();
                    void inner() { __this_cpu_inc(counter); }
                    [ProcessContext] void annotated() { {|#1:__this_cpu_inc(counter)|}; }
                }
            }
            """,
            Diagnostic("XPA0004", 0).WithArguments("'inner' (which calls '__this_cpu_inc')", "dynamic", "disable preemption around it"),
            Diagnostic("XPA0004", 1));

    [Fact]
    public Task Requires_preempt_disabled_attribute_is_checked_at_call_sites() =>
        Analyzer("""
            class C
            {
                [RequiresPreemptDisabled] static void needs() { }
                [ProcessContext] static void f() { {|#0:needs()|}; preempt_disable(); needs(); preempt_enable(); }
            }
            """, Diagnostic("XPA0004"));

    [Fact]
    public Task Editorconfig_list_adds_a_checked_accessor() =>
        new PreemptTest("""
            class C
            {
                static void port_percpu_write(int v) { }
                [ProcessContext] static void f() { {|#0:port_percpu_write(1)|}; }
            }
            """).WithEditorConfig(("xen_preempt.checked_per_cpu_methods", "port_percpu_write, other_name"))
            .Expect(Diagnostic("XPA0004")).RunAsync();

    [Theory]
    [InlineData("CONFIG_PREEMPT", true)]
    [InlineData("CONFIG_PREEMPT_DYNAMIC", true)]
    [InlineData("CONFIG_PREEMPT_NONE", false)]
    [InlineData("CONFIG_PREEMPT_VOLUNTARY", false)]
    public Task Model_from_preprocessor_symbols(string symbol, bool warns)
    {
        var test = new PreemptTest(warns ? G : G.Replace("{|#0:", "").Replace("|}", ""));
        test.PreprocessorSymbols.Add(symbol);
        return warns ? test.Expect(Diagnostic("XPA0004")).RunAsync() : test.RunAsync();
    }

    [Fact]
    public Task Editorconfig_model_beats_preprocessor_symbols()
    {
        var test = new PreemptTest(G.Replace("{|#0:", "").Replace("|}", "")).WithModel("none");
        test.PreprocessorSymbols.Add("CONFIG_PREEMPT");
        return test.RunAsync();
    }

    [Fact]
    public Task Bad_model_value_falls_back_without_throwing()
    {
        var test = new PreemptTest(G.Replace("{|#0:", "").Replace("|}", "")).WithModel("sometimes");
        test.PreprocessorSymbols.Add("CONFIG_PREEMPT_NONE");
        return test.RunAsync();
    }

    [Fact]
    public Task No_preempt_analysis_is_an_escape_hatch() =>
        Analyzer("class C { [NoPreemptAnalysis(\"boot code, one CPU\")] [ProcessContext] static void g() { __this_cpu_write(counter, 1); } }");
}
