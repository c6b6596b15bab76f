// SPDX-License-Identifier: MIT
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using XenPreemptAnalyzers.Tests.Infrastructure;

namespace XenPreemptAnalyzers.Tests.Reliability;

/// <summary>Inputs the typing simulation found to crash an analyzer or a fix, kept as regression tests (shrunk by hand).</summary>
public sealed class TypingRegressionTests
{
    [Fact]
    public Task A_half_typed_call_in_a_finally_of_nested_try_blocks() =>
        AnalyzeWithoutException("""
            class C
            {
                static void f(bool b)
                {
                    using var d = new System.IO.MemoryStream();
                    xen_preemptible_hcall_begin();
                    try { try { if (b return; } finally { d.Flush(); } }
                    finally { xen_preemptible_hcall_end xen_preemptible_hcall_end(); }
                }
            }
            """);

    [Fact]
    public Task A_region_begin_that_does_not_bind() =>
        // Found by CI: 'xen_preemptible_hcall_begin(})' half typed in a declaration left its call unbound (an invalid
        // operation whose effect is still the region's begin), and XPA0001 took that begin for an invocation.
        AnalyzeWithoutException("""
            class C
            {
                [ProcessContext]
                static long f()
                {
                    xen_preemptible_hcall_begin(1);
                    long ret = privcmd_call(0, 0, 0, 0, 0, 0);
                    cond_resched();
                    xen_preemptible_hcall_end();
                    return ret;
                }
            }
            """);

    private static async Task AnalyzeWithoutException(string source)
    {
        var compilation = Compile.WithStubs(source);
        foreach (var model in new string?[] { null, "none", "voluntary", "full", "lazy", "dynamic" })
            _ = await AllExtensions.AnalyzeAsync(compilation, compilation.SyntaxTrees[0], new ModelOptions(model), CancellationToken.None);
    }
}
