using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace XenPreemptAnalyzers.Recognition;

/// <summary>
/// Says what a callee does, for one compilation: by <c>.editorconfig</c> list, attribute, kernel name, or
/// — for a helper in the same compilation — by a summary of its body. Results are computed lazily and
/// cached per compilation, so helpers are seen through live in the editor without compilation-end actions.
/// </summary>
internal sealed class CallClassifier
{
    private readonly ConcurrentDictionary<IMethodSymbol, CallEffect> _cache = new(SymbolEqualityComparer.Default);
    private readonly HelperSummaries _summaries;
    private readonly Compilation? _compilation;
    private readonly System.Lazy<ImmutableHashSet<ISymbol>> _learnedStateVariables;

    public CallClassifier(System.Func<SyntaxTree, AnalyzerSettings> settingsOf, Compilation? compilation = null, int summaryDepth = HelperSummaries.DefaultDepth)
    {
        _summaries = new HelperSummaries(compilation, settingsOf, summaryDepth);
        _compilation = compilation;
        _learnedStateVariables = new System.Lazy<ImmutableHashSet<ISymbol>>(LearnStateVariables);
    }

    /// <summary>The effect of calling <paramref name="method"/> from code configured by <paramref name="callSite"/>.</summary>
    public CallEffect Classify(IMethodSymbol method, AnalyzerSettings callSite)
    {
        method = method.ReducedFrom ?? method;
        if (callSite.ConfiguredNames.TryGetValue(method.Name, out var configured))
            return WithResultFromSignature(configured, method);
        return _cache.GetOrAdd(method.OriginalDefinition, ClassifyUncached);
    }

    /// <summary>What a callee of this name is, by configuration or the name table alone (a call that did not bind).</summary>
    public CallEffect ClassifyName(string? name, AnalyzerSettings callSite) =>
        name is null ? CallEffect.None
        : callSite.ConfiguredNames.TryGetValue(name, out var configured) ? configured
        : KernelApi.Lookup(name);

    /// <summary>The simple name an invocation calls, read from syntax.</summary>
    public static string? CalleeName(InvocationExpressionSyntax call) => HelperSummaries.CalleeName(call);

    private CallEffect ClassifyUncached(IMethodSymbol method)
    {
        var effect = ApplyAttributes(method, KernelApi.Lookup(method.Name));
        if (effect.IsNone)
            effect = _summaries.Summarize(method);
        else
            effect = WithCheckedAccessInside(method, effect with { Name = method.Name });
        if (effect.Region != RegionOperation.Begin)
            return effect;
        var compiledOut = MethodBodies.IsCompiledOutStub(method);
        return compiledOut || _summaries.UsesPerTaskMember(method) ? effect with { NoPerCpuRegionState = true, CompiledOut = compiledOut } : effect;
    }

    /// <summary>
    /// Is <paramref name="method"/> the implementation of a context primitive (a name-table or configured name that
    /// changes preemption, migration or IRQs)? Its body changes the modelled state directly, so it is not balanced.
    /// </summary>
    public static bool IsContextPrimitive(IMethodSymbol method, AnalyzerSettings settings)
    {
        var primitive = settings.ConfiguredNames.TryGetValue(method.Name, out var configured) ? configured : KernelApi.Lookup(method.Name);
        return primitive.PreemptDelta != 0 || primitive.MigrateDelta != 0 || primitive.Irq != IrqOperation.Unchanged;
    }

    /// <summary>
    /// A region begin or end recognised by name or attribute keeps its role, but its body in the compilation may make a
    /// checked per-CPU access (fdfd811ddde3's <c>__this_cpu_write(xen_in_preemptible_hcall, true)</c>): that access runs
    /// in the caller's context, where CONFIG_DEBUG_PREEMPT checks it, so the call is such an access too (XPA0004).
    /// </summary>
    private CallEffect WithCheckedAccessInside(IMethodSymbol method, CallEffect effect)
    {
        if (effect.Region is not (RegionOperation.Begin or RegionOperation.End) || effect.PerCpu != PerCpuAccess.NotPerCpu)
            return effect;
        var body = _summaries.Summarize(method);
        return body.PerCpu == PerCpuAccess.Checked ? effect with { PerCpu = PerCpuAccess.Checked, Via = body.Via } : effect;
    }

    /// <summary>
    /// A port's test of the preemptible-hypercall state (a source method named after it) that reads per-CPU storage:
    /// its body uses no per-task member (thread flag, <c>[PerTask]</c>) and reads something through a per-CPU accessor.
    /// </summary>
    public bool IsPerCpuStateTest(IMethodSymbol method)
    {
        if (method.DeclaringSyntaxReferences.Length != 1 || _summaries.UsesPerTaskMember(method))
            return false;
        var body = method.DeclaringSyntaxReferences[0].GetSyntax(CancellationToken.None);
        return body.DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Any(call => HelperSummaries.CalleeName(call) is { } name && KernelApi.Lookup(name).PerCpu is not PerCpuAccess.NotPerCpu);
    }

    /// <summary>
    /// Is <paramref name="symbol"/> (a field or property) the per-CPU variable a preemptible-hypercall region sets? The
    /// kernel's name, or whatever per-CPU variable a region begin of this compilation writes (its body, seen through
    /// helpers as summaries are): a port may keep the state under another name, and its clear must count as one.
    /// </summary>
    public bool IsHypercallStateVariable(ISymbol symbol, AnalyzerSettings settings) =>
        symbol.Name == KernelApi.HypercallStateName
        || (symbol.Kind is SymbolKind.Field or SymbolKind.Property && _learnedStateVariables.Value.Contains(symbol.OriginalDefinition));

    /// <summary>The per-CPU variables the region begins declared in source write: methods of a begin's kernel name, or marked <c>[PreemptibleHypercallBegin]</c>.</summary>
    private ImmutableHashSet<ISymbol> LearnStateVariables()
    {
        var learned = ImmutableHashSet.CreateBuilder<ISymbol>(SymbolEqualityComparer.Default);
        if (_compilation is null)
            return learned.ToImmutable();
        var names = new HashSet<string>(KernelApi.Names.Where(n => KernelApi.Lookup(n).Region == RegionOperation.Begin), StringComparer.Ordinal);
        names.UnionWith(MethodsDeclaredWithAttribute(_compilation, KernelAttributes.PreemptibleHypercallBegin));
        foreach (var name in names.OrderBy(n => n, StringComparer.Ordinal))
        {
            foreach (var begin in _compilation.GetSymbolsWithName(name, SymbolFilter.Member).OfType<IMethodSymbol>())
            {
                if (begin.Name == name && (KernelApi.Lookup(name).Region == RegionOperation.Begin || KernelAttributes.Has(begin, KernelAttributes.PreemptibleHypercallBegin)))
                    learned.UnionWith(_summaries.PerCpuVariablesWritten(begin).Select(v => v.OriginalDefinition));
            }
        }
        return learned.ToImmutable();
    }

    /// <summary>
    /// The names of source methods carrying an attribute of this short name, read from declarations only (types and
    /// their members, never a body), as the analyzer's pre-filter reads them: cheap even on a large project.
    /// </summary>
    private static IEnumerable<string> MethodsDeclaredWithAttribute(Compilation compilation, string shortName)
    {
        foreach (var tree in compilation.SyntaxTrees)
        {
            var declarations = tree.GetRoot().DescendantNodes(node => node is CompilationUnitSyntax or BaseNamespaceDeclarationSyntax or TypeDeclarationSyntax);
            foreach (var method in declarations.OfType<MethodDeclarationSyntax>())
            {
                if (method.AttributeLists.SelectMany(list => list.Attributes).Any(a => AttributeShortName(a.Name) is { } n && (n == shortName || n == shortName + "Attribute")))
                    yield return method.Identifier.ValueText;
            }
        }
    }

    private static string? AttributeShortName(NameSyntax name) => name switch
    {
        QualifiedNameSyntax qualified => qualified.Right.Identifier.ValueText,
        AliasQualifiedNameSyntax alias => alias.Name.Identifier.ValueText,
        SimpleNameSyntax simple => simple.Identifier.ValueText,
        _ => null,
    };

    /// <summary>Attributes extend or override what the name says (docs/configuration.md).</summary>
    private static CallEffect ApplyAttributes(IMethodSymbol method, CallEffect effect)
    {
        foreach (var attribute in method.GetAttributes())
        {
            if (KernelAttributes.Matches(attribute, KernelAttributes.DisablesPreemption))
                effect = effect with { PreemptDelta = 1 };
            else if (KernelAttributes.Matches(attribute, KernelAttributes.EnablesPreemption))
                effect = effect with { PreemptDelta = -1 };
            else if (KernelAttributes.Matches(attribute, KernelAttributes.ConditionallyDisablesPreemption))
                effect = effect with { PreemptDelta = 0, DisablesPreemptionWhenReturns = KernelAttributes.BoolArgument(attribute, fallback: true) };
            else if (attribute.AttributeClass is { Name: "DoesNotReturnAttribute" })
                effect = effect with { NeverReturns = true };
            else if (KernelAttributes.Matches(attribute, KernelAttributes.RequiresPreemptDisabled))
                effect = effect with { RequiresPreemptDisabled = true };
            else if (KernelAttributes.Matches(attribute, KernelAttributes.PreemptibleHypercallBegin))
                effect = effect with { Region = RegionOperation.Begin };
            else if (KernelAttributes.Matches(attribute, KernelAttributes.PreemptibleHypercallEnd))
                effect = effect with { Region = RegionOperation.End };
            else if (KernelAttributes.Matches(attribute, KernelAttributes.Hypercall))
                effect = effect with { Region = RegionOperation.Hypercall };
            else if (KernelAttributes.Matches(attribute, KernelAttributes.Patchable))
            {
                // A patchable member is its raw variant behind a static call: where the raw one is a known
                // kernel name (_cond_resched → __cond_resched), it inherits that one's family and kind of
                // scheduling point; otherwise it is taken for an irq-exit reschedule.
                var raw = KernelAttributes.NamedString(attribute, "Raw") ?? effect.RawVariant;
                var rawEffect = raw is null ? CallEffect.None : KernelApi.Lookup(raw);
                effect = effect with
                {
                    Patchable = effect.Patchable != PatchFamily.NotPatchable ? effect.Patchable
                        : rawEffect.RawOf != PatchFamily.NotPatchable ? rawEffect.RawOf : PatchFamily.IrqExitReschedule,
                    RawVariant = raw,
                    Reschedule = effect.Reschedule != ReschedulePoint.NotAPoint ? effect.Reschedule
                        : rawEffect.Reschedule != ReschedulePoint.NotAPoint ? rawEffect.Reschedule : ReschedulePoint.IrqExit,
                };
            }
        }
        return effect;
    }

    private static CallEffect WithResultFromSignature(CallEffect configured, IMethodSymbol method) =>
        configured.PerCpu != PerCpuAccess.NotPerCpu && !method.ReturnsVoid && configured.Result == CallResult.Ordinary
            ? configured with { Result = CallResult.PerCpuValue }
            : configured;
}
