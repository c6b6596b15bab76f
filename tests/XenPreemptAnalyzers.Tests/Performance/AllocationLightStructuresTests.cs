// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Xunit;
using XenPreemptAnalyzers.Flow.Core;
using XenPreemptAnalyzers.Recognition;

namespace XenPreemptAnalyzers.Tests.Performance;

/// <summary>
/// The allocation-light replacements in the engine and the classifier (issue 17) must decide exactly what the
/// structures they replaced decided: <see cref="PathSet{TState}"/> what a <see cref="HashSet{T}"/> did, in the same
/// order; <see cref="CallEffect.IsNone"/> what comparing with a copy of <see cref="CallEffect.None"/> did.
/// </summary>
public sealed class AllocationLightStructuresTests
{
    /// <summary>Equal by <see cref="Value"/>; the hash is chosen by the test, so that unequal keys can collide.</summary>
    private sealed class Key(int value, int hash) : IEquatable<Key>
    {
        public int Value { get; } = value;

        public bool Equals(Key? other) => other is not null && other.Value == Value;

        public override bool Equals(object? obj) => Equals(obj as Key);

        public override int GetHashCode() => hash;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(70)]
    public void A_path_set_admits_and_orders_what_a_hash_set_does(int distinct)
    {
        var random = new Random(17);
        // Repeats, colliding hashes of unequal keys, and more keys than the linear part holds.
        var keys = Enumerable.Range(0, distinct * 4).Select(_ => random.Next(distinct)).Select(v => new Key(v, v % 3)).ToList();
        var reference = new HashSet<Key>();
        var paths = new PathSet<Key>();

        foreach (var key in keys)
            Assert.Equal(reference.Add(key), paths.Add(key));

        Assert.Equal(reference.Count, paths.Count);
        Assert.Equal(reference.Select(k => k.Value), paths.AsEnumerable().Select(k => k.Value));
        Assert.Equal(reference.Select(k => k.Value), paths.ToList().Select(k => k.Value));
        Assert.Equal(reference.Select(k => k.Value), Enumerable.Range(0, paths.Count).Select(i => paths[i].Value));
    }

    [Fact]
    public void A_path_set_keeps_equal_keys_with_different_hashes_apart_as_a_hash_set_does()
    {
        // An Equals that disagrees with GetHashCode: a hash set compares hashes first, and so must the path set.
        var reference = new HashSet<Key> { new(1, 10) };
        var paths = new PathSet<Key>();
        paths.Add(new Key(1, 10));

        Assert.Equal(reference.Add(new Key(1, 11)), paths.Add(new Key(1, 11)));
        Assert.Equal(reference.Count, paths.Count);
    }

    private static readonly string[] Names = { nameof(CallEffect.Name), nameof(CallEffect.Via), nameof(CallEffect.IsSummary) };

    /// <summary>Every init-only member of <see cref="CallEffect"/>, so that a member added later is covered too.</summary>
    private static IEnumerable<PropertyInfo> Members() =>
        typeof(CallEffect).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.Name != "EqualityContract");

    [Fact]
    public void An_effect_is_none_when_only_its_names_differ_from_none()
    {
        Assert.True(CallEffect.None.IsNone);
        foreach (var member in Members().Where(m => Names.Contains(m.Name)))
        {
            var named = new CallEffect();
            member.SetValue(named, member.PropertyType == typeof(bool) ? true : "helper");
            Assert.True(named.IsNone, member.Name);
        }
    }

    [Fact]
    public void An_effect_with_any_other_member_set_is_not_none()
    {
        var others = Members().Where(m => !Names.Contains(m.Name)).ToList();
        Assert.True(others.Count >= 20, $"{others.Count} members");
        foreach (var member in others)
        {
            var effect = new CallEffect { Name = "f" };
            member.SetValue(effect, NonDefault(member.PropertyType));
            Assert.False(effect.IsNone, member.Name);
            // What IsNone compared with before it compared members: a copy of None with this effect's names.
            Assert.NotEqual(CallEffect.None with { Name = effect.Name, Via = effect.Via, IsSummary = effect.IsSummary }, effect);
        }
    }

    private static object NonDefault(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(bool))
            return type == underlying;
        if (underlying == typeof(int))
            return 1;
        if (underlying == typeof(string))
            return "x";
        if (underlying.IsEnum)
            return Enum.GetValues(underlying).Cast<object>().Last();
        throw new InvalidOperationException($"no non-default value for {type}");
    }
}
