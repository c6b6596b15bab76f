using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using XenPreemptAnalyzers.Flow;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Rules;

/// <summary>
/// XPA0001: (a) the per-CPU state set by a preemptible-hypercall region begin, relied on across a point
/// where the task may be switched; (b) a per-CPU value or CPU id cached in a local and used after one.
/// </summary>
internal sealed class Xpa0001PerCpuStateAcrossPreemption : PreemptRule
{
    public override DiagnosticDescriptor Descriptor => Descriptors.XPA0001;

    public override void Report(FlowResult result, Action<Diagnostic> report)
    {
        foreach (var group in result.Crossings.GroupBy(c => c.Begin))
        {
            var first = group.OrderBy(c => c.Point.Syntax.SpanStart).First();
            var begin = group.Key;
            var what = $"Per-CPU state set by '{CalleeName(begin)}' is relied on until the hypercall region ends";
            report(Diagnostic.Create(Descriptor, begin.Syntax.GetLocation(), additionalLocations: new[] { first.Point.Syntax.GetLocation() },
                Properties(result, (DiagnosticProperties.Finding, DiagnosticProperties.Write(CachedValueFinding.Region))), what, DescribePoint(first.Point, first.Involuntary), Model(result)));
        }

        ReportHandOffsWithoutClear(result, report);

        // One use reached over several paths (a switch whose arms hold different points) is one finding: the first point.
        var uses = result.StaleUses.GroupBy(s => s.Use).Select(g => g.OrderBy(s => s.Fact.CrossedAt!.Syntax.SpanStart).First());
        foreach (var stale in uses.OrderBy(s => s.Use.Syntax.SpanStart))
        {
            var fact = stale.Fact;
            var held = fact.Kind == LocalKind.CpuId ? "a CPU id" : "a per-CPU value";
            var source = fact.Source is IInvocationOperation or { Syntax: Microsoft.CodeAnalysis.CSharp.Syntax.InvocationExpressionSyntax } ? CalleeName(fact.Source) : fact.Source.Syntax.ToString();
            var point = fact.CrossedAt!;
            var involuntary = point is not IInvocationOperation crossing || !IsReschedulePoint(result, crossing);
            var what = $"'{fact.Local.Name}' holds {held} from '{source}' ({Line(fact.Source)}) and is used here";
            report(Diagnostic.Create(Descriptor, stale.Use.Syntax.GetLocation(), additionalLocations: new[] { point.Syntax.GetLocation() },
                Properties(result, (DiagnosticProperties.Finding, DiagnosticProperties.Write(CachedValueFinding.CachedValue)), (DiagnosticProperties.CachedLocal, fact.Local.Name),
                    (DiagnosticProperties.CachedFrom, fact.Source.Syntax.ToString())),
                what, DescribePoint(point, involuntary), Model(result)));
        }
    }

    /// <summary>
    /// In a hypercall preemption point (the upcall), a reschedule reached while a test found the per-CPU state set and
    /// nothing cleared it: the task is switched with the state left on this CPU, where the next task sees it.
    /// </summary>
    private void ReportHandOffsWithoutClear(FlowResult result, Action<Diagnostic> report)
    {
        if (!result.Entry.OnHypercallReschedulePath)
            return;
        foreach (var call in result.Calls)
        {
            if (call.Effect.Reschedule == ReschedulePoint.NotAPoint
                || call.Before.Select(s => s.PerCpuHypercallStateSetBy).FirstOrDefault(t => t is not null) is not { } test)
                continue;
            var what = $"Per-CPU preemptible-hypercall state found set at {Line(test)} is not cleared before the reschedule";
            report(Diagnostic.Create(Descriptor, call.Operation.Syntax.GetLocation(), additionalLocations: new[] { test.Syntax.GetLocation() },
                Properties(result, (DiagnosticProperties.Finding, DiagnosticProperties.Write(CachedValueFinding.HandOffWithoutClear))),
                what, DescribePoint(call.Operation, involuntary: false), Model(result)));
        }
    }

    private static bool IsReschedulePoint(FlowResult result, IInvocationOperation call)
    {
        var site = result.Calls.FirstOrDefault(c => c.Operation == call);
        return site is not null
            && (site.Effect.Reschedule != ReschedulePoint.NotAPoint || site.Effect.Region == RegionOperation.Hypercall);
    }
}
