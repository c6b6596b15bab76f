// SPDX-License-Identifier: MIT
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Flow.Domains;

/// <summary>
/// What the domains' transfer functions and <see cref="BranchRefinement"/> need to know of the code beyond the state:
/// what a call does under the analysed model. Implemented by <see cref="PreemptContextDomain"/>, which holds the
/// classifier and settings, so that no domain calls back into the analysis that runs it.
/// </summary>
internal interface IContextFacts
{
    PreemptionModel Model { get; }

    /// <summary>The effect of an invocation (a <c>using</c>'s <c>Dispose</c> is the resource type's implementation).</summary>
    CallEffect Classify(IInvocationOperation invocation);

    CallEffect Classify(IMethodSymbol method);

    /// <summary>A port's test of the preemptible-hypercall state that reads per-CPU storage (its body uses no per-task member).</summary>
    bool IsPerCpuStateTest(IMethodSymbol method);

    /// <summary>Is <paramref name="symbol"/> (a field or property) the per-CPU variable a preemptible-hypercall region sets?</summary>
    bool IsHypercallStateVariable(ISymbol symbol);
}
