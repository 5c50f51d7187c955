using System.Text.Json;
using static Berth.Metadata.Sql.SqlCommands;

namespace Berth.Metadata.Sql;

internal sealed class SqlRegistryStore(SqlDatabase database) : IRegistryStore
{
    private const string Columns = "name, login_server, sku, anonymous_pull, subscription_id, resource_group, location, created_at, version, arm_extras, anonymous_pull_repositories";

    public async Task<Registry?> GetOrNullAsync(string name, CancellationToken cancellationToken) =>
        (await database.ListAsync($"SELECT {Columns} FROM registries WHERE name=@name;", ReadRegistry, cancellationToken, ("name", name))).FirstOrDefault();

    public async Task<IReadOnlyList<Registry>> ListAsync(CancellationToken cancellationToken) =>
        await database.ListAsync($"SELECT {Columns} FROM registries ORDER BY name;", ReadRegistry, cancellationToken);

    /// <summary>A taken name or a taken login server both leave the existing registry alone.</summary>
    public async Task<bool> CreateAsync(Registry registry, CancellationToken cancellationToken) =>
        await database.ExecuteAsync(
            database.Dialect.InsertOrIgnore($"registries ({Columns}) VALUES (@name, @login, @sku, @anon, @sub, @rg, @loc, @created, 1, @extras, @anonrepos)"),
            cancellationToken, Bind(registry)) > 0;

    public async Task<bool> UpdateAsync(Registry registry, long expectedVersion, IReadOnlyList<ActivityLogEntry> activity, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Optimistic: a concurrent update waits for this row and then finds the version moved on, and so changes nothing.
        var updated = await ExecuteAsync(connection,
            """
            UPDATE registries SET login_server=@login, sku=@sku, anonymous_pull=@anon, subscription_id=@sub, resource_group=@rg,
                location=@loc, arm_extras=@extras, anonymous_pull_repositories=@anonrepos, version=version+1
            WHERE name=@name AND version=@expected;
            """, cancellationToken, [.. Bind(registry), ("expected", expectedVersion)]);
        if (updated == 0) return false;
        foreach (var entry in activity)
            await ExecuteAsync(connection,
                "INSERT INTO activity_log (registry, at, actor, setting, old_value, new_value) VALUES (@r, @at, @actor, @setting, @old, @new);",
                cancellationToken, ("r", entry.Registry.ToLowerInvariant()), ("at", entry.At.ToUnixTimeMilliseconds()), ("actor", entry.Actor),
                ("setting", entry.Setting), ("old", entry.OldValue), ("new", entry.NewValue));
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<IReadOnlyList<ActivityLogEntry>> ListActivityAsync(string name, int limit, CancellationToken cancellationToken) =>
        await database.ListAsync("SELECT at, actor, setting, old_value, new_value FROM activity_log WHERE registry=@r ORDER BY id DESC LIMIT @limit;",
            reader => new ActivityLogEntry(name, Time(reader, 0), reader.GetString(1), reader.GetString(2), StringOrNull(reader, 3), StringOrNull(reader, 4)),
            cancellationToken, ("r", name.ToLowerInvariant()), ("limit", limit));

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) =>
        await database.ExecuteAsync("DELETE FROM registries WHERE name=@name;", cancellationToken, ("name", name)) > 0;

    private static (string, object?)[] Bind(Registry registry) =>
    [
        ("name", registry.Name.ToLowerInvariant()),
        ("login", registry.LoginServer.ToLowerInvariant()),
        ("sku", registry.Sku.ToString()),
        ("anon", registry.AnonymousPullEnabled),
        ("sub", registry.SubscriptionId),
        ("rg", registry.ResourceGroup),
        ("loc", registry.Location),
        ("created", registry.CreatedAt.ToUnixTimeMilliseconds()),
        ("extras", registry.ArmExtrasJson),
        // A JSON array of patterns; NULL for every repository.
        ("anonrepos", registry.AnonymousPullRepositories is { } patterns ? JsonSerializer.Serialize(patterns) : null),
    ];

    private static Registry ReadRegistry(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), Enum.Parse<RegistrySku>(reader.GetString(2)), reader.GetBoolean(3),
        reader.GetString(4), reader.GetString(5), reader.GetString(6), Time(reader, 7), reader.GetInt64(8), StringOrNull(reader, 9),
        StringOrNull(reader, 10) is { } patterns ? JsonSerializer.Deserialize<string[]>(patterns) : null);
}
