namespace Berth.Core.Storage;

/// <summary>
/// A cache rule: pulls of <see cref="TargetRepository"/> (an exact name, <c>prefix/*</c> or <c>*</c>) are filled from
/// <see cref="SourceRepository"/> (<c>host/path</c>, or <c>host/path/*</c> for a wildcard target), logging in with
/// <see cref="CredentialSet"/> when one is named. <see cref="LastError"/> is the latest upstream failure, cleared by a success.
/// </summary>
public sealed record CacheRule(
    string Name,
    string SourceRepository,
    string TargetRepository,
    string? CredentialSet,
    DateTimeOffset CreatedAt,
    string? LastError = null,
    DateTimeOffset? LastErrorAt = null);

/// <summary>
/// An upstream login. The username and password are kept encrypted (<see cref="Identity.Credentials.SecretProtector"/>),
/// never hashed, because Berth must present them upstream; they are never shown again once set.
/// <see cref="LastError"/> is the latest authentication failure upstream, cleared by a success.
/// </summary>
public sealed record CredentialSet(
    string Name,
    string LoginServer,
    string? ProtectedUsername,
    string? ProtectedPassword,
    string PrincipalId,
    DateTimeOffset CreatedAt,
    string? LastError = null);

/// <summary>A registry's cache rules and credential sets as they stand inside a write, which a check decides over.</summary>
public sealed record ArtifactCacheState(IReadOnlyList<CacheRule> Rules, IReadOnlyList<CredentialSet> CredentialSets);

/// <summary>
/// Cache rules and credential sets of each registry; names compare case-insensitively, as ARM's do. The writes that
/// rules about the whole registry depend on (rule PUTs, credential set deletes) hand their decision to the caller: the
/// store reads the registry's state and writes in one transaction, under one registry-wide lock that every rule and
/// credential set write takes, so that concurrent writers decide in turn, each over what the one before wrote.
/// </summary>
public interface IArtifactCacheStore
{
    Task<IReadOnlyList<CacheRule>> ListRulesAsync(string registry, CancellationToken cancellationToken);

    Task<CacheRule?> GetRuleOrNullAsync(string registry, string name, CancellationToken cancellationToken);

    /// <summary>
    /// Creates or replaces the rule that <paramref name="decide"/> returns (matched by name) over the registry's current
    /// state; false when another rule already has its target. An exception thrown by <paramref name="decide"/> refuses
    /// the write, which then changes nothing, and reaches the caller.
    /// </summary>
    Task<bool> PutRuleAsync(string registry, Func<ArtifactCacheState, CacheRule> decide, CancellationToken cancellationToken);

    Task<bool> DeleteRuleAsync(string registry, string name, CancellationToken cancellationToken);

    /// <summary>Records (or, with null, clears) the rule's last upstream error.</summary>
    Task RecordRuleErrorAsync(string registry, string name, string? error, DateTimeOffset at, CancellationToken cancellationToken);

    Task<IReadOnlyList<CredentialSet>> ListCredentialSetsAsync(string registry, CancellationToken cancellationToken);

    Task<CredentialSet?> GetCredentialSetOrNullAsync(string registry, string name, CancellationToken cancellationToken);

    /// <summary>Creates or replaces the credential set (matched by name).</summary>
    Task PutCredentialSetAsync(string registry, CredentialSet set, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the credential set once <paramref name="check"/> accepts the registry's current state; an exception it
    /// throws refuses the delete, which then changes nothing, and reaches the caller. Rules naming the set are left as they are.
    /// </summary>
    Task<bool> DeleteCredentialSetAsync(string registry, string name, Action<ArtifactCacheState> check, CancellationToken cancellationToken);

    /// <summary>Records (or, with null, clears) the credential set's last authentication failure upstream.</summary>
    Task RecordCredentialErrorAsync(string registry, string name, string? error, CancellationToken cancellationToken);
}
