using System.Text.Json;
using Berth.Core.Identity;
using static Berth.Metadata.Sql.SqlCommands;

namespace Berth.Metadata.Sql;

/// <summary>
/// <see cref="IIdentityStore"/> on the SQL database. Each put takes its version from <c>identity_sequence</c> inside the
/// same transaction; the write lock that UPDATE takes serialises puts, so versions are unique and increase in commit
/// order. Token and scope map names compare case-insensitively (<see cref="SqlDialect.CaseInsensitive"/>) and keep the
/// spelling chosen at creation.
/// </summary>
internal sealed class SqlIdentityStore(SqlDatabase database) : IIdentityStore
{
    private const string TokenColumns =
        "registry, name, scope_map, enabled, created_at, password1, password1_created_at, password1_expiry, " +
        "password2, password2_created_at, password2_expiry, version";

    private const string ScopeMapColumns = "registry, name, description, actions, created_at, version";

    private readonly SqlDialect _dialect = database.Dialect;

    public async Task<AdminUserRecord?> GetAdminUserOrNullAsync(string registry, CancellationToken cancellationToken) =>
        (await database.ListAsync(
            "SELECT registry, enabled, password, password_created_at, password_expiry, password2, password2_created_at, password2_expiry, version " +
            "FROM admin_users WHERE registry=@r;",
            reader => new AdminUserRecord(reader.GetString(0), reader.GetBoolean(1), ReadPassword(reader, 2), ReadPassword(reader, 5), reader.GetInt64(8)),
            cancellationToken, ("r", registry))).FirstOrDefault();

    public async Task<AdminUserRecord> PutAdminUserAsync(AdminUserRecord adminUser, CancellationToken cancellationToken)
    {
        var version = await PutAsync(
            """
            INSERT INTO admin_users (registry, enabled, password, password_created_at, password_expiry, password2, password2_created_at, password2_expiry, version)
            VALUES (@r, @e, @p1, @p1c, @p1x, @p2, @p2c, @p2x, @v)
            ON CONFLICT (registry) DO UPDATE SET enabled=excluded.enabled, password=excluded.password,
                password_created_at=excluded.password_created_at, password_expiry=excluded.password_expiry,
                password2=excluded.password2, password2_created_at=excluded.password2_created_at,
                password2_expiry=excluded.password2_expiry, version=excluded.version
            RETURNING version;
            """, reader => reader.GetInt64(0), cancellationToken,
            [("r", adminUser.Registry), ("e", adminUser.Enabled), .. PasswordParameters("p1", adminUser.Password), .. PasswordParameters("p2", adminUser.Password2)]);
        return adminUser with { Version = version };
    }

    public async Task<TokenRecord?> GetTokenOrNullAsync(string registry, string name, CancellationToken cancellationToken) =>
        (await database.ListAsync($"SELECT {TokenColumns} FROM tokens WHERE registry=@r AND {_dialect.SameName("name", "@n")};", ReadToken, cancellationToken,
            ("r", registry), ("n", name))).FirstOrDefault();

    public async Task<IReadOnlyList<TokenRecord>> ListTokensAsync(string registry, CancellationToken cancellationToken) =>
        await database.ListAsync($"SELECT {TokenColumns} FROM tokens WHERE registry=@r ORDER BY {_dialect.CaseInsensitive("name")};", ReadToken, cancellationToken,
            ("r", registry));

    public Task<int> CountTokensAsync(string registry, CancellationToken cancellationToken) => CountAsync("tokens", registry, cancellationToken);

    public async Task<IReadOnlyList<string>> ListTokensUsingScopeMapAsync(string registry, string scopeMapName, int limit, CancellationToken cancellationToken) =>
        await database.ListAsync(
            $"SELECT name FROM tokens WHERE registry=@r AND {_dialect.SameName("scope_map", "@s")} " +
            $"ORDER BY {_dialect.CaseInsensitive("name")} LIMIT @l;",
            reader => reader.GetString(0), cancellationToken, ("r", registry), ("s", scopeMapName), ("l", limit));

    public Task<TokenRecord> PutTokenAsync(TokenRecord token, CancellationToken cancellationToken) =>
        // The conflict clause keeps the stored name, so the spelling chosen at creation survives updates.
        PutAsync(
            $"""
            INSERT INTO tokens ({TokenColumns}) VALUES (@r, @n, @s, @e, @c, @p1, @p1c, @p1x, @p2, @p2c, @p2x, @v)
            ON CONFLICT (registry, {_dialect.CaseInsensitive("name")}) DO UPDATE SET scope_map=excluded.scope_map, enabled=excluded.enabled,
                created_at=excluded.created_at, password1=excluded.password1, password1_created_at=excluded.password1_created_at,
                password1_expiry=excluded.password1_expiry, password2=excluded.password2,
                password2_created_at=excluded.password2_created_at, password2_expiry=excluded.password2_expiry,
                version=excluded.version
            RETURNING {TokenColumns};
            """, ReadToken, cancellationToken,
            [("r", token.Registry), ("n", token.Name), ("s", token.ScopeMapName), ("e", token.Enabled),
             ("c", token.CreatedAt.ToUnixTimeMilliseconds()), .. PasswordParameters("p1", token.Password1), .. PasswordParameters("p2", token.Password2)]);

    public Task<bool> DeleteTokenAsync(string registry, string name, CancellationToken cancellationToken) =>
        DeleteAsync($"DELETE FROM tokens WHERE registry=@r AND {_dialect.SameName("name", "@n")};", registry, name, cancellationToken);

    public async Task<ScopeMapRecord?> GetScopeMapOrNullAsync(string registry, string name, CancellationToken cancellationToken) =>
        (await database.ListAsync($"SELECT {ScopeMapColumns} FROM scope_maps WHERE registry=@r AND {_dialect.SameName("name", "@n")};", ReadScopeMap,
            cancellationToken, ("r", registry), ("n", name))).FirstOrDefault();

    public async Task<IReadOnlyList<ScopeMapRecord>> ListScopeMapsAsync(string registry, CancellationToken cancellationToken) =>
        await database.ListAsync($"SELECT {ScopeMapColumns} FROM scope_maps WHERE registry=@r ORDER BY {_dialect.CaseInsensitive("name")};", ReadScopeMap,
            cancellationToken, ("r", registry));

    public Task<int> CountScopeMapsAsync(string registry, CancellationToken cancellationToken) => CountAsync("scope_maps", registry, cancellationToken);

    public Task<ScopeMapRecord> PutScopeMapAsync(ScopeMapRecord scopeMap, CancellationToken cancellationToken) =>
        PutAsync(
            $"""
            INSERT INTO scope_maps ({ScopeMapColumns}) VALUES (@r, @n, @d, @a, @c, @v)
            ON CONFLICT (registry, {_dialect.CaseInsensitive("name")}) DO UPDATE SET description=excluded.description, actions=excluded.actions,
                created_at=excluded.created_at, version=excluded.version
            RETURNING {ScopeMapColumns};
            """, ReadScopeMap, cancellationToken,
            ("r", scopeMap.Registry), ("n", scopeMap.Name), ("d", scopeMap.Description),
            ("a", JsonSerializer.Serialize(scopeMap.Actions)), ("c", scopeMap.CreatedAt.ToUnixTimeMilliseconds()));

    public Task<bool> DeleteScopeMapAsync(string registry, string name, CancellationToken cancellationToken) =>
        DeleteAsync($"DELETE FROM scope_maps WHERE registry=@r AND {_dialect.SameName("name", "@n")};", registry, name, cancellationToken);

    public async Task DeleteRegistryAsync(string registry, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var table in new[] { "tokens", "scope_maps", "admin_users" })
            await ExecuteAsync(connection, $"DELETE FROM {table} WHERE registry=@r;", cancellationToken, ("r", registry));
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Runs the upsert <paramref name="sql"/> with <c>@v</c> bound to the next identity version, in one transaction; reads the row it returns.</summary>
    private async Task<T> PutAsync<T>(string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var version = (long)(await ScalarAsync(connection, "UPDATE identity_sequence SET value = value + 1 WHERE id = 1 RETURNING value;", cancellationToken))!;
        var stored = await ListAsync(connection, sql, read, cancellationToken, [.. parameters, ("v", version)]);
        await transaction.CommitAsync(cancellationToken);
        return stored[0];
    }

    private async Task<int> CountAsync(string table, string registry, CancellationToken cancellationToken) =>
        Convert.ToInt32(await database.ScalarAsync($"SELECT COUNT(*) FROM {table} WHERE registry=@r;", cancellationToken, ("r", registry)));

    private async Task<bool> DeleteAsync(string sql, string registry, string name, CancellationToken cancellationToken) =>
        await database.ExecuteAsync(sql, cancellationToken, ("r", registry), ("n", name)) > 0;

    private static TokenRecord ReadToken(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetBoolean(3), Time(reader, 4),
        ReadPassword(reader, 5), ReadPassword(reader, 8), reader.GetInt64(11));

    private static ScopeMapRecord ReadScopeMap(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), StringOrNull(reader, 2), JsonSerializer.Deserialize<string[]>(reader.GetString(3)) ?? [],
        Time(reader, 4), reader.GetInt64(5));

    /// <summary>Reads the (secret, created_at, expiry) column triple starting at <paramref name="ordinal"/>.</summary>
    private static StoredPassword? ReadPassword(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal)
            ? null
            : new StoredPassword(reader.GetString(ordinal), Time(reader, ordinal + 1), reader.IsDBNull(ordinal + 2) ? null : Time(reader, ordinal + 2));

    private static (string, object?)[] PasswordParameters(string prefix, StoredPassword? password) =>
    [
        (prefix, password?.Secret),
        (prefix + "c", password?.CreatedAt.ToUnixTimeMilliseconds()),
        (prefix + "x", password?.Expiry?.ToUnixTimeMilliseconds()),
    ];
}
