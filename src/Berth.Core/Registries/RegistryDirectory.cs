using System.Collections.Concurrent;

namespace Berth.Core.Registries;

/// <summary>
/// The one place that reads registries for the request path: by name and by login server, cached in memory and
/// dropped from the cache on every change made through it, so a changed setting applies to the next request.
/// </summary>
public sealed class RegistryDirectory(IRegistryStore store)
{
    private readonly ConcurrentDictionary<string, Registry> _byName = new(StringComparer.OrdinalIgnoreCase);
    private volatile IReadOnlyDictionary<string, Registry>? _byLoginServer;

    public async Task<Registry?> GetOrNullAsync(string name, CancellationToken cancellationToken)
    {
        if (_byName.TryGetValue(name, out var cached)) return cached;
        var registry = await store.GetOrNullAsync(name.ToLowerInvariant(), cancellationToken);
        if (registry is not null) _byName[name] = registry;
        return registry;
    }

    /// <summary>The registry whose login server is <paramref name="host"/> (case-insensitive), if any.</summary>
    public async Task<Registry?> FindByLoginServerOrNullAsync(string host, CancellationToken cancellationToken)
    {
        var map = _byLoginServer;
        if (map is null)
        {
            var all = await store.ListAsync(cancellationToken);
            map = all.ToDictionary(r => r.LoginServer, StringComparer.OrdinalIgnoreCase);
            _byLoginServer = map;
        }
        return map.GetValueOrDefault(host);
    }

    public Task<IReadOnlyList<Registry>> ListAsync(CancellationToken cancellationToken) => store.ListAsync(cancellationToken);

    public Task<IReadOnlyList<ActivityLogEntry>> ListActivityAsync(string name, int limit, CancellationToken cancellationToken) =>
        store.ListActivityAsync(name.ToLowerInvariant(), limit, cancellationToken);

    public async Task<bool> CreateAsync(Registry registry, CancellationToken cancellationToken)
    {
        var created = await store.CreateAsync(registry, cancellationToken);
        Invalidate(registry.Name);
        return created;
    }

    public async Task<bool> UpdateAsync(Registry registry, long expectedVersion, IReadOnlyList<ActivityLogEntry> activity, CancellationToken cancellationToken)
    {
        var updated = await store.UpdateAsync(registry, expectedVersion, activity, cancellationToken);
        Invalidate(registry.Name);
        return updated;
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var deleted = await store.DeleteAsync(name.ToLowerInvariant(), cancellationToken);
        Invalidate(name);
        return deleted;
    }

    /// <summary>Forgets cached copies; called on every local change and by whatever relays changes made on other nodes.</summary>
    public void Invalidate(string name)
    {
        _byName.TryRemove(name, out _);
        _byLoginServer = null;
    }
}
