using Berth.Core.Registries;
using Npgsql;
using static Berth.Metadata.PostgreSql.PostgreSqlCommands;

namespace Berth.Metadata.PostgreSql;

internal sealed class PostgreSqlRegistryStore(PostgreSqlDatabase database) : IRegistryStore
{
    private const string Columns = "name, login_server, sku, anonymous_pull, subscription_id, resource_group, location, created_at, version, arm_extras";

    public async Task<Registry?> GetOrNullAsync(string name, CancellationToken cancellationToken)
    {
        var found = await QueryAsync($"SELECT {Columns} FROM registries WHERE name=@name;", cancellationToken, ("name", name));
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<Registry>> ListAsync(CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {Columns} FROM registries ORDER BY name;", cancellationToken);

    public async Task<bool> CreateAsync(Registry registry, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // No conflict target: a taken name or a taken login server both leave the existing registry alone (INSERT OR IGNORE).
        await using var command = Bind(connection, registry,
            $"INSERT INTO registries ({Columns}) VALUES (@name, @login, @sku, @anon, @sub, @rg, @loc, @created, 1, @extras) ON CONFLICT DO NOTHING;");
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<bool> UpdateAsync(Registry registry, long expectedVersion, IReadOnlyList<ActivityLogEntry> activity, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Optimistic: a concurrent update waits for this row and then finds the version moved on, and so changes nothing.
        await using var command = Bind(connection, registry,
            """
            UPDATE registries SET login_server=@login, sku=@sku, anonymous_pull=@anon, subscription_id=@sub, resource_group=@rg,
                location=@loc, arm_extras=@extras, version=version+1
            WHERE name=@name AND version=@expected;
            """);
        command.Parameters.AddWithValue("expected", expectedVersion);
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0) return false;
        foreach (var entry in activity)
        {
            await ExecuteAsync(connection,
                "INSERT INTO activity_log (registry, at, actor, setting, old_value, new_value) VALUES (@r, @at, @actor, @setting, @old, @new);",
                cancellationToken, ("r", entry.Registry.ToLowerInvariant()), ("at", entry.At.ToUnixTimeMilliseconds()), ("actor", entry.Actor),
                ("setting", entry.Setting), ("old", entry.OldValue), ("new", entry.NewValue));
        }
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<IReadOnlyList<ActivityLogEntry>> ListActivityAsync(string name, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Prepare(connection,
            "SELECT at, actor, setting, old_value, new_value FROM activity_log WHERE registry=@r ORDER BY id DESC LIMIT @limit;",
            ("r", name.ToLowerInvariant()), ("limit", limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<ActivityLogEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new ActivityLogEntry(name, Time(reader, 0), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }
        return result;
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await ExecuteAsync(connection, "DELETE FROM registries WHERE name=@name;", cancellationToken, ("name", name)) > 0;
    }

    private static NpgsqlCommand Bind(NpgsqlConnection connection, Registry registry, string sql) => Prepare(connection, sql,
        ("name", registry.Name.ToLowerInvariant()),
        ("login", registry.LoginServer.ToLowerInvariant()),
        ("sku", registry.Sku.ToString()),
        ("anon", registry.AnonymousPullEnabled),
        ("sub", registry.SubscriptionId),
        ("rg", registry.ResourceGroup),
        ("loc", registry.Location),
        ("created", registry.CreatedAt.ToUnixTimeMilliseconds()),
        ("extras", registry.ArmExtrasJson));

    private async Task<IReadOnlyList<Registry>> QueryAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Prepare(connection, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<Registry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new Registry(
                reader.GetString(0), reader.GetString(1), Enum.Parse<RegistrySku>(reader.GetString(2)), reader.GetBoolean(3),
                reader.GetString(4), reader.GetString(5), reader.GetString(6), Time(reader, 7),
                reader.GetInt64(8), reader.IsDBNull(9) ? null : reader.GetString(9)));
        }
        return result;
    }
}
