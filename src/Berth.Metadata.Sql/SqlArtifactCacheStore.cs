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

    public async Task<IReadOnlyList<CacheRule>> ListRulesAsync(string registry, CancellationToken cancellationToken) =>
        await database.ListAsync($"SELECT {RuleColumns} FROM cache_rules WHERE registry=@r ORDER BY {_dialect.CaseInsensitive("name")};", ReadRule, cancellationToken,
            ("r", registry));

    public async Task<CacheRule?> GetRuleOrNullAsync(string registry, string name, CancellationToken cancellationToken) =>
        (await database.ListAsync($"SELECT {RuleColumns} FROM cache_rules WHERE registry=@r AND {_dialect.SameName("name", "@n")};", ReadRule, cancellationToken,
            ("r", registry), ("n", name))).FirstOrDefault();

    public async Task<bool> PutRuleAsync(string registry, CacheRule rule, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // The registry's whole-content lock (no repository has an empty name): two rules PUT at once must not both take
        // the same target, nor both insert one new name. SQLite serialises writers anyway; PostgreSQL would instead fail
        // the second with a unique violation.
        await using var transaction = await _dialect.BeginWriteAsync(connection, new RepositoryKey(registry, ""), cancellationToken);
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

    public async Task<bool> DeleteRuleAsync(string registry, string name, CancellationToken cancellationToken) =>
        await database.ExecuteAsync($"DELETE FROM cache_rules WHERE registry=@r AND {_dialect.SameName("name", "@n")};", cancellationToken,
            ("r", registry), ("n", name)) > 0;

    public async Task RecordRuleErrorAsync(string registry, string name, string? error, DateTimeOffset at, CancellationToken cancellationToken) =>
        await database.ExecuteAsync($"UPDATE cache_rules SET last_error=@e, last_error_at=@at WHERE registry=@r AND {_dialect.SameName("name", "@n")};",
            cancellationToken, ("r", registry), ("n", name), ("e", error), ("at", error is null ? null : at.ToUnixTimeMilliseconds()));

    public async Task<IReadOnlyList<CredentialSet>> ListCredentialSetsAsync(string registry, CancellationToken cancellationToken) =>
        await database.ListAsync($"SELECT {SetColumns} FROM credential_sets WHERE registry=@r ORDER BY {_dialect.CaseInsensitive("name")};", ReadSet,
            cancellationToken, ("r", registry));

    public async Task<CredentialSet?> GetCredentialSetOrNullAsync(string registry, string name, CancellationToken cancellationToken) =>
        (await database.ListAsync($"SELECT {SetColumns} FROM credential_sets WHERE registry=@r AND {_dialect.SameName("name", "@n")};", ReadSet,
            cancellationToken, ("r", registry), ("n", name))).FirstOrDefault();

    public async Task PutCredentialSetAsync(string registry, CredentialSet set, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // As for rules: two PUTs of one new name must replace in turn, not collide on the name's unique index.
        await using var transaction = await _dialect.BeginWriteAsync(connection, new RepositoryKey(registry, ""), cancellationToken);
        await ExecuteAsync(connection, $"DELETE FROM credential_sets WHERE registry=@r AND {_dialect.SameName("name", "@n")};", cancellationToken,
            ("r", registry), ("n", set.Name));
        await ExecuteAsync(connection,
            $"INSERT INTO credential_sets (registry, {SetColumns}) VALUES (@r, @n, @l, @u, @p, @id, @at, @e);", cancellationToken,
            ("r", registry), ("n", set.Name), ("l", set.LoginServer), ("u", set.ProtectedUsername), ("p", set.ProtectedPassword),
            ("id", set.PrincipalId), ("at", set.CreatedAt.ToUnixTimeMilliseconds()), ("e", set.LastError));
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<bool> DeleteCredentialSetAsync(string registry, string name, CancellationToken cancellationToken) =>
        await database.ExecuteAsync($"DELETE FROM credential_sets WHERE registry=@r AND {_dialect.SameName("name", "@n")};", cancellationToken,
            ("r", registry), ("n", name)) > 0;

    public async Task RecordCredentialErrorAsync(string registry, string name, string? error, CancellationToken cancellationToken) =>
        await database.ExecuteAsync($"UPDATE credential_sets SET last_error=@e WHERE registry=@r AND {_dialect.SameName("name", "@n")};",
            cancellationToken, ("r", registry), ("n", name), ("e", error));

    private static CacheRule ReadRule(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), StringOrNull(reader, 3), Time(reader, 4), StringOrNull(reader, 5),
        reader.IsDBNull(6) ? null : Time(reader, 6));

    private static CredentialSet ReadSet(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), StringOrNull(reader, 2), StringOrNull(reader, 3), reader.GetString(4), Time(reader, 5),
        StringOrNull(reader, 6));
}
