using System;

namespace XenPreemptAnalyzers.Flow;

/// <summary>
/// A nesting count (preemption or migration disabled) as two facts: the change since method entry, for
/// balance, and the absolute count, for proofs of context (preemptible or atomic). Both are capped so
/// that loops reach a fixpoint: past <see cref="Cap"/> the change is "lost" and the count "at least one".
/// </summary>
internal readonly struct Depth : IEquatable<Depth>
{
    public const int Cap = 8;
    private const sbyte LostDelta = sbyte.MinValue;
    private const sbyte UnknownCount = -1;
    private const sbyte AtLeastOne = -2;

    private readonly sbyte _delta;
    private readonly sbyte _count;

    private Depth(sbyte delta, sbyte count)
    {
        _delta = delta;
        _count = count;
    }

    /// <summary>Entry with a known count (0 for <c>[ProcessContext]</c>).</summary>
    public static Depth KnownEntry(int count) => new(0, (sbyte)Math.Min(count, Cap));

    /// <summary>Entry with an unknown count (an unannotated method).</summary>
    public static readonly Depth UnknownEntry = new(0, UnknownCount);

    /// <summary>Entry known to be at least one (<c>[RequiresPreemptDisabled]</c>).</summary>
    public static readonly Depth DisabledEntry = new(0, AtLeastOne);

    /// <summary>Proven to be zero: enabled, on this path.</summary>
    public bool IsZero => _count == 0;

    /// <summary>Proven to be at least one: disabled, on this path.</summary>
    public bool IsDisabled => _count > 0 || _count == AtLeastOne;

    public bool IsDeltaKnown => _delta != LostDelta;

    /// <summary>The change since entry; meaningful only when <see cref="IsDeltaKnown"/>.</summary>
    public int Delta => _delta;

    public Depth Increment()
    {
        var count = _count switch
        {
            UnknownCount or AtLeastOne => AtLeastOne,
            >= Cap => (sbyte)Cap,
            _ => (sbyte)(_count + 1),
        };
        return new Depth(Step(+1), count);
    }

    public Depth Decrement()
    {
        var count = _count switch
        {
            UnknownCount or AtLeastOne => UnknownCount,
            0 => (sbyte)0, // an underflow; the change since entry shows it
            >= Cap => AtLeastOne,
            _ => (sbyte)(_count - 1),
        };
        return new Depth(Step(-1), count);
    }

    /// <summary>An assert or a branch proved the count is zero.</summary>
    public Depth AssertZero() => new(_delta, 0);

    /// <summary>An assert or a branch proved the count is at least one.</summary>
    public Depth AssertDisabled() => IsDisabled ? this : new Depth(_delta, AtLeastOne);

    private sbyte Step(int step)
    {
        if (_delta == LostDelta)
            return LostDelta;
        var next = _delta + step;
        return next > Cap || next < -Cap ? LostDelta : (sbyte)next;
    }

    public bool Equals(Depth other) => _delta == other._delta && _count == other._count;

    public override bool Equals(object? obj) => obj is Depth other && Equals(other);

    public override int GetHashCode() => (_delta << 8) ^ _count;

    public override string ToString() =>
        $"{(_count == UnknownCount ? "?" : _count == AtLeastOne ? ">=1" : _count.ToString(System.Globalization.CultureInfo.InvariantCulture))}" +
        $"(Δ{(IsDeltaKnown ? _delta.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?")})";
}
