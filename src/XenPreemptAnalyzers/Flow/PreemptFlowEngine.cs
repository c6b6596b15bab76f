// SPDX-License-Identifier: MIT
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using XenPreemptAnalyzers.Flow.Core;
using XenPreemptAnalyzers.Flow.Domains;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Flow;

/// <summary>
/// The flow engine as the analyzer calls it: the generic core (<see cref="ForwardFlowAnalysis{TState}"/>) run with the
/// context domains (<see cref="PreemptContextDomain"/>) from the method's entry context, then the observations read out
/// of the fixed point (<see cref="Observations"/>) into the <see cref="FlowResult"/> the rules query.
/// </summary>
internal static class PreemptFlowEngine
{
    public const int MaxPathsPerBlock = ForwardFlowAnalysis<ContextState>.MaxPathsPerBlock;

    /// <summary>Block visits across all analyses in this process: lets a test or benchmark bound the work.</summary>
    public static long TotalBlockVisits => ForwardFlowAnalysis<ContextState>.TotalBlockVisits;

    public static FlowResult Analyze(ControlFlowGraph graph, IMethodSymbol? method, CallClassifier classifier, AnalyzerSettings settings, CancellationToken cancellationToken)
    {
        var ownEffect = method is null ? CallEffect.None : classifier.Classify(method, settings);
        var result = new FlowResult(graph, method, settings, EntryContext.For(method), ownEffect)
        {
            ImplementsContextPrimitive = method is not null && CallClassifier.IsContextPrimitive(method, settings),
        };
        var domain = new PreemptContextDomain(classifier, settings, cancellationToken);
        var states = ForwardFlowAnalysis<ContextState>.Run(graph, result.Entry, domain, cancellationToken);
        Observations.Derive(states, domain, result);
        return result;
    }

    /// <summary>The operation under any conversions.</summary>
    internal static IOperation Unwrap(IOperation operation) => operation.WithoutConversions();
}
