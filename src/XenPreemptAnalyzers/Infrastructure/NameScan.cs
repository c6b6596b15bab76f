// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace XenPreemptAnalyzers.Infrastructure;

/// <summary>
/// A set of identifiers (exact names and name prefixes) looked up by a hash of the identifier's characters, so that a
/// scan of source text can test every identifier without making a string of it.
/// </summary>
internal sealed class NameSet
{
    private readonly Dictionary<ulong, string[]> _byHash = new();
    private readonly string[] _prefixes;

    public NameSet(IEnumerable<string> names, IEnumerable<string>? prefixes = null)
    {
        foreach (var name in names)
        {
            if (name.Length == 0)
                continue;
            var hash = NameScan.Hash(name);
            _byHash[hash] = _byHash.TryGetValue(hash, out var same) ? Append(same, name) : new[] { name };
        }
        _prefixes = prefixes is null ? Array.Empty<string>() : new List<string>(prefixes).ToArray();
    }

    /// <summary>Is the identifier <c>chars[start..start+length)</c>, whose <see cref="NameScan.Hash(char[], int, int)"/> is <paramref name="hash"/>, in the set?</summary>
    public bool Contains(char[] chars, int start, int length, ulong hash)
    {
        if (_byHash.TryGetValue(hash, out var candidates))
        {
            foreach (var candidate in candidates)
            {
                if (NameScan.SameChars(candidate, chars, start, length))
                    return true;
            }
        }
        foreach (var prefix in _prefixes)
        {
            if (length >= prefix.Length && NameScan.SameChars(prefix, chars, start, prefix.Length))
                return true;
        }
        return false;
    }

    public bool Contains(string name)
    {
        var chars = name.ToCharArray();
        return Contains(chars, 0, chars.Length, NameScan.Hash(chars, 0, chars.Length));
    }

    private static string[] Append(string[] names, string name)
    {
        if (Array.IndexOf(names, name) >= 0)
            return names;
        var longer = new string[names.Length + 1];
        names.CopyTo(longer, 0);
        longer[names.Length] = name;
        return longer;
    }
}

/// <summary>
/// One pass over source text that finds its identifiers the way the C# lexer spells them, without building tokens or
/// nodes: a cheap pre-check before any token walk. It looks at the whole text (comments, strings and disabled code
/// included), so it finds every identifier token's value and possibly more; it never finds fewer. Where the text may
/// spell an identifier in a way the scan cannot follow (a <c>\u</c> escape, a surrogate pair), it answers "found".
/// </summary>
internal static class NameScan
{
    private const ulong FnvOffset = 14695981039346656037;
    private const ulong FnvPrime = 1099511628211;
    private const int ChunkLength = 4096;

    [ThreadStatic]
    private static char[]? t_chunk;

    public static ulong Hash(string name)
    {
        var hash = FnvOffset;
        foreach (var c in name)
            hash = (hash ^ c) * FnvPrime;
        return hash;
    }

    public static ulong Hash(char[] chars, int start, int length)
    {
        var hash = FnvOffset;
        for (var i = start; i < start + length; i++)
            hash = (hash ^ chars[i]) * FnvPrime;
        return hash;
    }

    public static bool SameChars(string name, char[] chars, int start, int length)
    {
        if (name.Length != length)
            return false;
        for (var i = 0; i < length; i++)
        {
            if (name[i] != chars[start + i])
                return false;
        }
        return true;
    }

    /// <summary>Does the text name an identifier of <paramref name="names"/>?</summary>
    public static bool Mentions(SourceText text, NameSet names, CancellationToken cancellationToken) =>
        Scan(text, new TextSpan(0, text.Length), names, called: null, cancellationToken);

    /// <summary>
    /// Does <paramref name="span"/> of the text name an identifier of <paramref name="names"/>? If not, and
    /// <paramref name="called"/> is given, it receives each distinct identifier that may name an invoked method: one
    /// followed by <c>(</c> or <c>&lt;</c> (after white space), or by a comment or directive (which the scan does not
    /// look through).
    /// </summary>
    public static bool Scan(SourceText text, TextSpan span, NameSet names, CalledNames? called, CancellationToken cancellationToken)
    {
        var chunk = t_chunk ??= new char[ChunkLength];
        var identifier = new IdentifierBuffer();
        var identifierStart = 0;
        var identifierHasFormatting = false;
        var awaitingFollower = false;
        var previousWasBackslash = false;
        for (var chunkStart = span.Start; chunkStart < span.End; chunkStart += ChunkLength)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(ChunkLength, span.End - chunkStart);
            text.CopyTo(chunkStart, chunk, 0, count);
            for (var i = 0; i < count; i++)
            {
                var c = chunk[i];
                // A \u escape can spell any identifier (\u0073chedule); a surrogate pair is a character the per-char
                // classification below cannot judge. Either way the scan cannot rule the text out.
                if ((previousWasBackslash && (c == 'u' || c == 'U')) || char.IsSurrogate(c))
                    return true;
                previousWasBackslash = c == '\\';

                var kind = Classify(c);
                if (kind == CharKind.IdentifierPart)
                {
                    if (awaitingFollower)
                    {
                        awaitingFollower = false;
                        identifier.Clear();
                    }
                    if (identifier.Length == 0)
                    {
                        identifierStart = chunkStart + i;
                        identifierHasFormatting = false;
                    }
                    identifier.Add(c);
                    continue;
                }
                if (kind == CharKind.Formatting)
                {
                    // Inside an identifier the lexer leaves formatting characters out of its value.
                    identifierHasFormatting |= identifier.Length > 0;
                    continue;
                }
                if (identifier.Length > 0 && !awaitingFollower)
                {
                    if (IsNamed(identifier, names))
                        return true;
                    if (called is null)
                    {
                        identifier.Clear();
                        continue;
                    }
                    awaitingFollower = true;
                }
                if (awaitingFollower)
                {
                    if (SyntaxFacts.IsWhitespace(c) || SyntaxFacts.IsNewLine(c))
                        continue;
                    if (c is '(' or '<' or '/' or '#')
                        AddCalled(identifier, identifierStart, identifierHasFormatting, called!);
                    awaitingFollower = false;
                    identifier.Clear();
                }
            }
        }
        if (identifier.Length > 0 && !awaitingFollower && IsNamed(identifier, names))
            return true;
        // An identifier that ends the span: whether it is called is decided by what follows the span.
        if (identifier.Length > 0 && called is not null && FollowedByCall(text, span.End))
            AddCalled(identifier, identifierStart, identifierHasFormatting, called);
        return false;
    }

    private static bool FollowedByCall(SourceText text, int position)
    {
        for (var i = position; i < text.Length; i++)
        {
            var c = text[i];
            if (SyntaxFacts.IsWhitespace(c) || SyntaxFacts.IsNewLine(c))
                continue;
            return c is '(' or '<' or '/' or '#';
        }
        return false;
    }

    /// <summary>
    /// The identifier, or, for a run that starts with a digit (a number, which the lexer may end where a letter begins:
    /// <c>1schedule</c>, <c>0xcond_resched</c>), any of its tails that starts with a letter or underscore.
    /// </summary>
    private static bool IsNamed(IdentifierBuffer identifier, NameSet names)
    {
        var chars = identifier.Chars;
        if (!IsDigit(chars[0]))
            return names.Contains(chars, 0, identifier.Length, identifier.Hash);
        for (var start = 1; start < identifier.Length; start++)
        {
            var length = identifier.Length - start;
            if (!IsDigit(chars[start]) && names.Contains(chars, start, length, Hash(chars, start, length)))
                return true;
        }
        return false;
    }

    /// <summary>
    /// The identifier in call position, or for a number-led run each tail that may be the called name, with the text
    /// position it starts at (unknown, -1, when a formatting character inside it shifts the positions).
    /// </summary>
    private static void AddCalled(IdentifierBuffer identifier, int position, bool hasFormatting, CalledNames called)
    {
        var chars = identifier.Chars;
        if (!IsDigit(chars[0]))
        {
            called.Add(chars, 0, identifier.Length, identifier.Hash, hasFormatting ? -1 : position);
            return;
        }
        for (var start = 1; start < identifier.Length; start++)
        {
            var length = identifier.Length - start;
            if (!IsDigit(chars[start]))
                called.Add(chars, start, length, Hash(chars, start, length), hasFormatting ? -1 : position + start);
        }
    }

    private static bool IsDigit(char c) => c is >= '0' and <= '9';

    private enum CharKind
    {
        Other,
        IdentifierPart,
        Formatting,
    }

    private static CharKind Classify(char c)
    {
        if (c < 128)
            return (c is >= 'a' and <= 'z') || (c is >= 'A' and <= 'Z') || (c is >= '0' and <= '9') || c == '_' ? CharKind.IdentifierPart : CharKind.Other;
        if (!SyntaxFacts.IsIdentifierPartCharacter(c))
            return CharKind.Other;
        return CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format ? CharKind.Formatting : CharKind.IdentifierPart;
    }

    /// <summary>The identifier being read: its characters and their hash, grown as needed.</summary>
    internal sealed class IdentifierBuffer
    {
        public char[] Chars = new char[64];
        public int Length;
        public ulong Hash = FnvOffset;

        public void Add(char c)
        {
            if (Length == Chars.Length)
                Array.Resize(ref Chars, Chars.Length * 2);
            Chars[Length++] = c;
            Hash = (Hash ^ c) * FnvPrime;
        }

        public void Clear()
        {
            Length = 0;
            Hash = FnvOffset;
        }
    }
}

/// <summary>
/// The distinct identifiers a scan saw in call position; a string is made once per distinct name. With an
/// <see cref="Accept"/> check, an occurrence counts only if the check accepts its (name, text position); a position of
/// -1 (not known exactly) is always accepted.
/// </summary>
internal sealed class CalledNames
{
    private readonly Dictionary<ulong, List<string>> _byHash = new();
    private readonly List<string> _names = new();

    public CalledNames(Func<string, int, bool>? accept = null) => Accept = accept;

    public Func<string, int, bool>? Accept { get; }

    public IReadOnlyList<string> Names => _names;

    internal void Add(char[] chars, int start, int length, ulong hash, int position)
    {
        if (!_byHash.TryGetValue(hash, out var same))
            _byHash[hash] = same = new List<string>(1);
        foreach (var name in same)
        {
            if (NameScan.SameChars(name, chars, start, length))
                return;
        }
        var added = new string(chars, start, length);
        if (Accept is not null && position >= 0 && !Accept(added, position))
            return;
        same.Add(added);
        _names.Add(added);
    }
}
