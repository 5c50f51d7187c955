using Berth.Core.Caching;

namespace Berth.Core.Registries;

/// <summary>
/// The one place that reads registries for the request path: by name and by login server, cached in memory under
/// <see cref="ChangeGenerations"/> like the other metadata caches. A registry's record lives in its
/// <see cref="ChangeKind.Settings"/> generation and the login-server map in the registry-list generation, so a changed
/// setting (anonymous pull off) or a new or deleted registry applies to the next request, on every node.
/// </summary>
public sealed class RegistryDirectory(IRegistryStore store, ChangeGenerations generations)
{
    private readonly GenerationCache<string, Registry?> _byName = new(10_000);

    // Login server → registry name; the registry itself is then read by name, so the map changes only with the list.
    private volatile LoginServerMap? _byLoginServer;

    public Task<Registry?> GetOrNullAsync(string name, CancellationToken cancellationToken)
    {
        var key = name.ToLowerInvariant();
        return _byName.GetOrLoadAsync(key, generations.CurrentAsync(key, ChangeKind.Settings, cancellationToken),
            () => store.GetOrNullAsync(key, cancellationToken));
    }

    /// <summary>The registry whose login server is <paramref name="host"/> (case-insensitive), if any.</summary>
    public async Task<Registry?> FindByLoginServerOrNullAsync(string host, CancellationToken cancellationToken)
    {
        var name = await FindNameByLoginServerOrNullAsync(host, cancellationToken);
        return name is null ? null : await GetOrNullAsync(name, cancellationToken);
    }

    /// <summary>
    /// The registry name the cached login-server map gives for <paramref name="host"/>, without checking that the map
    /// is current: a guess for <see cref="ChangeGenerations.RefreshAsync"/>, never an answer.
    /// </summary>
    public string? GuessNameByLoginServer(string host) => _byLoginServer?.Names.GetValueOrDefault(host);

    public Task<IReadOnlyList<Registry>> ListAsync(CancellationToken cancellationToken) => store.ListAsync(cancellationToken);

    public Task<IReadOnlyList<ActivityLogEntry>> ListActivityAsync(string name, int limit, CancellationToken cancellationToken) =>
        store.ListActivityAsync(name.ToLowerInvariant(), limit, cancellationToken);

    public async Task<bool> CreateAsync(Registry registry, CancellationToken cancellationToken)
    {
        try { return await store.CreateAsync(registry, cancellationToken); }
        finally { await ChangedAsync(registry.Name, listChanged: true); }
    }

    public async Task<bool> UpdateAsync(Registry registry, long expectedVersion, IReadOnlyList<ActivityLogEntry> activity, CancellationToken cancellationToken)
    {
        // An update never changes the name or the login server (RegistryPatch has neither), so the list stays as it is.
        try { return await store.UpdateAsync(registry, expectedVersion, activity, cancellationToken); }
        finally { await ChangedAsync(registry.Name, listChanged: false); }
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        try { return await store.DeleteAsync(name.ToLowerInvariant(), cancellationToken); }
        finally { await ChangedAsync(name, listChanged: true); }
    }

    private async Task<string?> FindNameByLoginServerOrNullAsync(string host, CancellationToken cancellationToken)
    {
        var generation = await generations.CurrentRegistryListAsync(cancellationToken);
        var map = _byLoginServer;
        if (map is null || map.Generation != generation)
        {
            var all = await store.ListAsync(cancellationToken);
            map = new LoginServerMap(generation, all.ToDictionary(r => r.LoginServer, r => r.Name, StringComparer.OrdinalIgnoreCase));
            _byLoginServer = map;
        }
        return map.Names.GetValueOrDefault(host);
    }

    private async Task ChangedAsync(string name, bool listChanged)
    {
        await generations.BumpAsync(name, ChangeKind.Settings);
        if (listChanged) await generations.BumpAsync(name, ChangeKind.RegistryList);
    }

    private sealed record LoginServerMap(long Generation, Dictionary<string, string> Names);
}
