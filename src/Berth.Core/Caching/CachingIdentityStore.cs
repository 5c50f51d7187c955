namespace Berth.Core.Caching;

/// <summary>
/// Keeps the identity reads of every authenticated request (admin user, token, scope map) in memory; every identity
/// change bumps the registry's identity generation after it is written, so a disabled token, a new password or a
/// changed scope map still applies to the very next request.
/// </summary>
internal sealed class CachingIdentityStore(IIdentityStore inner, ChangeGenerations generations) : IIdentityStore
{
    private const int Capacity = 20_000;
    private readonly GenerationCache<string, AdminUserRecord?> _admins = new(Capacity);
    private readonly GenerationCache<(string, string), TokenRecord?> _tokens = new(Capacity);
    private readonly GenerationCache<(string, string), ScopeMapRecord?> _scopeMaps = new(Capacity);

    public Task<AdminUserRecord?> GetAdminUserOrNullAsync(string registry, CancellationToken cancellationToken) =>
        _admins.GetOrLoadAsync(registry.ToLowerInvariant(), Generation(registry, cancellationToken), () => inner.GetAdminUserOrNullAsync(registry, cancellationToken));

    public Task<TokenRecord?> GetTokenOrNullAsync(string registry, string name, CancellationToken cancellationToken) =>
        _tokens.GetOrLoadAsync((registry.ToLowerInvariant(), name.ToLowerInvariant()), Generation(registry, cancellationToken), () => inner.GetTokenOrNullAsync(registry, name, cancellationToken));

    public Task<ScopeMapRecord?> GetScopeMapOrNullAsync(string registry, string name, CancellationToken cancellationToken) =>
        _scopeMaps.GetOrLoadAsync((registry.ToLowerInvariant(), name.ToLowerInvariant()), Generation(registry, cancellationToken), () => inner.GetScopeMapOrNullAsync(registry, name, cancellationToken));

    public Task<AdminUserRecord> PutAdminUserAsync(AdminUserRecord adminUser, CancellationToken cancellationToken) =>
        ChangingAsync(adminUser.Registry, () => inner.PutAdminUserAsync(adminUser, cancellationToken));

    public Task<TokenRecord> PutTokenAsync(TokenRecord token, CancellationToken cancellationToken) =>
        ChangingAsync(token.Registry, () => inner.PutTokenAsync(token, cancellationToken));

    public Task<bool> DeleteTokenAsync(string registry, string name, CancellationToken cancellationToken) =>
        ChangingAsync(registry, () => inner.DeleteTokenAsync(registry, name, cancellationToken));

    public Task<ScopeMapRecord> PutScopeMapAsync(ScopeMapRecord scopeMap, CancellationToken cancellationToken) =>
        ChangingAsync(scopeMap.Registry, () => inner.PutScopeMapAsync(scopeMap, cancellationToken));

    public Task<bool> DeleteScopeMapAsync(string registry, string name, CancellationToken cancellationToken) =>
        ChangingAsync(registry, () => inner.DeleteScopeMapAsync(registry, name, cancellationToken));

    public Task DeleteRegistryAsync(string registry, CancellationToken cancellationToken) =>
        ChangingAsync(registry, async () => { await inner.DeleteRegistryAsync(registry, cancellationToken); return true; });

    public Task<IReadOnlyList<TokenRecord>> ListTokensAsync(string registry, CancellationToken cancellationToken) => inner.ListTokensAsync(registry, cancellationToken);
    public Task<int> CountTokensAsync(string registry, CancellationToken cancellationToken) => inner.CountTokensAsync(registry, cancellationToken);
    public Task<IReadOnlyList<string>> ListTokensUsingScopeMapAsync(string registry, string scopeMapName, int limit, CancellationToken cancellationToken) => inner.ListTokensUsingScopeMapAsync(registry, scopeMapName, limit, cancellationToken);
    public Task<IReadOnlyList<ScopeMapRecord>> ListScopeMapsAsync(string registry, CancellationToken cancellationToken) => inner.ListScopeMapsAsync(registry, cancellationToken);
    public Task<int> CountScopeMapsAsync(string registry, CancellationToken cancellationToken) => inner.CountScopeMapsAsync(registry, cancellationToken);

    private ValueTask<long> Generation(string registry, CancellationToken cancellationToken) =>
        generations.CurrentAsync(registry, ChangeKind.Identity, cancellationToken);

    private async Task<T> ChangingAsync<T>(string registry, Func<Task<T>> write)
    {
        try { return await write(); }
        finally { await generations.BumpAsync(registry, ChangeKind.Identity); }
    }
}
