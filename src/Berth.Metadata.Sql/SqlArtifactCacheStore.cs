using static Berth.Metadata.Sql.SqlCommands;

namespace Berth.Metadata.Sql;

/// <summary>
/// Cache rules and credential sets in <c>cache_rules</c> and <c>credential_sets</c>; names compare case-insensitively
/// (<see cref="SqlDialect.CaseInsensitive"/>) and keep the spelling of their latest PUT.
/// </summary>
internal sealed class SqlArtifactCacheStore(SqlDatabase database) : IArtifactCacheStore
{
    private const string RuleColumns = "name, source_repository, target_repository, credential_set, created_at, last_error, last_error_at";
    private const string SetColumns = "name, login_server, username, password, principal_id, created_at, last_error";

    private readonly SqlDialect _dialect = database.Dialect;

    private string ListRulesSql => $"SELECT {RuleColumns} FROM cache_rules WHERE registry=@r ORDER BY {_dialect.CaseInsensitive("name")};";
    private string ListSetsSql => $"SELECT {SetColumns} FROM credential_sets WHERE registry=@r ORDER BY {_dialect.CaseInsensitive("name")};";

    public async Task<IReadOnlyList<CacheRule>> ListRulesAsync(string registry, CancellationToken cancellationToken) =>
        await database.ListAsync(ListRulesSql, ReadRule, cancellationToken, ("r", registry));

    public async Task<CacheRule?> GetRuleOrNullAsync(string registry, string name, CancellationToken cancellationToken) =>
        (await database.ListAsync($"SELECT {RuleColumns} FROM cache_rules WHERE registry=@r AND {_dialect.SameName("name", "@n")};", ReadRule, cancellationToken,
            ("r", registry), ("n", name))).FirstOrDefault();

    public async Task<bool> PutRuleAsync(string registry, Func<ArtifactCacheState, CacheRule> decide, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await BeginRegistryWriteAsync(connection, registry, cancellationToken);
        var rule = decide(await ReadStateAsync(connection, registry, cancellationToken));
        var taken = await ScalarAsync(connection,
            $"SELECT 1 FROM cache_rules WHERE registry=@r AND target_repository=@t AND NOT ({_dialect.SameName("name", "@n")});", cancellationToken,
            ("r", registry), ("t", rule.TargetRepository), ("n", rule.Name));
        if (taken is not null) return false;
        await ExecuteAsync(connection, $"DELETE FROM cache_rules WHERE registry=@r AND {_dialect.SameName("name", "@n")};", cancellationToken,
            ("r", registry), ("n", rule.Name));
        await ExecuteAsync(connection,
            $"INSERT INTO cache_rules (registry, {RuleColumns}) VALUES (@r, @n, @s, @t, @c, @at, @e, @eat);", cancellationToken,
            ("r", registry), ("n", rule.Name), ("s", rule.SourceRepository), ("t", rule.TargetRepository), ("c", rule.CredentialSet),
            ("at", rule.CreatedAt.ToUnixTimeMilliseconds()), ("e", rule.LastError), ("eat", rule.LastErrorAt?.ToUnixTimeMilliseconds()));
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<bool> DeleteRuleAsync(string registry, string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // Under the lock, so that a rule PUT deciding over the rules (an update of this one among them) sees it either
        // whole or gone, and does not bring it back.
        await using var transaction = await BeginRegistryWriteAsync(connection, registry, cancellationToken);
        var deleted = await ExecuteAsync(connection, $"DELETE FROM cache_rules WHERE registry=@r AND {_dialect.SameName("name", "@n")};", cancellationToken,
            ("r", registry), ("n", name)) > 0;
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }

    public async Task RecordRuleErrorAsync(string registry, string name, string? error, DateTimeOffset at, CancellationToken cancellationToken) =>
        await database.ExecuteAsync($"UPDATE cache_rules SET last_error=@e, last_error_at=@at WHERE registry=@r AND {_dialect.SameName("name", "@n")};",
            cancellationToken, ("r", registry), ("n", name), ("e", error), ("at", error is null ? null : at.ToUnixTimeMilliseconds()));

    public async Task<IReadOnlyList<CredentialSet>> ListCredentialSetsAsync(string registry, CancellationToken cancellationToken) =>
        await database.ListAsync(ListSetsSql, ReadSet, cancellationToken, ("r", registry));

    public async Task<CredentialSet?> GetCredentialSetOrNullAsync(string registry, string name, CancellationToken cancellationToken) =>
        (await database.ListAsync($"SELECT {SetColumns} FROM credential_sets WHERE registry=@r AND {_dialect.SameName("name", "@n")};", ReadSet,
            cancellationToken, ("r", registry), ("n", name))).FirstOrDefault();

    public async Task PutCredentialSetAsync(string registry, CredentialSet set, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // Two PUTs of one new name must replace in turn, not collide on the name's unique index.
        await using var transaction = await BeginRegistryWriteAsync(connection, registry, cancellationToken);
        await ExecuteAsync(connection, $"DELETE FROM credential_sets WHERE registry=@r AND {_dialect.SameName("name", "@n")};", cancellationToken,
            ("r", registry), ("n", set.Name));
        await ExecuteAsync(connection,
            $"INSERT INTO credential_sets (registry, {SetColumns}) VALUES (@r, @n, @l, @u, @p, @id, @at, @e);", cancellationToken,
            ("r", registry), ("n", set.Name), ("l", set.LoginServer), ("u", set.ProtectedUsername), ("p", set.ProtectedPassword),
            ("id", set.PrincipalId), ("at", set.CreatedAt.ToUnixTimeMilliseconds()), ("e", set.LastError));
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<bool> DeleteCredentialSetAsync(string registry, string name, Action<ArtifactCacheState> check, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await BeginRegistryWriteAsync(connection, registry, cancellationToken);
        check(await ReadStateAsync(connection, registry, cancellationToken));
        var deleted = await ExecuteAsync(connection, $"DELETE FROM credential_sets WHERE registry=@r AND {_dialect.SameName("name", "@n")};", cancellationToken,
            ("r", registry), ("n", name)) > 0;
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }

    public async Task RecordCredentialErrorAsync(string registry, string name, string? error, CancellationToken cancellationToken) =>
        await database.ExecuteAsync($"UPDATE credential_sets SET last_error=@e WHERE registry=@r AND {_dialect.SameName("name", "@n")};",
            cancellationToken, ("r", registry), ("n", name), ("e", error));

    /// <summary>
    /// The registry's whole-content lock (no repository has an empty name), taken by every rule and credential set write:
    /// the checks a write is decided by (targets, overlapping wildcards, the rule limit, a credential set in use) read
    /// the registry's state after the lock, so two writers never both decide over a state that one of them changes.
    /// SQLite serialises writers anyway; PostgreSQL's READ COMMITTED reads, after the lock, what the holder before committed.
    /// </summary>
    private Task<DbTransaction> BeginRegistryWriteAsync(DbConnection connection, string registry, CancellationToken cancellationToken) =>
        _dialect.BeginWriteAsync(connection, new RepositoryKey(registry, ""), cancellationToken);

    private async Task<ArtifactCacheState> ReadStateAsync(DbConnection connection, string registry, CancellationToken cancellationToken) => new(
        await ListAsync(connection, ListRulesSql, ReadRule, cancellationToken, ("r", registry)),
        await ListAsync(connection, ListSetsSql, ReadSet, cancellationToken, ("r", registry)));

    private static CacheRule ReadRule(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), StringOrNull(reader, 3), Time(reader, 4), StringOrNull(reader, 5),
        reader.IsDBNull(6) ? null : Time(reader, 6));

    private static CredentialSet ReadSet(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), StringOrNull(reader, 2), StringOrNull(reader, 3), reader.GetString(4), Time(reader, 5),
        StringOrNull(reader, 6));
}
