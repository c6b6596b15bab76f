// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;

namespace XenPreemptAnalyzers.Flow.Core;

/// <summary>
/// A set of path states that remembers the order they were added in, as a <see cref="HashSet{T}"/> without removals
/// enumerates, and decides membership the way it does (equal hash codes, then <see cref="IEqualityComparer{T}.Equals(T, T)"/>),
/// so the engine's results do not depend on which of the two it uses. Built for the sizes the engine sees: almost every
/// set holds one or two states, so they are kept in one array and compared linearly (a <see cref="HashSet{T}"/> costs
/// three objects per block and per observed operation even for one state); a set that grows past
/// <see cref="IndexedFrom"/> states gets a hash index.
/// </summary>
internal sealed class PathSet<TState> : IReadOnlyList<TState>
{
    private const int IndexedFrom = 8;

    private static readonly IEqualityComparer<TState> Comparer = EqualityComparer<TState>.Default;

    private Entry[] _entries = Array.Empty<Entry>();
    private int _count;
    private HashSet<TState>? _index;

    public int Count => _count;

    public TState this[int index] => index < _count ? _entries[index].State : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Adds <paramref name="state"/> unless an equal state is already in the set.</summary>
    /// <returns>Whether the set grew.</returns>
    public bool Add(TState state)
    {
        var hash = Comparer.GetHashCode(state);
        if (_index is not null)
        {
            if (!_index.Add(state))
                return false;
        }
        else
        {
            for (var i = 0; i < _count; i++)
            {
                if (_entries[i].Hash == hash && Comparer.Equals(_entries[i].State, state))
                    return false;
            }
        }
        if (_count == _entries.Length)
            Array.Resize(ref _entries, _count == 0 ? 1 : _count * 2);
        _entries[_count++] = new Entry(state, hash);
        if (_index is null && _count >= IndexedFrom)
        {
            _index = new HashSet<TState>(Comparer);
            for (var i = 0; i < _count; i++)
                _index.Add(_entries[i].State);
        }
        return true;
    }

    /// <summary>A copy of the states, in the order they were added.</summary>
    public List<TState> ToList()
    {
        var list = new List<TState>(_count);
        for (var i = 0; i < _count; i++)
            list.Add(_entries[i].State);
        return list;
    }

    /// <summary>The states in the order they were added.</summary>
    public IEnumerable<TState> AsEnumerable() => this;

    public IEnumerator<TState> GetEnumerator()
    {
        for (var i = 0; i < _count; i++)
            yield return _entries[i].State;
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    private readonly record struct Entry(TState State, int Hash);
}
