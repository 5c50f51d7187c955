using System.Text.Json;
using Berth.Core.Identity;
using Npgsql;
using static Berth.Metadata.PostgreSql.PostgreSqlCommands;

namespace Berth.Metadata.PostgreSql;

/// <summary>
/// <see cref="IIdentityStore"/> on PostgreSQL. Each put takes its version from <c>identity_sequence</c> inside the same
/// transaction; the row lock that UPDATE takes serialises puts, so versions are unique and increase in commit order.
/// Token and scope map names compare case-insensitively through <c>lower()</c> and keep the spelling chosen at creation.
/// </summary>
internal sealed class PostgreSqlIdentityStore(PostgreSqlDatabase database) : IIdentityStore
{
    private const string TokenColumns =
        "registry, name, scope_map, enabled, created_at, password1, password1_created_at, password1_expiry, " +
        "password2, password2_created_at, password2_expiry, version";

    private const string ScopeMapColumns = "registry, name, description, actions, created_at, version";

    public async Task<AdminUserRecord?> GetAdminUserOrNullAsync(string registry, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Prepare(connection,
            "SELECT registry, enabled, password, password_created_at, password_expiry, password2, password2_created_at, password2_expiry, version " +
            "FROM admin_users WHERE registry=@r;", ("r", registry));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;
        return new AdminUserRecord(reader.GetString(0), reader.GetBoolean(1), ReadPassword(reader, 2), ReadPassword(reader, 5), reader.GetInt64(8));
    }

    public async Task<AdminUserRecord> PutAdminUserAsync(AdminUserRecord adminUser, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var version = await NextVersionAsync(connection, cancellationToken);
        await ExecuteAsync(connection,
            """
            INSERT INTO admin_users (registry, enabled, password, password_created_at, password_expiry, password2, password2_created_at, password2_expiry, version)
            VALUES (@r, @e, @p1, @p1c, @p1x, @p2, @p2c, @p2x, @v)
            ON CONFLICT (registry) DO UPDATE SET enabled=excluded.enabled, password=excluded.password,
                password_created_at=excluded.password_created_at, password_expiry=excluded.password_expiry,
                password2=excluded.password2, password2_created_at=excluded.password2_created_at,
                password2_expiry=excluded.password2_expiry, version=excluded.version;
            """, cancellationToken,
            [("r", adminUser.Registry), ("e", adminUser.Enabled), .. PasswordParameters("p1", adminUser.Password),
             .. PasswordParameters("p2", adminUser.Password2), ("v", version)]);
        await transaction.CommitAsync(cancellationToken);
        return adminUser with { Version = version };
    }

    public async Task<TokenRecord?> GetTokenOrNullAsync(string registry, string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Prepare(connection, $"SELECT {TokenColumns} FROM tokens WHERE registry=@r AND lower(name)=lower(@n);", ("r", registry), ("n", name));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadToken(reader) : null;
    }

    public async Task<IReadOnlyList<TokenRecord>> ListTokensAsync(string registry, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Prepare(connection, $"SELECT {TokenColumns} FROM tokens WHERE registry=@r ORDER BY lower(name);", ("r", registry));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tokens = new List<TokenRecord>();
        while (await reader.ReadAsync(cancellationToken))
            tokens.Add(ReadToken(reader));
        return tokens;
    }

    public async Task<int> CountTokensAsync(string registry, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return Convert.ToInt32(await ScalarAsync(connection, "SELECT COUNT(*) FROM tokens WHERE registry=@r;", cancellationToken, ("r", registry)));
    }

    public async Task<IReadOnlyList<string>> ListTokensUsingScopeMapAsync(string registry, string scopeMapName, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await ListStringsAsync(connection,
            "SELECT name FROM tokens WHERE registry=@r AND lower(scope_map)=lower(@s) ORDER BY lower(name) LIMIT @l;", cancellationToken,
            ("r", registry), ("s", scopeMapName), ("l", limit));
    }

    public async Task<TokenRecord> PutTokenAsync(TokenRecord token, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var version = await NextVersionAsync(connection, cancellationToken);
        // The conflict clause keeps the stored name, so the spelling chosen at creation survives updates.
        await using var command = Prepare(connection,
            $"""
            INSERT INTO tokens ({TokenColumns}) VALUES (@r, @n, @s, @e, @c, @p1, @p1c, @p1x, @p2, @p2c, @p2x, @v)
            ON CONFLICT (registry, lower(name)) DO UPDATE SET scope_map=excluded.scope_map, enabled=excluded.enabled,
                created_at=excluded.created_at, password1=excluded.password1, password1_created_at=excluded.password1_created_at,
                password1_expiry=excluded.password1_expiry, password2=excluded.password2,
                password2_created_at=excluded.password2_created_at, password2_expiry=excluded.password2_expiry,
                version=excluded.version
            RETURNING {TokenColumns};
            """,
            [("r", token.Registry), ("n", token.Name), ("s", token.ScopeMapName), ("e", token.Enabled),
             ("c", token.CreatedAt.ToUnixTimeMilliseconds()), .. PasswordParameters("p1", token.Password1),
             .. PasswordParameters("p2", token.Password2), ("v", version)]);
        TokenRecord stored;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            stored = ReadToken(reader);
        }
        await transaction.CommitAsync(cancellationToken);
        return stored;
    }

    public Task<bool> DeleteTokenAsync(string registry, string name, CancellationToken cancellationToken) =>
        DeleteAsync("DELETE FROM tokens WHERE registry=@r AND lower(name)=lower(@n);", registry, name, cancellationToken);

    public async Task<ScopeMapRecord?> GetScopeMapOrNullAsync(string registry, string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Prepare(connection, $"SELECT {ScopeMapColumns} FROM scope_maps WHERE registry=@r AND lower(name)=lower(@n);", ("r", registry), ("n", name));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadScopeMap(reader) : null;
    }

    public async Task<IReadOnlyList<ScopeMapRecord>> ListScopeMapsAsync(string registry, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Prepare(connection, $"SELECT {ScopeMapColumns} FROM scope_maps WHERE registry=@r ORDER BY lower(name);", ("r", registry));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var maps = new List<ScopeMapRecord>();
        while (await reader.ReadAsync(cancellationToken))
            maps.Add(ReadScopeMap(reader));
        return maps;
    }

    public async Task<int> CountScopeMapsAsync(string registry, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return Convert.ToInt32(await ScalarAsync(connection, "SELECT COUNT(*) FROM scope_maps WHERE registry=@r;", cancellationToken, ("r", registry)));
    }

    public async Task<ScopeMapRecord> PutScopeMapAsync(ScopeMapRecord scopeMap, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var version = await NextVersionAsync(connection, cancellationToken);
        await using var command = Prepare(connection,
            $"""
            INSERT INTO scope_maps ({ScopeMapColumns}) VALUES (@r, @n, @d, @a, @c, @v)
            ON CONFLICT (registry, lower(name)) DO UPDATE SET description=excluded.description, actions=excluded.actions,
                created_at=excluded.created_at, version=excluded.version
            RETURNING {ScopeMapColumns};
            """,
            ("r", scopeMap.Registry), ("n", scopeMap.Name), ("d", scopeMap.Description),
            ("a", JsonSerializer.Serialize(scopeMap.Actions)), ("c", scopeMap.CreatedAt.ToUnixTimeMilliseconds()), ("v", version));
        ScopeMapRecord stored;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            stored = ReadScopeMap(reader);
        }
        await transaction.CommitAsync(cancellationToken);
        return stored;
    }

    public Task<bool> DeleteScopeMapAsync(string registry, string name, CancellationToken cancellationToken) =>
        DeleteAsync("DELETE FROM scope_maps WHERE registry=@r AND lower(name)=lower(@n);", registry, name, cancellationToken);

    public async Task DeleteRegistryAsync(string registry, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var table in new[] { "tokens", "scope_maps", "admin_users" })
            await ExecuteAsync(connection, $"DELETE FROM {table} WHERE registry=@r;", cancellationToken, ("r", registry));
        await transaction.CommitAsync(cancellationToken);
    }

    private async Task<bool> DeleteAsync(string sql, string registry, string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await ExecuteAsync(connection, sql, cancellationToken, ("r", registry), ("n", name)) > 0;
    }

    private static async Task<long> NextVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        (long)(await ScalarAsync(connection, "UPDATE identity_sequence SET value = value + 1 WHERE id = 1 RETURNING value;", cancellationToken))!;

    private static TokenRecord ReadToken(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetBoolean(3),
        Time(reader, 4),
        ReadPassword(reader, 5),
        ReadPassword(reader, 8),
        reader.GetInt64(11));

    private static ScopeMapRecord ReadScopeMap(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        JsonSerializer.Deserialize<string[]>(reader.GetString(3)) ?? [],
        Time(reader, 4),
        reader.GetInt64(5));

    /// <summary>Reads the (secret, created_at, expiry) column triple starting at <paramref name="ordinal"/>.</summary>
    private static StoredPassword? ReadPassword(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal)
            ? null
            : new StoredPassword(
                reader.GetString(ordinal),
                Time(reader, ordinal + 1),
                reader.IsDBNull(ordinal + 2) ? null : Time(reader, ordinal + 2));

    private static (string, object?)[] PasswordParameters(string prefix, StoredPassword? password) =>
    [
        (prefix, password?.Secret),
        (prefix + "c", password?.CreatedAt.ToUnixTimeMilliseconds()),
        (prefix + "x", password?.Expiry?.ToUnixTimeMilliseconds()),
    ];
}
