using System.Collections.Concurrent;
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
    private readonly System.Func<SyntaxTree, AnalyzerSettings> _settingsOf;
    private readonly Compilation? _compilation;

    public CallClassifier(System.Func<SyntaxTree, AnalyzerSettings> settingsOf, Compilation? compilation = null)
    {
        _settingsOf = settingsOf;
        _compilation = compilation;
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
    public static string? CalleeName(InvocationExpressionSyntax call) => HelperSummary.CalleeName(call);

    private CallEffect ClassifyUncached(IMethodSymbol method)
    {
        var effect = ApplyAttributes(method, KernelApi.Lookup(method.Name));
        if (effect.IsNone)
            effect = HelperSummary.Summarize(method, _settingsOf);
        else
            effect = WithCheckedAccessInside(method, effect with { Name = method.Name });
        if (effect.Region != RegionOperation.Begin)
            return effect;
        var compiledOut = MethodBodies.IsCompiledOutStub(method);
        return compiledOut || UsesPerTaskMember(method) ? effect with { NoPerCpuRegionState = true, CompiledOut = compiledOut } : effect;
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
        var body = HelperSummary.Summarize(method, _settingsOf);
        return body.PerCpu == PerCpuAccess.Checked ? effect with { PerCpu = PerCpuAccess.Checked, Via = body.Via } : effect;
    }

    /// <summary>
    /// A port's test of the preemptible-hypercall state (a source method named after it) that reads per-CPU storage:
    /// its body uses no per-task member (thread flag, <c>[PerTask]</c>) and reads something through a per-CPU accessor.
    /// </summary>
    public bool IsPerCpuStateTest(IMethodSymbol method)
    {
        if (method.DeclaringSyntaxReferences.Length != 1 || UsesPerTaskMember(method))
            return false;
        var body = method.DeclaringSyntaxReferences[0].GetSyntax(CancellationToken.None);
        return body.DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Any(call => HelperSummary.CalleeName(call) is { } name && KernelApi.Lookup(name).PerCpu is not PerCpuAccess.NotPerCpu);
    }

    /// <summary>Is <paramref name="symbol"/> (a field or property) the per-CPU variable a preemptible-hypercall region sets?</summary>
    public bool IsHypercallStateVariable(ISymbol symbol, AnalyzerSettings settings) => symbol.Name == KernelApi.HypercallStateName;

    /// <summary>The kernel's per-task thread-flag API (include/linux/thread_info.h).</summary>
    private static readonly System.Collections.Generic.HashSet<string> ThreadFlagFunctions = new(System.StringComparer.Ordinal)
    {
        "set_thread_flag", "clear_thread_flag", "test_thread_flag", "test_and_set_thread_flag", "test_and_clear_thread_flag",
    };

    /// <summary>
    /// Does the source body of <paramref name="method"/> call the thread-flag API, or name a <c>[PerTask]</c> field or property of this
    /// compilation (a thread flag, a task member)? Then the region state it sets belongs to the task.
    /// Resolved by name, without a semantic model: a name is per-task if every source member so named is.
    /// The name overload of GetSymbolsWithName uses the declaration table's index; the predicate overload would
    /// build the members of every type in the project (in the editor, on every new compilation).
    /// </summary>
    private bool UsesPerTaskMember(IMethodSymbol method, int depth = 1)
    {
        if (_compilation is null || method.DeclaringSyntaxReferences.Length != 1)
            return false;
        var body = method.DeclaringSyntaxReferences[0].GetSyntax(CancellationToken.None);
        // set/clear/test_thread_flag(TIF_…) act on the current task's thread_info by definition.
        var callees = body.DescendantNodes().OfType<InvocationExpressionSyntax>().Select(HelperSummary.CalleeName).OfType<string>().Distinct().ToList();
        if (callees.Any(ThreadFlagFunctions.Contains))
            return true;
        foreach (var name in body.DescendantNodes().OfType<IdentifierNameSyntax>().Select(n => n.Identifier.ValueText).Distinct())
        {
            var members = _compilation.GetSymbolsWithName(name, SymbolFilter.Member)
                .Where(m => m.Kind is SymbolKind.Field or SymbolKind.Property)
                .ToList();
            if (members.Count > 0 && members.All(m => KernelAttributes.Has(m, KernelAttributes.PerTask)))
                return true;
        }
        // One level of see-through, as for helper summaries: a begin that calls its setter (june 2023's
        // xen_preemptible_hcall_set(true)) keeps the state where the setter does.
        if (depth == 0)
            return false;
        foreach (var callee in callees)
        {
            var methods = _compilation.GetSymbolsWithName(callee, SymbolFilter.Member).OfType<IMethodSymbol>().ToList();
            if (methods.Count > 0 && methods.All(m => UsesPerTaskMember(m, depth - 1)))
                return true;
        }
        return false;
    }

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

    /// <summary>
    /// One level of see-through: a source helper whose body calls recognised primitives unconditionally
    /// (not under a branch, loop or try) acts as their sum. Only the name table and configured names are
    /// consulted, never another summary, so this cannot recurse.
    /// </summary>
    private static class HelperSummary
    {
        // seeGuards: also sum the constructors of the scope guards the body creates (a factory such as guard_preempt());
        // false for those constructors themselves, so summaries stay one level deep.
        public static CallEffect Summarize(IMethodSymbol method, System.Func<SyntaxTree, AnalyzerSettings> settingsOf, bool seeGuards = true)
        {
            if (method.DeclaringSyntaxReferences.Length != 1 || method.IsAbstract || method.IsExtern)
                return CallEffect.None;
            var declaration = method.DeclaringSyntaxReferences[0].GetSyntax(CancellationToken.None);
            SyntaxNode? body = declaration switch
            {
                BaseMethodDeclarationSyntax m => (SyntaxNode?)m.Body ?? m.ExpressionBody,
                LocalFunctionStatementSyntax f => (SyntaxNode?)f.Body ?? f.ExpressionBody,
                _ => null,
            };
            if (body is null)
                return CallEffect.None;

            if (HasStatementLevelBranches(body))
                return CallEffect.None;

            var settings = settingsOf(declaration.SyntaxTree);
            // A helper with a declared entry context is checked in its own right: its callers need only its net effect.
            var checkedItself = KernelAttributes.Has(method, KernelAttributes.ProcessContext) || KernelAttributes.Has(method, KernelAttributes.IrqContext);
            var sum = new CallEffect { Name = method.Name, IsSummary = true };
            int preempt = 0, migrate = 0;
            var irq = IrqOperation.Unchanged;
            foreach (var call in body.DescendantNodes(descendIntoChildren: n => !IsNestedFunction(n)))
            {
                CallEffect primitive;
                if (call is InvocationExpressionSyntax invocation && CalleeName(invocation) is { } name)
                    primitive = settings.ConfiguredNames.TryGetValue(name, out var configured) ? configured : KernelApi.Lookup(name);
                else if (call is BaseObjectCreationExpressionSyntax creation && seeGuards)
                    primitive = GuardCreated(method, creation, settingsOf);
                else
                    continue;
                if (primitive.IsNone)
                    continue;
                if (IsConditional(call, body))
                    return CallEffect.None;
                var atomic = preempt > 0 || migrate > 0 || irq is IrqOperation.Disable or IrqOperation.Save || checkedItself;
                sum = Accumulate(sum, primitive, atomic);
                preempt += primitive.PreemptDelta;
                migrate += primitive.MigrateDelta;
                irq = NetIrq(irq, primitive.Irq);
            }
            var net = sum with { PreemptDelta = preempt, MigrateDelta = migrate, Irq = irq };
            return net.IsNone || net.Via is null ? CallEffect.None : net;
        }

        /// <summary>
        /// <c>static PreemptGuard guard_preempt() => new PreemptGuard();</c>: a factory returns the guard its body creates.
        /// The guard type is the method's return type (no semantic model is needed): its constructor with that many
        /// arguments, summarised, is what the factory does.
        /// </summary>
        private static CallEffect GuardCreated(IMethodSymbol factory, BaseObjectCreationExpressionSyntax creation, System.Func<SyntaxTree, AnalyzerSettings> settingsOf)
        {
            if (factory.ReturnType is not INamedTypeSymbol guard
                || (creation is ObjectCreationExpressionSyntax { Type: var type } && SimpleTypeName(type) != guard.Name))
                return CallEffect.None;
            var arguments = creation.ArgumentList?.Arguments.Count ?? 0;
            var constructors = guard.InstanceConstructors.Where(c => c.Parameters.Length == arguments).ToList();
            if (constructors.Count != 1)
                return CallEffect.None;
            var constructed = Summarize(constructors[0], settingsOf, seeGuards: false);
            return constructed.IsNone ? constructed : constructed with { Name = constructed.Via ?? constructed.Name };
        }

        private static string? SimpleTypeName(TypeSyntax type) => type switch
        {
            QualifiedNameSyntax qualified => qualified.Right.Identifier.ValueText,
            SimpleNameSyntax simple => simple.Identifier.ValueText,
            _ => null,
        };

        /// <summary>
        /// The IRQ operation a caller sees after <paramref name="soFar"/> then <paramref name="next"/>: a save undone by a
        /// restore (or a disable by an enable) is nothing; a release alone (a scope guard's <c>Dispose</c> calling
        /// <c>local_irq_restore</c>) is that release.
        /// </summary>
        private static IrqOperation NetIrq(IrqOperation soFar, IrqOperation next) => next switch
        {
            IrqOperation.Disable => IrqOperation.Disable,
            IrqOperation.Save => soFar == IrqOperation.Unchanged ? IrqOperation.Save : IrqOperation.Disable,
            IrqOperation.Enable => soFar is IrqOperation.Disable or IrqOperation.Save ? IrqOperation.Unchanged : IrqOperation.Enable,
            IrqOperation.Restore => soFar is IrqOperation.Disable or IrqOperation.Save ? IrqOperation.Unchanged : IrqOperation.Restore,
            _ => soFar,
        };

        /// <summary>Adds what a caller must know of one primitive, unless the helper itself made it safe.</summary>
        private static CallEffect Accumulate(CallEffect sum, CallEffect primitive, bool atomicInHelper)
        {
            if (!atomicInHelper && primitive.Reschedule is ReschedulePoint.Explicit or ReschedulePoint.ExplicitVoluntaryOnly && sum.Reschedule == ReschedulePoint.NotAPoint)
                sum = sum with { Reschedule = primitive.Reschedule, Via = sum.Via ?? primitive.Name };
            if (!atomicInHelper && primitive.PerCpu == PerCpuAccess.Checked && sum.PerCpu == PerCpuAccess.NotPerCpu)
                sum = sum with { PerCpu = PerCpuAccess.Checked, Via = sum.Via ?? primitive.Name };
            if (primitive.Region is RegionOperation.Begin or RegionOperation.End or RegionOperation.Hypercall)
                sum = sum with { Region = primitive.Region, Via = sum.Via ?? primitive.Name };
            if ((primitive.PreemptDelta != 0 || primitive.MigrateDelta != 0 || primitive.Irq != IrqOperation.Unchanged) && sum.Via is null)
                sum = sum with { Via = primitive.Name };
            return sum;
        }

        private static bool IsNestedFunction(SyntaxNode node) =>
            node is AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax;

        /// <summary>Only straight-line helpers are summarised: a branch makes "the body's effect" path-dependent.</summary>
        private static bool HasStatementLevelBranches(SyntaxNode body)
        {
            foreach (var node in body.DescendantNodes(descendIntoChildren: n => !IsNestedFunction(n)))
            {
                if (node is IfStatementSyntax or SwitchStatementSyntax or WhileStatementSyntax or DoStatementSyntax
                    or ForStatementSyntax or CommonForEachStatementSyntax or TryStatementSyntax or GotoStatementSyntax
                    or LabeledStatementSyntax or ThrowStatementSyntax or YieldStatementSyntax or BreakStatementSyntax
                    or ContinueStatementSyntax)
                    return true;
                if (node is ReturnStatementSyntax ret && ret.Parent is BlockSyntax block && block.Statements.Last() != ret)
                    return true;
            }
            return false;
        }

        /// <summary>Is the call reached only on some paths through the helper's body?</summary>
        private static bool IsConditional(SyntaxNode call, SyntaxNode body)
        {
            for (var node = call.Parent; node is not null && node != body; node = node.Parent)
            {
                switch (node)
                {
                    case IfStatementSyntax or SwitchStatementSyntax or SwitchExpressionSyntax or ConditionalExpressionSyntax
                        or ConditionalAccessExpressionSyntax or WhileStatementSyntax or DoStatementSyntax or ForStatementSyntax
                        or CommonForEachStatementSyntax or TryStatementSyntax or CatchClauseSyntax or FinallyClauseSyntax
                        or GotoStatementSyntax or LabeledStatementSyntax:
                        return true;
                    case BinaryExpressionSyntax binary when binary.IsKind(SyntaxKind.LogicalAndExpression)
                        || binary.IsKind(SyntaxKind.LogicalOrExpression) || binary.IsKind(SyntaxKind.CoalesceExpression):
                        return true;
                }
            }
            return false;
        }

        public static string? CalleeName(InvocationExpressionSyntax call) => call.Expression switch
        {
            IdentifierNameSyntax id => id.Identifier.ValueText,
            GenericNameSyntax generic => generic.Identifier.ValueText,
            MemberAccessExpressionSyntax member => member.Name.Identifier.ValueText,
            MemberBindingExpressionSyntax binding => binding.Name.Identifier.ValueText,
            _ => null,
        };
    }
}
