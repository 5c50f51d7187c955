using System.Collections.Concurrent;

namespace Berth.Core.Caching;

/// <summary>What a change touched; caches of one kind are unaffected by changes of the other.</summary>
public enum ChangeKind { Content, Identity }

/// <summary>
/// A counter per registry and kind that every change through this process increases. Cached reads remember the
/// generation they were made in and are used only while it is current, so a change applies to the very next request
/// without tracking which entries it affected. Nodes that share a database must relay each other's changes here
/// (<see cref="Bump"/>), which is the one hook a multi-node set-up needs.
/// </summary>
public sealed class ChangeGenerations
{
    private readonly ConcurrentDictionary<(string Registry, ChangeKind Kind), StrongBox<long>> _generations = new();

    public event Action<string, ChangeKind>? Changed;

    public long Current(string registry, ChangeKind kind) => Volatile.Read(ref Box(registry, kind).Value);

    public void Bump(string registry, ChangeKind kind)
    {
        Interlocked.Increment(ref Box(registry, kind).Value);
        Changed?.Invoke(registry, kind);
    }

    /// <summary>Applies a change another node announced, without announcing it again.</summary>
    public void Apply(string registry, ChangeKind kind) => Interlocked.Increment(ref Box(registry, kind).Value);

    private StrongBox<long> Box(string registry, ChangeKind kind) =>
        _generations.GetOrAdd((registry.ToLowerInvariant(), kind), static _ => new StrongBox<long>());

    private sealed class StrongBox<T>
    {
        public T Value = default!;
    }
}
