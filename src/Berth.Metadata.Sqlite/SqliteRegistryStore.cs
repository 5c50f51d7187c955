using Berth.Core.Registries;
using Microsoft.Data.Sqlite;

namespace Berth.Metadata.Sqlite;

internal sealed class SqliteRegistryStore(SqliteDatabase database) : IRegistryStore
{
    private const string Columns = "name, login_server, sku, anonymous_pull, subscription_id, resource_group, location, created_at, version, arm_extras";

    public async Task<Registry?> GetOrNullAsync(string name, CancellationToken cancellationToken)
    {
        var found = await QueryAsync($"SELECT {Columns} FROM registries WHERE name=$name;", cancellationToken, ("$name", name));
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<Registry>> ListAsync(CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {Columns} FROM registries ORDER BY name;", cancellationToken);

    public async Task<bool> CreateAsync(Registry registry, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Bind(connection, registry,
            $"INSERT OR IGNORE INTO registries ({Columns}) VALUES ($name, $login, $sku, $anon, $sub, $rg, $loc, $created, 1, $extras);");
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<bool> UpdateAsync(Registry registry, long expectedVersion, IReadOnlyList<ActivityLogEntry> activity, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = Bind(connection, registry,
            """
            UPDATE registries SET login_server=$login, sku=$sku, anonymous_pull=$anon, subscription_id=$sub, resource_group=$rg,
                location=$loc, arm_extras=$extras, version=version+1
            WHERE name=$name AND version=$expected;
            """);
        command.Parameters.AddWithValue("$expected", expectedVersion);
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0) return false;
        foreach (var entry in activity)
        {
            await using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO activity_log (registry, at, actor, setting, old_value, new_value) VALUES ($r, $at, $actor, $setting, $old, $new);";
            insert.Parameters.AddWithValue("$r", entry.Registry.ToLowerInvariant());
            insert.Parameters.AddWithValue("$at", entry.At.ToUnixTimeMilliseconds());
            insert.Parameters.AddWithValue("$actor", entry.Actor);
            insert.Parameters.AddWithValue("$setting", entry.Setting);
            insert.Parameters.AddWithValue("$old", (object?)entry.OldValue ?? DBNull.Value);
            insert.Parameters.AddWithValue("$new", (object?)entry.NewValue ?? DBNull.Value);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<IReadOnlyList<ActivityLogEntry>> ListActivityAsync(string name, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT at, actor, setting, old_value, new_value FROM activity_log WHERE registry=$r ORDER BY id DESC LIMIT $limit;";
        command.Parameters.AddWithValue("$r", name.ToLowerInvariant());
        command.Parameters.AddWithValue("$limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<ActivityLogEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new ActivityLogEntry(name, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }
        return result;
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM registries WHERE name=$name;";
        command.Parameters.AddWithValue("$name", name);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private static SqliteCommand Bind(SqliteConnection connection, Registry registry, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$name", registry.Name.ToLowerInvariant());
        command.Parameters.AddWithValue("$login", registry.LoginServer.ToLowerInvariant());
        command.Parameters.AddWithValue("$sku", registry.Sku.ToString());
        command.Parameters.AddWithValue("$anon", registry.AnonymousPullEnabled ? 1 : 0);
        command.Parameters.AddWithValue("$sub", registry.SubscriptionId);
        command.Parameters.AddWithValue("$rg", registry.ResourceGroup);
        command.Parameters.AddWithValue("$loc", registry.Location);
        command.Parameters.AddWithValue("$created", registry.CreatedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$extras", (object?)registry.ArmExtrasJson ?? DBNull.Value);
        return command;
    }

    private async Task<IReadOnlyList<Registry>> QueryAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<Registry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new Registry(
                reader.GetString(0), reader.GetString(1), Enum.Parse<RegistrySku>(reader.GetString(2)), reader.GetInt64(3) != 0,
                reader.GetString(4), reader.GetString(5), reader.GetString(6), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7)),
                reader.GetInt64(8), reader.IsDBNull(9) ? null : reader.GetString(9)));
        }
        return result;
    }
}
