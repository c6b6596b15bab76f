using System.Threading.Tasks;
using Xunit;
using XenPreemptAnalyzers.Tests.Infrastructure;
using static XenPreemptAnalyzers.Tests.Infrastructure.Verify;

namespace XenPreemptAnalyzers.Tests.Rules;

public sealed class Xpa0003Tests
{
    private const string Generic = "class C { [IrqContext] static void f() { {|#0:raw_irqentry_exit_cond_resched()|}; } }";

    [Fact]
    public Task Raw_irq_exit_reschedule_on_a_generic_path_under_dynamic() =>
        Analyzer(Generic, "dynamic", Diagnostic("XPA0003").WithMessage(
            "'raw_irqentry_exit_cond_resched' always reschedules, overriding the preemption mode chosen at boot (in mode(s) none, voluntary 'irqentry_exit_cond_resched' does nothing; model 'dynamic'); outside the preemptible-hypercall path call 'irqentry_exit_cond_resched'"));

    [Theory]
    [InlineData("none")]
    [InlineData("voluntary")]
    [InlineData("full")]
    [InlineData("lazy")]
    public Task Static_models_have_nothing_to_override(string model) =>
        Analyzer(Generic.Replace("{|#0:", "").Replace("|}", ""), model);

    [Theory]
    [InlineData("full", "full")]
    [InlineData("lazy", "lazy")]
    [InlineData("dynamic", "full, lazy")]
    public Task Raw_cond_resched_overrides_full_and_lazy(string model, string modes) =>
        Analyzer("class C { [ProcessContext] static void f() { {|#0:__cond_resched()|}; } }", model,
            Diagnostic("XPA0003").WithArguments("__cond_resched", modes, "cond_resched", model));

    [Fact]
    public Task Raw_cond_resched_under_voluntary_is_the_same_call() =>
        Analyzer("class C { [ProcessContext] static void f() { __cond_resched(); } }", "voluntary");

    [Fact]
    public Task On_the_hypercall_path_the_raw_call_is_right() =>
        Analyzer("""
            class C
            {
                [IrqContext] static void upcall(bool exit_rcu)
                {
                    bool inhcall = get_and_clear_inhcall();
                    if (inhcall && !exit_rcu) { raw_irqentry_exit_cond_resched(); restore_inhcall(inhcall); }
                    else { {|#0:raw_irqentry_exit_cond_resched()|}; }
                }
            }
            """, Diagnostic("XPA0003"));

    [Fact]
    public Task Hypercall_preemption_point_and_region_are_not_generic() =>
        Analyzer("""
            class C
            {
                [HypercallPreemptionPoint] static void a() { raw_irqentry_exit_cond_resched(); }
                static void b() { xen_preemptible_hcall_begin(); __cond_resched(); xen_preemptible_hcall_end(); }
            }
            """);

    [Fact]
    public Task The_patchable_primitive_itself_may_call_the_raw_one() =>
        Analyzer("""
            class Port
            {
                static bool key;
                static void irqentry_exit_cond_resched() { if (key) raw_irqentry_exit_cond_resched(); }
            }
            """);

    [Fact]
    public Task Lambda_on_a_generic_path() =>
        Analyzer("class C { static void f() { System.Action a = () => {|#0:raw_irqentry_exit_cond_resched()|}; a(); } }", Diagnostic("XPA0003"));

    [Fact]
    public Task Local_function_on_a_generic_path_in_a_loop() =>
        Analyzer("class C { static void f(int n) { for (var i = 0; i < n; i++) g(); void g() { {|#0:__cond_resched()|}; } } }", Diagnostic("XPA0003"));

    [Fact]
    public Task Editorconfig_pair_makes_the_raw_side_known() =>
        new PreemptTest("""
            class C
            {
                static void port_resched() { }
                static void port_resched_raw() { }
                static void f() { {|#0:port_resched_raw()|}; }
            }
            """).WithEditorConfig(("xen_preempt.patchable_methods", "port_resched:port_resched_raw"))
            .Expect(Diagnostic("XPA0003").WithArguments("port_resched_raw", "none, voluntary", "port_resched", "dynamic")).RunAsync();

    [Fact]
    public Task Patchable_variant_is_in_the_properties_and_severity_is_info() =>
        new PreemptTest(Generic).Expect(
            new Microsoft.CodeAnalysis.Testing.DiagnosticResult("XPA0003", Microsoft.CodeAnalysis.DiagnosticSeverity.Info)
                .WithLocation(0).WithOptions(Microsoft.CodeAnalysis.Testing.DiagnosticOptions.IgnoreAdditionalLocations)).RunAsync();
}
