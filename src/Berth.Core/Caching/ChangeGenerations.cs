using System.Collections.Concurrent;

namespace Berth.Core.Caching;

/// <summary>What a change touched; caches of one kind are unaffected by changes of another.</summary>
public enum ChangeKind
{
    /// <summary>Tags, manifests and their attributes (<see cref="CachingMetadataStore"/>, <see cref="CachingRepositoryDetailsStore"/>).</summary>
    Content,

    /// <summary>The admin user, tokens and scope maps (<see cref="CachingIdentityStore"/>).</summary>
    Identity,

    /// <summary>A registry's own record: its settings, such as anonymous pull (<see cref="Registries.RegistryDirectory"/>).</summary>
    Settings,

    /// <summary>Which registries exist, and so which login server names which registry. Not per registry: see <see cref="GenerationKey.RegistryList"/>.</summary>
    RegistryList,
}

/// <summary>One counter: a kind of change of one registry (lower-case name), or the registry list (empty name).</summary>
public readonly record struct GenerationKey(string Registry, ChangeKind Kind)
{
    public static GenerationKey RegistryList { get; } = new("", ChangeKind.RegistryList);

    /// <summary>The counters a request addressing <paramref name="registry"/> reads before it uses any cache.</summary>
    public static GenerationKey[] ForRequest(string registry) =>
        [RegistryList, new(registry, ChangeKind.Settings), new(registry, ChangeKind.Identity), new(registry, ChangeKind.Content)];
}

/// <summary>
/// Generations kept outside the process, so that every node over one database sees every node's changes (Redis).
/// </summary>
public interface ISharedGenerationStore
{
    /// <summary>
    /// The current values of <paramref name="keys"/>, in order. A counter the store has never held, or has lost, starts
    /// at a value greater than any it can have had before, so a node's cache entries from before the loss never match.
    /// </summary>
    ValueTask<long[]> ReadAsync(IReadOnlyList<GenerationKey> keys, CancellationToken cancellationToken);

    /// <summary>Increases one counter and returns its new value (a lost counter restarts as in <see cref="ReadAsync"/> first).</summary>
    ValueTask<long> IncrementAsync(GenerationKey key, CancellationToken cancellationToken);
}

/// <summary>
/// A counter per registry and kind that every change increases once it is written. Cached reads remember the generation
/// they were made in and are used only while it is current, so a change applies to the very next request without
/// tracking which entries it affected. A reader takes the generation before it loads; a change writes before it bumps;
/// so an entry can only ever be older than its generation says, never newer, and a bump always retires it.
/// <para>
/// On one node the counters are plain memory and <see cref="CurrentAsync"/> completes synchronously. When several nodes
/// share a database, the counters live in an <see cref="ISharedGenerationStore"/>: a change is acknowledged only after
/// its bump there has completed, and each request reads its registry's counters from there (one round trip, on first
/// use within the request) before it trusts any cache. A request that starts after another node acknowledged a change
/// therefore sees it, whatever the timing; a pub/sub relay could not promise that, as its message may arrive late.
/// </para>
/// </summary>
public sealed class ChangeGenerations(ISharedGenerationStore? shared = null)
{
    private readonly ConcurrentDictionary<GenerationKey, StrongBox> _generations = new();

    // The registries whose counters this request has already read from the shared store (per instance: tests run several nodes in one process).
    private readonly AsyncLocal<RequestScope?> _request = new();

    // Bumps that were written to the database but could not reach the shared store; retried before the next read.
    private readonly ConcurrentDictionary<GenerationKey, byte> _pendingBumps = new();

    /// <summary>Whether counters are shared with other nodes (and so cost a round trip per request).</summary>
    public bool IsShared => shared is not null;

    /// <summary>
    /// Marks the start of a request: counters read from the shared store from now on are trusted until the request ends.
    /// Outside a request (background work) every <see cref="CurrentAsync"/> reads the shared store.
    /// </summary>
    public void BeginRequest()
    {
        if (shared is not null) _request.Value = new RequestScope();
    }

    /// <summary>The current generation of <paramref name="kind"/> for <paramref name="registry"/>.</summary>
    public ValueTask<long> CurrentAsync(string registry, ChangeKind kind, CancellationToken cancellationToken)
    {
        var key = Key(registry, kind);
        if (shared is null) return ValueTask.FromResult(Read(key));
        return _request.Value is { } scope && scope.HasRead(key.Registry)
            ? ValueTask.FromResult(Read(key))
            : RefreshThenReadAsync(key, cancellationToken);
    }

    /// <summary>The generation of the registry list (creations and deletions of registries).</summary>
    public ValueTask<long> CurrentRegistryListAsync(CancellationToken cancellationToken) =>
        CurrentAsync("", ChangeKind.RegistryList, cancellationToken);

    /// <summary>
    /// Reads <paramref name="registry"/>'s counters (and the registry list's) from the shared store for this request, in
    /// one round trip. Optional: <see cref="CurrentAsync"/> does it on first use; calling it early with the registry a
    /// request most likely addresses saves the separate round trip the registry list would otherwise take.
    /// </summary>
    public ValueTask RefreshAsync(string registry, CancellationToken cancellationToken)
    {
        if (shared is null) return ValueTask.CompletedTask;
        var name = registry.ToLowerInvariant();
        return _request.Value is { } scope && scope.HasRead(name) ? ValueTask.CompletedTask : ReadSharedAsync(name, cancellationToken);
    }

    /// <summary>
    /// Records a change that has been written; awaited before the change is acknowledged to its caller. It takes no
    /// cancellation token: the change is already written, so the other nodes must learn of it even if the caller left.
    /// </summary>
    public async ValueTask BumpAsync(string registry, ChangeKind kind)
    {
        var key = Key(registry, kind);
        if (shared is null)
        {
            Interlocked.Increment(ref Box(key).Value);
            return;
        }
        // No local increment on top: a local value the store never held could later equal another node's bump and
        // revive an entry that bump retired. The value the store returns is the one to adopt.
        try
        {
            Observe(key, await shared.IncrementAsync(key, CancellationToken.None));
        }
        catch
        {
            // The change is in the database but no node was told, this one included. Every request reads the store
            // first, so retrying the bump before that read keeps all nodes from serving what the change replaced; and
            // if the store lost its data meanwhile, every counter restarts higher anyway.
            _pendingBumps[key] = 0;
            throw;
        }
    }

    private async ValueTask<long> RefreshThenReadAsync(GenerationKey key, CancellationToken cancellationToken)
    {
        await ReadSharedAsync(key.Registry, cancellationToken);
        return Read(key);
    }

    private async ValueTask ReadSharedAsync(string registry, CancellationToken cancellationToken)
    {
        if (!_pendingBumps.IsEmpty) await RetryPendingBumpsAsync(cancellationToken);
        var keys = registry.Length == 0 ? [GenerationKey.RegistryList] : GenerationKey.ForRequest(registry);
        var values = await shared!.ReadAsync(keys, cancellationToken);
        for (var i = 0; i < keys.Length; i++) Observe(keys[i], values[i]);
        if (_request.Value is { } scope)
        {
            scope.MarkRead(registry);
            // The registry list is part of every registry's read.
            if (registry.Length > 0) scope.MarkRead("");
        }
    }

    private async ValueTask RetryPendingBumpsAsync(CancellationToken cancellationToken)
    {
        foreach (var key in _pendingBumps.Keys)
        {
            Observe(key, await shared!.IncrementAsync(key, cancellationToken));
            _pendingBumps.TryRemove(key, out _);
        }
    }

    /// <summary>
    /// Takes a value seen in the shared store if it is newer. Several requests observe concurrently and may finish in
    /// any order; keeping the maximum means no request can move the counter back behind what another already saw.
    /// </summary>
    private void Observe(GenerationKey key, long value)
    {
        ref var current = ref Box(key).Value;
        var seen = Volatile.Read(ref current);
        while (value > seen)
        {
            var previous = Interlocked.CompareExchange(ref current, value, seen);
            if (previous == seen) return;
            seen = previous;
        }
    }

    private long Read(GenerationKey key) => Volatile.Read(ref Box(key).Value);

    private static GenerationKey Key(string registry, ChangeKind kind) =>
        kind == ChangeKind.RegistryList ? GenerationKey.RegistryList : new GenerationKey(registry.ToLowerInvariant(), kind);

    private StrongBox Box(GenerationKey key) => _generations.GetOrAdd(key, static _ => new StrongBox());

    private sealed class StrongBox
    {
        public long Value;
    }

    /// <summary>The registries one request has read; a request runs on one logical flow, but a lock costs nothing here.</summary>
    private sealed class RequestScope
    {
        private readonly HashSet<string> _read = new(StringComparer.Ordinal);

        public bool HasRead(string registry)
        {
            lock (_read) return _read.Contains(registry);
        }

        public void MarkRead(string registry)
        {
            lock (_read) _read.Add(registry);
        }
    }
}
