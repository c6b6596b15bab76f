// SPDX-License-Identifier: MIT
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using XenPreemptAnalyzers.Flow.Core;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Flow;

/// <summary>A recognised call and every context (one per path) in which it is reached.</summary>
internal sealed record CallSite(IInvocationOperation Operation, CallEffect Effect, IReadOnlyList<ContextState> Before);

/// <summary>A read of a local holding a per-CPU value or CPU id after a point where the task may have been switched.</summary>
internal sealed record StaleUse(ILocalReferenceOperation Use, LocalFact Fact);

/// <summary>A point inside a preemptible-hypercall region begun at <paramref name="Begin"/> where the task may be switched.</summary>
internal sealed record RegionCrossing(IOperation Begin, IOperation Point, bool Involuntary);

/// <summary>A path leaving the method at <paramref name="Site"/> with context <paramref name="State"/>, returning <paramref name="Returned"/> (if a value).</summary>
internal sealed record MethodExit(Location Site, ContextState State, IOperation? Returned);

/// <summary>
/// What the flow engine proved for one graph (a method body, a local function or a lambda), read out of the fixed
/// point by <see cref="Observations"/>. The rules read only this. An imprecise result (too many distinct paths) carries no observations, so it warns
/// about nothing.
/// </summary>
internal sealed class FlowResult
{
    private readonly List<CallSite> _calls = new();
    private readonly HashSet<StaleUse> _staleUses = new();
    private readonly HashSet<RegionCrossing> _crossings = new();
    private readonly HashSet<(Location, ContextState, IOperation?)> _exits = new();

    public FlowResult(ControlFlowGraph graph, IMethodSymbol? method, AnalyzerSettings settings, ContextState entry, CallEffect ownEffect)
    {
        Graph = graph;
        Method = method;
        Settings = settings;
        Entry = entry;
        OwnEffect = ownEffect;
    }

    public ControlFlowGraph Graph { get; }

    /// <summary>The method, local function or lambda the graph belongs to.</summary>
    public IMethodSymbol? Method { get; }

    public AnalyzerSettings Settings { get; }

    public PreemptionModel Model => Settings.Model;

    public ContextState Entry { get; }

    /// <summary>What this method itself is recognised as (its acquire/release contract).</summary>
    public CallEffect OwnEffect { get; }

    /// <summary>The graph is the body of a context primitive (a port's own <c>preempt_enable</c>, or a configured one): it changes the modelled state directly.</summary>
    public bool ImplementsContextPrimitive { get; internal set; }

    /// <summary>Set when the path set grew past its bound somewhere; such a result reports nothing.</summary>
    public bool IsImprecise { get; internal set; }

    /// <summary>How many times the worklist processed a block.</summary>
    public int BlockVisits { get; internal set; }

    public IReadOnlyList<CallSite> Calls => _calls;

    public IEnumerable<StaleUse> StaleUses => _staleUses;

    public IEnumerable<RegionCrossing> Crossings => _crossings;

    public IEnumerable<MethodExit> Exits
    {
        get
        {
            foreach (var (site, state, returned) in _exits)
                yield return new MethodExit(site, state, returned);
        }
    }

    /// <summary>
    /// The name of the method an operation calls. A call that does not bind while the user types still has its
    /// recognised effect (an invalid operation), so it is named from its syntax.
    /// </summary>
    public static string CalleeName(IOperation operation) => operation switch
    {
        IInvocationOperation call => call.TargetMethod.Name,
        { Syntax: Microsoft.CodeAnalysis.CSharp.Syntax.InvocationExpressionSyntax syntax } => CallClassifier.CalleeName(syntax) ?? syntax.Expression.ToString(),
        _ => operation.Syntax.ToString(),
    };

    internal void AddCall(IInvocationOperation operation, CallEffect effect, IReadOnlyList<ContextState> before) =>
        _calls.Add(new CallSite(operation, effect, before));

    internal void AddStaleUse(ILocalReferenceOperation use, LocalFact fact) => _staleUses.Add(new StaleUse(use, fact));

    internal void AddCrossing(IOperation begin, IOperation point, bool involuntary) =>
        _crossings.Add(new RegionCrossing(begin, point, involuntary));

    internal void AddExit(Location site, ContextState state, IOperation? returned) =>
        _exits.Add((site, state with { Continuation = Continuation.Nothing }, returned));
}
