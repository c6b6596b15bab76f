// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;
using System.IO;
using System.Linq;

namespace XenPreempt.Harness;

/// <summary>
/// Option builders that refuse bad values with one line naming the option and what it accepts
/// (System.CommandLine's own messages name neither the option nor the range), and the usage-error
/// exit for problems found after parsing.
/// </summary>
public static partial class Program
{
    /// <summary>Restricts an option's values to <paramref name="values"/>; help shows them as the value's name.</summary>
    internal static Option<T> OneOf<T>(Option<T> o, IReadOnlyList<string> values)
    {
        o.HelpName = string.Join('|', values);
        o.Validators.Add(r => RefuseOthers(r, o.Name, values));
        return o;
    }

    /// <summary>
    /// As <see cref="OneOf{T}(Option{T}, IReadOnlyList{string})"/>, for values that cost work to list (the
    /// port's variants need a build of the port): asked for only when the option is given, never for
    /// help or for another command.
    /// </summary>
    internal static Option<T> OneOf<T>(Option<T> o, Func<IReadOnlyList<string>> values, string helpName)
    {
        o.HelpName = helpName;
        o.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0)
                RefuseOthers(r, o.Name, values());
        });
        return o;
    }

    internal static Argument<string> OneOf(Argument<string> a, IReadOnlyList<string> values)
    {
        a.HelpName = string.Join('|', values);
        a.Validators.Add(r => RefuseOthers(r, "<" + a.Name + ">", values));
        return a;
    }

    private static void RefuseOthers(SymbolResult r, string name, IReadOnlyList<string> values)
    {
        foreach (var token in r.Tokens)
            if (!values.Contains(token.Value, StringComparer.Ordinal))
            {
                r.AddError($"{name}: '{token.Value}' is not accepted (one of: {string.Join(", ", values)})");
                return;
            }
    }

    /// <summary>An integer option in [min, max]; a value that is not a number or out of range is one error.</summary>
    internal static Option<int> IntOption(string name, string description, int defaultValue, int min, int max) =>
        Number(name, description, defaultValue, $"a whole number from {min} to {max}",
            s => int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max ? v : null);

    internal static Option<long> LongOption(string name, string description, long defaultValue, long min) =>
        Number(name, description, defaultValue, $"a whole number of at least {min.ToString(CultureInfo.InvariantCulture)}",
            s => long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) && v >= min ? v : null);

    internal static Option<ulong> SeedOption(string description, ulong defaultValue) =>
        Number("--seed", description, defaultValue, $"a whole number from 0 to {ulong.MaxValue.ToString(CultureInfo.InvariantCulture)}",
            s => ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong v) ? v : null);

    internal static Option<double> SecondsOption(string name, string description, double defaultValue) =>
        Number(name, description, defaultValue, "a positive number of seconds",
            s => double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v) ? v : null);

    private static Option<T> Number<T>(string name, string description, T defaultValue, string accepted, Func<string, T?> parse) where T : struct
    {
        var o = new Option<T>(name) { Description = description, DefaultValueFactory = _ => defaultValue, HelpName = "n" };
        o.CustomParser = r =>
        {
            if (r.Tokens.Count == 0)
                return defaultValue; // not given: the default (validators see it too)
            string text = r.Tokens[0].Value;
            if (parse(text) is T value)
                return value;
            r.AddError($"{name} must be {accepted} (got '{text}')");
            return defaultValue;
        };
        return o;
    }

    /// <summary>The optional form of <see cref="SeedOption"/>: absent means "no seed".</summary>
    internal static Option<ulong?> OptionalSeed(string description)
    {
        var o = new Option<ulong?>("--seed") { Description = description, HelpName = "n" };
        o.CustomParser = r =>
        {
            string text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
            if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong v))
                return v;
            r.AddError($"--seed must be a whole number from 0 to {ulong.MaxValue.ToString(CultureInfo.InvariantCulture)} (got '{text}')");
            return null;
        };
        return o;
    }

    /// <summary>--faults: names from <see cref="FaultOptions"/>, several or a comma list.</summary>
    internal static Option<string[]> FaultsOption()
    {
        var o = new Option<string[]>("--faults")
        {
            Description = "Faults to inject: " + string.Join("; ", FaultOptions.All.Where(f => !f.Hidden).Select(f => $"{f.Name} ({f.Description})")) + ".",
            AllowMultipleArgumentsPerToken = true,
            HelpName = string.Join('|', FaultOptions.ListedNames),
        };
        o.Validators.Add(r =>
        {
            if (!FaultOptions.TryParse(r.Tokens.Select(t => t.Value), out _, out string error))
                r.AddError("--faults: " + error);
        });
        return o;
    }

    internal static IReadOnlyList<string> ParseFaults(string[]? names) =>
        FaultOptions.TryParse(names ?? Array.Empty<string>(), out var faults, out _) ? faults : Array.Empty<string>();

    /// <summary>
    /// A usage error found after parsing (a file that cannot be read, a token that names nothing
    /// known): one line on stderr and the command's usage on stdout, as for a parse error; exit 1.
    /// </summary>
    internal static int UsageError(ParseResult pr, TextWriter stderr, string message)
    {
        stderr.WriteLine(message);
        new HelpAction().Invoke(pr);
        return ExitUsage;
    }
}
