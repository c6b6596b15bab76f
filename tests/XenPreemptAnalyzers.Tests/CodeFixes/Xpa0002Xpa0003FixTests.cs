using System.Threading.Tasks;
using Xunit;
using XenPreemptAnalyzers.CodeFixes;
using XenPreemptAnalyzers.Tests.Infrastructure;
using static XenPreemptAnalyzers.Tests.Infrastructure.FixVerify;
using static XenPreemptAnalyzers.Tests.Infrastructure.Verify;

namespace XenPreemptAnalyzers.Tests.CodeFixes;

public sealed class Xpa0002Xpa0003FixTests
{
    [Fact]
    public Task Xpa0002_calls_the_raw_variant_keeping_comments() =>
        new FixTest<Xpa0002CodeFixProvider>("""
            class C
            {
                [HypercallPreemptionPoint]
                static void f()
                {
                    /* reschedule the hypercall's task */ {|#0:irqentry_exit_cond_resched()|}; // must happen
                }
            }
            """, """
            class C
            {
                [HypercallPreemptionPoint]
                static void f()
                {
                    /* reschedule the hypercall's task */ raw_irqentry_exit_cond_resched(); // must happen
                }
            }
            """).Action(Xpa0002CodeFixProvider.CallRawVariant).Expect(Diagnostic("XPA0002")
                .WithArguments("irqentry_exit_cond_resched", "none, voluntary", "dynamic", "raw_irqentry_exit_cond_resched")).RunAsync();

    [Fact]
    public Task Xpa0002_several_in_one_document_and_fix_all() =>
        new FixTest<Xpa0002CodeFixProvider>("""
            class C
            {
                static void f()
                {
                    if (__this_cpu_read(xen_in_preemptible_hcall))
                    {
                        {|#0:cond_resched()|};
                        {|#1:cond_resched()|};
                    }
                }
                [HypercallPreemptionPoint] static void g() { {|#2:irqentry_exit_cond_resched()|}; }
            }
            """, """
            class C
            {
                static void f()
                {
                    if (__this_cpu_read(xen_in_preemptible_hcall))
                    {
                        __cond_resched();
                        __cond_resched();
                    }
                }
                [HypercallPreemptionPoint] static void g() { raw_irqentry_exit_cond_resched(); }
            }
            """).Expect(Diagnostic("XPA0002", 0), Diagnostic("XPA0002", 1), Diagnostic("XPA0002", 2)).RunAsync();

    [Fact]
    public Task Xpa0002_fix_all_in_project_and_solution_across_documents()
    {
        var test = new FixTest<Xpa0002CodeFixProvider>(
            "class C { [HypercallPreemptionPoint] static void f() { {|#0:irqentry_exit_cond_resched()|}; } }",
            "class C { [HypercallPreemptionPoint] static void f() { raw_irqentry_exit_cond_resched(); } }");
        test.TestState.Sources.Add(("/0/Second.cs", KernelStubs.Usings + "class D { [HypercallPreemptionPoint] static void g() { {|#1:irqentry_exit_cond_resched()|}; } }"));
        test.FixedState.Sources.Add(("/0/Second.cs", KernelStubs.Usings + "class D { [HypercallPreemptionPoint] static void g() { raw_irqentry_exit_cond_resched(); } }"));
        // One fix per iteration in the iterative run and in Fix All in document; Fix All in project/solution fixes both documents at once.
        test.NumberOfIncrementalIterations = 2;
        test.NumberOfFixAllInDocumentIterations = 2;
        test.NumberOfFixAllIterations = 1;
        return test.Expect(Diagnostic("XPA0002", 0), Diagnostic("XPA0002", 1)).RunAsync();
    }

    [Fact]
    public Task Xpa0002_through_the_declaring_type_and_with_a_using_static_added_only_when_needed() =>
        new FixTest<Xpa0002CodeFixProvider>("""
            namespace Port
            {
                static class Sched { public static void raw_irqentry_exit_cond_resched() { } }
                class C
                {
                    [Stubs.HypercallPreemptionPoint] static void f() { {|#0:Stubs.Kernel.irqentry_exit_cond_resched()|}; }
                    [Stubs.HypercallPreemptionPoint] static void g() { {|#1:irqentry_exit_cond_resched()|}; }
                }
            }
            """, """
            namespace Port
            {
                static class Sched { public static void raw_irqentry_exit_cond_resched() { } }
                class C
                {
                    [Stubs.HypercallPreemptionPoint] static void f() { Stubs.Kernel.raw_irqentry_exit_cond_resched(); }
                    [Stubs.HypercallPreemptionPoint] static void g() { raw_irqentry_exit_cond_resched(); }
                }
            }
            """).Expect(Diagnostic("XPA0002", 0), Diagnostic("XPA0002", 1)).RunAsync();

    [Fact]
    public Task Xpa0002_adds_using_static_when_the_raw_variant_lives_in_another_type() =>
        new FixTest<Xpa0002CodeFixProvider>("""
            namespace Port
            {
                public static class Sched { [Patchable(Raw = "raw_port_resched")] public static void port_resched() { } }
                public static class RawSched { public static void raw_port_resched() { } }
            }
            namespace User
            {
                using static Port.Sched;
                class C { [HypercallPreemptionPoint] static void f() { {|#0:port_resched()|}; } }
            }
            """, """
            using static Port.RawSched;
            namespace Port
            {
                public static class Sched { [Patchable(Raw = "raw_port_resched")] public static void port_resched() { } }
                public static class RawSched { public static void raw_port_resched() { } }
            }
            namespace User
            {
                using static Port.Sched;
                class C { [HypercallPreemptionPoint] static void f() { raw_port_resched(); } }
            }
            """).Expect(Diagnostic("XPA0002")).RunAsync();

    [Fact]
    public Task Xpa0002_no_fix_when_the_raw_variant_does_not_exist() =>
        NoFix<Xpa0002CodeFixProvider>("""
            class C
            {
                [Patchable(Raw = "raw_port_resched")] static void port_resched() { }
                [HypercallPreemptionPoint] static void f() { {|#0:port_resched()|}; }
            }
            """, null, Diagnostic("XPA0002"));

    [Fact]
    public Task Xpa0003_calls_the_patchable_variant() =>
        new FixTest<Xpa0003CodeFixProvider>(
            "class C { [ProcessContext] static void f() { {|#0:__cond_resched()|}; } }",
            "class C { [ProcessContext] static void f() { cond_resched(); } }")
            .WithModel("full").Action(Xpa0003CodeFixProvider.CallPatchableVariant).Expect(Diagnostic("XPA0003")).RunAsync();

    [Fact]
    public Task Xpa0003_no_fix_when_the_patchable_variant_does_not_exist() =>
        // A port that declares only the raw reschedule: there is nothing to switch to.
        new FixTest<Xpa0003CodeFixProvider>("""
            class ProcessContextAttribute : System.Attribute { }
            static class Port
            {
                public static int __cond_resched() => 0;
                [ProcessContext] static void f() { {|#0:__cond_resched()|}; }
            }
            """, """
            class ProcessContextAttribute : System.Attribute { }
            static class Port
            {
                public static int __cond_resched() => 0;
                [ProcessContext] static void f() { {|#0:__cond_resched()|}; }
            }
            """, withStubs: false).WithModel("full").Expect(Diagnostic("XPA0003")).RunAsync();
}
