using System;
using Microsoft.CodeAnalysis;

namespace XenPreemptAnalyzers.Infrastructure;

/// <summary>An analyzer action failed; the message says which rule, file and line, so an AD0001 report is actionable.</summary>
public sealed class PreemptAnalyzerException : Exception
{
    public PreemptAnalyzerException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>
/// Wraps every analyzer action (vs-threading's DebuggableWrapper idea): cancellation passes through,
/// any other exception is rethrown naming the rule (or stage), the file and the line it happened on.
/// </summary>
internal static class AnalyzerGuard
{
    /// <summary>
    /// Test-only hook, called before each rule runs with the rule id and the analysed symbol; a test sets
    /// it (through InternalsVisibleTo) to provoke a failure and check the message.
    /// </summary>
    internal static Action<string, ISymbol?>? BeforeRule;

    public static void Run(string stage, SyntaxNode? where, ISymbol? symbol, Action action)
    {
        try
        {
            action();
        }
        catch (Exception exception) when (exception is not OperationCanceledException and not PreemptAnalyzerException)
        {
            throw new PreemptAnalyzerException(Describe(stage, where, symbol, exception), exception);
        }
    }

    private static string Describe(string stage, SyntaxNode? where, ISymbol? symbol, Exception exception)
    {
        var place = "unknown location";
        if (where is not null)
        {
            var span = where.GetLocation().GetLineSpan();
            var line = span.StartLinePosition.Line + 1;
            var column = span.StartLinePosition.Character + 1;
            place = $"{span.Path}({line},{column})";
        }
        var member = symbol is null ? "" : $" in '{symbol.ToDisplayString()}'";
        return $"XenPreemptAnalyzers {stage} failed at {place}{member}: {exception.GetType().FullName}: {exception.Message}";
    }
}
