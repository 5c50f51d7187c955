namespace Berth.Core.Storage;

/// <summary>
/// A stored password: the admin user's is encrypted (<see cref="Credentials.SecretProtector"/>), a token's is a
/// salted hash (<see cref="Credentials.PasswordHasher"/>). <see cref="CreatedAt"/> identifies the generation of the
/// password: refresh tokens remember it, so regenerating a password ends the tokens issued from the old one.
/// </summary>
public sealed record StoredPassword(string Secret, DateTimeOffset CreatedAt, DateTimeOffset? Expiry);

/// <summary>The registry's admin user. The username is the registry name (reference §4.1).</summary>
public sealed record AdminUserRecord(string Registry, bool Enabled, StoredPassword? Password, StoredPassword? Password2, long Version);

/// <summary>A repository-scoped token (reference §3.1, §4.2).</summary>
public sealed record TokenRecord(
    string Registry,
    string Name,
    string ScopeMapName,
    bool Enabled,
    DateTimeOffset CreatedAt,
    StoredPassword? Password1,
    StoredPassword? Password2,
    long Version);

/// <summary>A user-defined scope map; system maps are never stored (<see cref="SystemScopeMaps"/>).</summary>
public sealed record ScopeMapRecord(
    string Registry,
    string Name,
    string? Description,
    IReadOnlyList<string> Actions,
    DateTimeOffset CreatedAt,
    long Version);

/// <summary>
/// Admin users, tokens and user scope maps of every registry on the server. Names are compared
/// case-insensitively (ARM resource names are). Every put stores a new <c>Version</c>, taken from one
/// store-wide sequence that never repeats, even when a deleted name is created again; the version in the
/// record passed to a put is ignored.
/// </summary>
public interface IIdentityStore
{
    Task<AdminUserRecord?> GetAdminUserOrNullAsync(string registry, CancellationToken cancellationToken);

    /// <summary>Creates or replaces the admin user and returns it with its new version.</summary>
    Task<AdminUserRecord> PutAdminUserAsync(AdminUserRecord adminUser, CancellationToken cancellationToken);

    Task<TokenRecord?> GetTokenOrNullAsync(string registry, string name, CancellationToken cancellationToken);

    /// <summary>Tokens ordered by name.</summary>
    Task<IReadOnlyList<TokenRecord>> ListTokensAsync(string registry, CancellationToken cancellationToken);

    Task<int> CountTokensAsync(string registry, CancellationToken cancellationToken);

    /// <summary>Names of tokens bound to the scope map, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<string>> ListTokensUsingScopeMapAsync(string registry, string scopeMapName, int limit, CancellationToken cancellationToken);

    /// <summary>Creates or replaces the token (keeping the stored spelling of its name) and returns it with its new version.</summary>
    Task<TokenRecord> PutTokenAsync(TokenRecord token, CancellationToken cancellationToken);

    Task<bool> DeleteTokenAsync(string registry, string name, CancellationToken cancellationToken);

    Task<ScopeMapRecord?> GetScopeMapOrNullAsync(string registry, string name, CancellationToken cancellationToken);

    /// <summary>User scope maps ordered by name.</summary>
    Task<IReadOnlyList<ScopeMapRecord>> ListScopeMapsAsync(string registry, CancellationToken cancellationToken);

    Task<int> CountScopeMapsAsync(string registry, CancellationToken cancellationToken);

    Task<ScopeMapRecord> PutScopeMapAsync(ScopeMapRecord scopeMap, CancellationToken cancellationToken);

    Task<bool> DeleteScopeMapAsync(string registry, string name, CancellationToken cancellationToken);

    /// <summary>Removes every identity of the registry (when the registry itself is deleted).</summary>
    Task DeleteRegistryAsync(string registry, CancellationToken cancellationToken);
}
