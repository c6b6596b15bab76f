using System.Linq;
using System.Threading.Tasks;
using Xunit;
using XenPreemptAnalyzers.Tests.Infrastructure;
using static XenPreemptAnalyzers.Tests.Infrastructure.Verify;

namespace XenPreemptAnalyzers.Tests.Rules;

public sealed class Xpa0002Tests
{
    private const string Point = "class C { [HypercallPreemptionPoint] static void f() { {|#0:irqentry_exit_cond_resched()|}; } }";

    [Fact]
    public Task Hypercall_preemption_point_under_dynamic() =>
        Analyzer(Point, "dynamic", Diagnostic("XPA0002").WithMessage(
            "'irqentry_exit_cond_resched' is a no-op in preemption mode(s) none, voluntary (model 'dynamic'), but this path must reschedule a task inside a preemptible hypercall; call 'raw_irqentry_exit_cond_resched'"));

    [Theory]
    [InlineData("none")]
    [InlineData("voluntary")]
    [InlineData("full")]
    [InlineData("lazy")]
    public Task Static_models_never_patch_the_irq_exit_reschedule(string model) =>
        Analyzer(Point.Replace("{|#0:", "").Replace("|}", ""), model);

    [Theory]
    [InlineData("full", "full")]
    [InlineData("lazy", "lazy")]
    [InlineData("dynamic", "full, lazy")]
    public Task Cond_resched_is_a_no_op_where_the_kernel_preempts_by_itself(string model, string modes) =>
        Analyzer("class C { static void f() { if (__this_cpu_read(xen_in_preemptible_hcall)) {|#0:cond_resched()|}; } }", model,
            Diagnostic("XPA0002").WithArguments("cond_resched", modes, model, "__cond_resched"));

    // The June 2023 report: the region under #if !CONFIG_PREEMPTION is an empty stub in a PREEMPT_DYNAMIC build.
    [Fact]
    public Task A_region_compiled_out_of_a_dynamic_build_leaves_only_the_patchable_irq_exit_reschedule() =>
        Analyzer("""
            class C
            {
            #if CONFIG_XEN_PV && !CONFIG_PREEMPTION
                static void xen_preemptible_hcall_begin() => __this_cpu_write(xen_in_preemptible_hcall, true);
            #else
                static void xen_preemptible_hcall_begin() { }
            #endif
                [ProcessContext]
                static long ioctl()
                {
                    {|#0:xen_preemptible_hcall_begin()|};
                    long ret = privcmd_call(1, 0, 0, 0, 0, 0);
                    return ret;
                }
            }
            """, "dynamic", Diagnostic("XPA0002").WithMessage(
                "'xen_preemptible_hcall_begin' is empty in this build: the preemptible-hypercall region is compiled out, and the hypercall is rescheduled only by 'irqentry_exit_cond_resched', a no-op in preemption mode(s) none, voluntary (model 'dynamic'); compile the region in for this configuration"));

    [Theory]
    [InlineData("none")]
    [InlineData("voluntary")]
    [InlineData("full")]
    [InlineData("lazy")]
    public Task A_region_compiled_out_of_a_static_build_is_fine(string model) =>
        Analyzer("""
            class C
            {
            #if CONFIG_XEN_PV && !CONFIG_PREEMPTION
                static void xen_preemptible_hcall_begin() => __this_cpu_write(xen_in_preemptible_hcall, true);
            #else
                static void xen_preemptible_hcall_begin() { }
            #endif
                [ProcessContext] static long ioctl() { xen_preemptible_hcall_begin(); return privcmd_call(1, 0, 0, 0, 0, 0); }
            }
            """, model);

    [Fact]
    public Task An_empty_api_stub_outside_any_if_is_not_a_compiled_out_region() =>
        Analyzer("""
            class C
            {
                static void xen_preemptible_hcall_begin() { }
                [ProcessContext] static long ioctl() { {|#0:xen_preemptible_hcall_begin()|}; long r = privcmd_call(1, 0, 0, 0, 0, 0); xen_preemptible_hcall_end(); return r; }
            }
            """, "dynamic", Diagnostic("XPA0001")); // an ordinary region to XPA0001, not a compiled-out one

    [Fact]
    public Task Cond_resched_under_voluntary_really_reschedules() =>
        Analyzer("class C { static void f() { if (__this_cpu_read(xen_in_preemptible_hcall)) cond_resched(); } }", "voluntary");

    [Fact]
    public Task Raw_variant_is_the_fix() =>
        Analyzer("class C { [HypercallPreemptionPoint] static void f() { raw_irqentry_exit_cond_resched(); } }");

    [Fact]
    public Task A_generic_branch_is_not_the_hypercall_path() =>
        Analyzer("class C { [IrqContext] static void f() { if (need_resched()) irqentry_exit_cond_resched(); } }");

    [Fact]
    public Task Negated_early_return_leaves_the_hypercall_path() =>
        Analyzer("class C { [IrqContext] static void f() { bool inhcall = get_and_clear_inhcall(); if (!inhcall) return; {|#0:irqentry_exit_cond_resched()|}; restore_inhcall(inhcall); } }",
            Diagnostic("XPA0002"));

    [Fact]
    public Task Loop_on_the_state() =>
        Analyzer("class C { static void f() { while (__this_cpu_read(xen_in_preemptible_hcall)) { {|#0:irqentry_exit_cond_resched()|}; } } }",
            Diagnostic("XPA0002"));

    [Fact]
    public Task Patchable_attribute_names_the_raw_variant() =>
        Analyzer("""
            class C
            {
                [Patchable(Raw = "raw_port_resched")] static void port_resched() { }
                [HypercallPreemptionPoint] static void f() { {|#0:port_resched()|}; }
            }
            """, Diagnostic("XPA0002").WithArguments("port_resched", "none, voluntary", "dynamic", "raw_port_resched"));

    [Fact]
    public Task Editorconfig_patchable_pairs() =>
        new PreemptTest("""
            class C
            {
                static void port_resched() { }
                static void port_resched_raw() { }
                [HypercallPreemptionPoint] static void f() { {|#0:port_resched()|}; port_resched_raw(); }
            }
            """).WithEditorConfig(("xen_preempt.patchable_methods", "port_resched:port_resched_raw"))
            .Expect(Diagnostic("XPA0002").WithArguments("port_resched", "none, voluntary", "dynamic", "port_resched_raw")).RunAsync();

    [Fact]
    public Task Lambda_on_the_path_is_its_own_unknown_graph_local_function_annotated_is_not() =>
        Analyzer("""
            class C
            {
                static void f()
                {
                    if (__this_cpu_read(xen_in_preemptible_hcall))
                    {
                        System.Action a = () => irqentry_exit_cond_resched();
                        a();
                    }
                    [HypercallPreemptionPoint] void g() { {|#0:irqentry_exit_cond_resched()|}; }
                    g();
                }
            }
            """, Diagnostic("XPA0002"));

    [Fact]
    public async Task Raw_variant_is_in_the_diagnostic_properties_for_the_code_fix()
    {
        var diagnostics = await Compile.AnalyzeAsync(Compile.WithStubs(Point.Replace("{|#0:", "").Replace("|}", "")));
        var diagnostic = Assert.Single(diagnostics, d => d.Id == "XPA0002");
        Assert.Equal("raw_irqentry_exit_cond_resched", diagnostic.Properties[DiagnosticProperties.RawVariant]);
        Assert.Equal("irqentry_exit_cond_resched", diagnostic.Properties[DiagnosticProperties.CalledName]);
        Assert.Equal("dynamic", diagnostic.Properties[DiagnosticProperties.PreemptionModel]);
        Assert.Equal("XPA0002", diagnostics.Single(d => d.Id == "XPA0002").Descriptor.Id);
    }
}
