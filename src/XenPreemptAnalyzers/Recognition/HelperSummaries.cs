// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace XenPreemptAnalyzers.Recognition;

/// <summary>
/// The one mechanism that sees through source helpers (docs/design.md, "Summaries"), for the analyzers and the code
/// fixes alike. <see cref="Depth"/> is how many levels of source bodies are read: 1 is the helper's own body, 2 also
/// the bodies of the source helpers it calls (a begin that calls its setter, as the June 2023 patch's
/// <c>xen_preemptible_hcall_begin()</c> calls <c>xen_preemptible_hcall_set(true)</c>), and so on. Callees are found by
/// name in the compilation's declaration index, without a semantic model; a name that several methods share is not
/// followed.
/// </summary>
internal sealed class HelperSummaries
{
    /// <summary>Two levels: the helper and the helpers it calls (docs/design.md, "Summaries").</summary>
    public const int DefaultDepth = 2;

    /// <summary>The kernel's per-task thread-flag API (include/linux/thread_info.h).</summary>
    private static readonly HashSet<string> ThreadFlagFunctions = new(StringComparer.Ordinal)
    {
        "set_thread_flag", "clear_thread_flag", "test_thread_flag", "test_and_set_thread_flag", "test_and_clear_thread_flag",
    };

    private readonly Compilation? _compilation;
    private readonly Func<SyntaxTree, AnalyzerSettings> _settingsOf;

    public HelperSummaries(Compilation? compilation, Func<SyntaxTree, AnalyzerSettings> settingsOf, int depth = DefaultDepth)
    {
        if (depth < 1)
            throw new ArgumentOutOfRangeException(nameof(depth), depth, "A summary reads at least the helper's own body.");
        _compilation = compilation;
        _settingsOf = settingsOf;
        Depth = depth;
    }

    public int Depth { get; }

    /// <summary>The simple name an invocation calls, read from syntax.</summary>
    public static string? CalleeName(InvocationExpressionSyntax call) => call.Expression switch
    {
        IdentifierNameSyntax id => id.Identifier.ValueText,
        GenericNameSyntax generic => generic.Identifier.ValueText,
        MemberAccessExpressionSyntax member => member.Name.Identifier.ValueText,
        MemberBindingExpressionSyntax binding => binding.Name.Identifier.ValueText,
        _ => null,
    };

    /// <summary>
    /// A straight-line source helper (no branch, loop, try or early return) acts as the sum of the recognised calls in
    /// it: its net effect on the counts and IRQs, the first scheduling point or checked per-CPU access not made safe
    /// inside it, its region role. A call that is not recognised by name or list is summarised in turn while the depth
    /// lasts; so are the constructors of the scope guards the body creates (a factory such as <c>guard_preempt()</c>).
    /// </summary>
    public CallEffect Summarize(IMethodSymbol method) => Summarize(method, Depth, seeGuards: true, ImmutableHashSet<string>.Empty);

    // callers: the names of the helpers whose summaries are being computed around this one (see CalleeSummary).
    private CallEffect Summarize(IMethodSymbol method, int depth, bool seeGuards, ImmutableHashSet<string> callers)
    {
        callers = callers.Add(method.Name);
        if (BodyOf(method) is not { } body || HasStatementLevelBranches(body))
            return CallEffect.None;

        var settings = _settingsOf(body.SyntaxTree);
        // A helper with a declared entry context is checked in its own right: its callers need only its net effect.
        var checkedItself = KernelAttributes.Has(method, KernelAttributes.ProcessContext) || KernelAttributes.Has(method, KernelAttributes.IrqContext);
        var sum = new CallEffect { Name = method.Name, IsSummary = true };
        int preempt = 0, migrate = 0;
        var irq = IrqOperation.Unchanged;
        foreach (var call in body.DescendantNodes(descendIntoChildren: n => !IsNestedFunction(n)))
        {
            CallEffect primitive;
            if (call is InvocationExpressionSyntax invocation && CalleeName(invocation) is { } name)
                primitive = ByName(name, settings) is { IsNone: false } known ? known : CalleeSummary(name, method, depth - 1, callers);
            else if (call is BaseObjectCreationExpressionSyntax creation && seeGuards)
                primitive = GuardCreated(method, creation, depth, callers);
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

    private static CallEffect ByName(string name, AnalyzerSettings settings) =>
        settings.ConfiguredNames.TryGetValue(name, out var configured) ? configured : KernelApi.Lookup(name);

    /// <summary>
    /// A callee known by nothing but its body, summarised while the depth lasts. A callee with a contract attribute says
    /// what it does itself and is not looked into; nor is one that calls back into a helper being summarised (mutual
    /// recursion has no straight-line sum: cut anywhere, it would count one side and not the other). Named for what it
    /// wraps, so messages name the primitive reached.
    /// </summary>
    private CallEffect CalleeSummary(string name, IMethodSymbol caller, int depth, ImmutableHashSet<string> callers)
    {
        if (depth < 1 || callers.Contains(name) || SourceMethodNamed(name) is not { } callee || SymbolEqualityComparer.Default.Equals(callee, caller)
            || DeclaresEffect(callee) || CallsAnyOf(callee, callers))
            return CallEffect.None;
        var summary = Summarize(callee, depth, seeGuards: true, callers);
        return summary.IsNone ? summary : summary with { Name = summary.Via ?? summary.Name };
    }

    private static bool CallsAnyOf(IMethodSymbol method, ImmutableHashSet<string> names) =>
        BodyOf(method) is { } body
        && body.DescendantNodes().OfType<InvocationExpressionSyntax>().Any(call => CalleeName(call) is { } name && names.Contains(name));

    /// <summary>Attributes that say what a method does (the classifier applies them; its body is not the contract).</summary>
    private static readonly string[] EffectAttributes =
    {
        KernelAttributes.DisablesPreemption, KernelAttributes.EnablesPreemption, KernelAttributes.ConditionallyDisablesPreemption,
        KernelAttributes.RequiresPreemptDisabled, KernelAttributes.Patchable, KernelAttributes.PreemptibleHypercallBegin,
        KernelAttributes.PreemptibleHypercallEnd, KernelAttributes.Hypercall, KernelAttributes.NoPreemptAnalysis,
    };

    private static bool DeclaresEffect(IMethodSymbol method) =>
        EffectAttributes.Any(attribute => KernelAttributes.Has(method, attribute)) || method.GetAttributes().Any(a => a.AttributeClass?.Name == "DoesNotReturnAttribute");

    /// <summary>The one source method of this name with a body, or null (none, several, or no compilation).</summary>
    private IMethodSymbol? SourceMethodNamed(string name)
    {
        if (_compilation is null)
            return null;
        IMethodSymbol? found = null;
        foreach (var member in _compilation.GetSymbolsWithName(name, SymbolFilter.Member))
        {
            if (member is not IMethodSymbol { DeclaringSyntaxReferences.Length: 1 } method)
                continue;
            if (found is not null)
                return null;
            found = method;
        }
        return found;
    }

    /// <summary>
    /// <c>static PreemptGuard guard_preempt() => new PreemptGuard();</c>: a factory returns the guard its body creates.
    /// The guard type is the method's return type (no semantic model is needed): its constructor with that many
    /// arguments, summarised, is what the factory does. A constructor does not look further into guards.
    /// </summary>
    private CallEffect GuardCreated(IMethodSymbol factory, BaseObjectCreationExpressionSyntax creation, int depth, ImmutableHashSet<string> callers)
    {
        if (factory.ReturnType is not INamedTypeSymbol guard
            || (creation is ObjectCreationExpressionSyntax { Type: var type } && SimpleTypeName(type) != guard.Name))
            return CallEffect.None;
        var arguments = creation.ArgumentList?.Arguments.Count ?? 0;
        var constructors = guard.InstanceConstructors.Where(c => c.Parameters.Length == arguments).ToList();
        if (constructors.Count != 1)
            return CallEffect.None;
        var constructed = Summarize(constructors[0], depth, seeGuards: false, callers);
        return constructed.IsNone ? constructed : constructed with { Name = constructed.Via ?? constructed.Name };
    }

    /// <summary>
    /// Does the body of <paramref name="method"/> (or of a source helper it calls, within the depth) call the thread-flag
    /// API, or name a <c>[PerTask]</c> field or property of this compilation (a thread flag, a task member)? Then the
    /// region state it sets belongs to the task. Resolved by name, without a semantic model: a name is per-task if every
    /// source member so named is. The name overload of GetSymbolsWithName uses the declaration table's index; the
    /// predicate overload would build the members of every type in the project (in the editor, on every new compilation).
    /// </summary>
    public bool UsesPerTaskMember(IMethodSymbol method) => UsesPerTaskMember(method, Depth);

    private bool UsesPerTaskMember(IMethodSymbol method, int depth)
    {
        if (_compilation is null || DeclarationOf(method) is not { } body)
            return false;
        // set/clear/test_thread_flag(TIF_…) act on the current task's thread_info by definition.
        var callees = body.DescendantNodes().OfType<InvocationExpressionSyntax>().Select(CalleeName).OfType<string>().Distinct().ToList();
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
        if (depth <= 1)
            return false;
        foreach (var callee in callees)
        {
            var methods = _compilation.GetSymbolsWithName(callee, SymbolFilter.Member).OfType<IMethodSymbol>().ToList();
            if (methods.Count > 0 && methods.All(m => UsesPerTaskMember(m, depth - 1)))
                return true;
        }
        return false;
    }

    /// <summary>
    /// The per-CPU variables (source fields or properties) the body of <paramref name="method"/> writes through a per-CPU
    /// write accessor (<c>__this_cpu_write(xen_in_preemptible_hcall, true)</c>), in the order written, looking into the
    /// source helpers it calls within the depth (a setter such as June 2023's <c>xen_preemptible_hcall_set</c>).
    /// </summary>
    public ImmutableArray<ISymbol> PerCpuVariablesWritten(IMethodSymbol method) => PerCpuVariablesWritten(method, Depth);

    private ImmutableArray<ISymbol> PerCpuVariablesWritten(IMethodSymbol method, int depth)
    {
        if (_compilation is null || DeclarationOf(method) is not { } body)
            return ImmutableArray<ISymbol>.Empty;
        var settings = _settingsOf(body.SyntaxTree);
        var written = ImmutableArray.CreateBuilder<ISymbol>();
        var calls = body.DescendantNodes().OfType<InvocationExpressionSyntax>().ToList();
        foreach (var call in calls)
        {
            if (CalleeName(call) is not { } name || !ByName(name, settings).WritesPerCpuVariable || call.ArgumentList.Arguments.Count != 2)
                continue;
            if (VariableName(call.ArgumentList.Arguments[0].Expression) is { } variable)
                written.AddRange(SourceVariablesNamed(variable, method).Where(s => !written.Contains(s, SymbolEqualityComparer.Default)));
        }
        if (depth > 1)
        {
            foreach (var call in calls)
            {
                if (CalleeName(call) is { } name && ByName(name, settings).IsNone && SourceMethodNamed(name) is { } helper
                    && !SymbolEqualityComparer.Default.Equals(helper, method))
                    written.AddRange(PerCpuVariablesWritten(helper, depth - 1).Where(s => !written.Contains(s, SymbolEqualityComparer.Default)));
            }
        }
        return written.ToImmutable();
    }

    private static string? VariableName(ExpressionSyntax expression) => expression switch
    {
        IdentifierNameSyntax id => id.Identifier.ValueText,
        MemberAccessExpressionSyntax member => member.Name.Identifier.ValueText,
        ParenthesizedExpressionSyntax parenthesized => VariableName(parenthesized.Expression),
        _ => null,
    };

    /// <summary>Source fields and properties of that name; those of the writer's own type first, when it has one.</summary>
    private IEnumerable<ISymbol> SourceVariablesNamed(string name, IMethodSymbol writer)
    {
        var candidates = _compilation!.GetSymbolsWithName(name, SymbolFilter.Member)
            .Where(m => m.Kind is SymbolKind.Field or SymbolKind.Property && m.Locations.Any(l => l.IsInSource))
            .ToList();
        var own = candidates.Where(m => SymbolEqualityComparer.Default.Equals(m.ContainingType, writer.ContainingType)).ToList();
        return own.Count > 0 ? own : candidates;
    }

    private static SyntaxNode? DeclarationOf(IMethodSymbol method) =>
        method.DeclaringSyntaxReferences.Length == 1 ? method.DeclaringSyntaxReferences[0].GetSyntax(CancellationToken.None) : null;

    private static SyntaxNode? BodyOf(IMethodSymbol method)
    {
        if (method.IsAbstract || method.IsExtern || DeclarationOf(method) is not { } declaration)
            return null;
        return declaration switch
        {
            BaseMethodDeclarationSyntax m => (SyntaxNode?)m.Body ?? m.ExpressionBody,
            LocalFunctionStatementSyntax f => (SyntaxNode?)f.Body ?? f.ExpressionBody,
            _ => null,
        };
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
        // A helper that calls something that never returns (panic, do_exit), on its one path, never returns either.
        if (primitive.NeverReturns)
            sum = sum with { NeverReturns = true, Via = sum.Via ?? primitive.Name };
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
}
