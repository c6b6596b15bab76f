// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace XenPreemptAnalyzers.Tests.Reliability;

/// <summary>What a person does to a file between two keystrokes that the compiler sees.</summary>
internal enum EditKind
{
    /// <summary>The file ends at (or inside) a token: typing at the end of a file.</summary>
    TruncateFile,
    /// <summary>The rest of a line from (or inside) a token is gone: typing in the middle of a file.</summary>
    TruncateLine,
    DeleteToken,
    DuplicateToken,
    /// <summary>An opening or closing brace, parenthesis, bracket or angle bracket without its partner.</summary>
    UnbalanceBrace,
    /// <summary>Half a generic argument list after a name: <c>Foo&lt;</c>, <c>Foo&lt;int</c>, <c>Foo&lt;T,</c>.</summary>
    HalfGeneric,
    /// <summary>A preprocessor line without its partner: <c>#if CONFIG_PREEMPT</c> with no <c>#endif</c>, a stray <c>#else</c>.</summary>
    DanglingDirective,
    /// <summary>A kernel call or statement typed in, often unfinished: <c>preempt_disable(</c>, <c>goto out;</c>.</summary>
    TypeKernelFragment,
}

/// <summary>One edit: its kind, where (a token index, modulo the token count) and which variant (modulo the variants).</summary>
internal readonly record struct Edit(EditKind Kind, int Where, int Variant);

/// <summary>Applies <see cref="Edit"/>s to source text at token boundaries and describes what they did.</summary>
internal static class TypingEdits
{
    private static readonly string[] Braces = { "{", "}", "(", ")", "[", "]", "<", ">" };

    private static readonly string[] GenericHalves = { "<", "<int", "<T,", "<List<int>", "<>", "<int>(" };

    private static readonly string[] Directives =
    {
        "#if CONFIG_PREEMPT", "#if !CONFIG_PREEMPTION", "#else", "#endif", "#elif CONFIG_PREEMPT_DYNAMIC",
        "#region", "#endregion", "#define CONFIG_PREEMPT", "#if", "#pragma warning disable XPA0001",
    };

    private static readonly string[] KernelFragments =
    {
        "preempt_disable();", "preempt_enable();", "preempt_disable(", "__this_cpu_write(", "__this_cpu_read(xen_in_preemptible_hcall)",
        "smp_processor_id()", "int cpu = smp_processor_id();", "xen_preemptible_hcall_begin();", "xen_preemptible_hcall_end();",
        "irqentry_exit_cond_resched();", "raw_irqentry_exit_cond_resched();", "cond_resched();", "schedule();", "might_sleep();",
        "local_irq_disable();", "local_irq_enable();", "var flags = local_irq_save();", "local_irq_restore(flags);",
        "migrate_disable();", "migrate_enable();", "get_cpu();", "put_cpu();", "return;", "goto out;", "out:", "throw null;",
        "try {", "} finally {", "if (need_resched())", "while (true)", "=>", "yield return 0;", "await ", "?.", "static void f() {",
        "[ProcessContext]", "[IrqContext]", "privcmd_call(", "restore_inhcall(", "bool inhcall = get_and_clear_inhcall();",
    };

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    /// <summary>The edited text and one line per edit saying what it did, in terms of the text it was applied to.</summary>
    public static (string Text, IReadOnlyList<string> Steps) Apply(string text, IEnumerable<Edit> edits)
    {
        var steps = new List<string>();
        foreach (var edit in edits)
        {
            var (next, step) = ApplyOne(text, edit);
            text = next;
            steps.Add(step);
        }
        return (text, steps);
    }

    private static (string Text, string Step) ApplyOne(string text, Edit edit)
    {
        var tokens = CSharpSyntaxTree.ParseText(text, ParseOptions).GetRoot().DescendantTokens()
            .Where(t => !t.IsKind(SyntaxKind.EndOfFileToken)).ToArray();
        if (tokens.Length == 0)
            return (Pick(KernelFragments, edit.Variant) + text, $"{edit.Kind} on a file without tokens: typed '{Pick(KernelFragments, edit.Variant)}'");
        var index = (int)((uint)edit.Where % (uint)tokens.Length);
        var token = tokens[index];
        var lines = SourceText.From(text).Lines;
        var where = $"line {lines.GetLinePosition(token.SpanStart).Line + 1} at '{Shorten(token.Text)}'";
        var inside = token.SpanStart + (int)((uint)edit.Variant % (uint)(token.Span.Length + 1));

        switch (edit.Kind)
        {
            case EditKind.TruncateFile:
                return (text[..inside], $"truncate the file {inside - token.SpanStart} characters into {where}");
            case EditKind.TruncateLine:
            {
                var lineEnd = lines.GetLineFromPosition(inside).End;
                return (text[..inside] + text[lineEnd..], $"delete the rest of the line {inside - token.SpanStart} characters into {where}");
            }
            case EditKind.DeleteToken:
                return (text[..token.SpanStart] + text[token.Span.End..], $"delete the token {where}");
            case EditKind.DuplicateToken:
                return (text[..token.Span.End] + " " + token.Text + text[token.Span.End..], $"duplicate the token {where}");
            case EditKind.UnbalanceBrace:
            {
                var brace = Pick(Braces, edit.Variant);
                return (text[..token.SpanStart] + brace + text[token.SpanStart..], $"insert '{brace}' before {where}");
            }
            case EditKind.HalfGeneric:
            {
                // After the nearest name at or after the chosen token.
                var name = tokens.Skip(index).FirstOrDefault(t => t.IsKind(SyntaxKind.IdentifierToken));
                if (name == default)
                    name = token;
                var half = Pick(GenericHalves, edit.Variant);
                return (text[..name.Span.End] + half + text[name.Span.End..],
                    $"type '{half}' after '{Shorten(name.Text)}' on line {lines.GetLinePosition(name.SpanStart).Line + 1}");
            }
            case EditKind.DanglingDirective:
            {
                var lineStart = lines.GetLineFromPosition(token.SpanStart).Start;
                var directive = Pick(Directives, edit.Variant);
                return (text[..lineStart] + directive + "\n" + text[lineStart..], $"insert the line '{directive}' before {where}");
            }
            case EditKind.TypeKernelFragment:
            {
                var fragment = Pick(KernelFragments, edit.Variant);
                return (text[..token.SpanStart] + fragment + " " + text[token.SpanStart..], $"type '{fragment}' before {where}");
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(edit), edit.Kind, null);
        }
    }

    /// <summary>The lines of <paramref name="edited"/> that differ from <paramref name="original"/>, with two lines of context, at most <paramref name="maxLines"/>.</summary>
    public static string ChangedRegion(string original, string edited, int maxLines = 40)
    {
        var before = original.Split('\n');
        var after = edited.Split('\n');
        var top = 0;
        while (top < before.Length && top < after.Length && before[top] == after[top])
            top++;
        var bottom = 0;
        while (bottom < before.Length - top && bottom < after.Length - top && before[^(bottom + 1)] == after[^(bottom + 1)])
            bottom++;
        var from = Math.Max(0, top - 2);
        var to = Math.Min(after.Length, after.Length - bottom + 2);
        var builder = new StringBuilder();
        for (var i = from; i < to && i < from + maxLines; i++)
            builder.Append($"{i + 1,5}| {after[i].TrimEnd('\r')}\n");
        if (to - from > maxLines)
            builder.Append($"      … {to - from - maxLines} more changed lines\n");
        return builder.ToString();
    }

    private static string Pick(string[] choices, int variant) => choices[(int)((uint)variant % (uint)choices.Length)];

    private static string Shorten(string text) => text.Length <= 40 ? text.Replace("\n", "\\n", StringComparison.Ordinal) : text[..37].Replace("\n", "\\n", StringComparison.Ordinal) + "...";
}
