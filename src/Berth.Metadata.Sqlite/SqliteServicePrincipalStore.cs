using Berth.Core.Management;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Berth.Metadata.Sqlite;

internal sealed class SqliteServicePrincipalStore(SqliteDatabase database) : IServicePrincipalStore
{
    private const string Columns = "client_id, display_name, role, secret_hash, secret_created_at, created_at";

    public async Task<ServicePrincipal?> GetOrNullAsync(string clientId, CancellationToken cancellationToken)
    {
        var found = await QueryAsync($"SELECT {Columns} FROM service_principals WHERE client_id=$id;", cancellationToken, ("$id", clientId));
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<ServicePrincipal>> ListAsync(CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {Columns} FROM service_principals ORDER BY created_at, client_id;", cancellationToken);

    public async Task<bool> CreateAsync(ServicePrincipal principal, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"INSERT OR IGNORE INTO service_principals ({Columns}) VALUES ($id, $name, $role, $hash, $secret_at, $created);";
        command.Parameters.AddWithValue("$id", principal.ClientId);
        command.Parameters.AddWithValue("$name", principal.DisplayName);
        command.Parameters.AddWithValue("$role", principal.Role.ToString());
        command.Parameters.AddWithValue("$hash", principal.SecretHash);
        command.Parameters.AddWithValue("$secret_at", principal.SecretCreatedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$created", principal.CreatedAt.ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<bool> UpdateSecretAsync(string clientId, string secretHash, DateTimeOffset secretCreatedAt, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE service_principals SET secret_hash=$hash, secret_created_at=$at WHERE client_id=$id;";
        command.Parameters.AddWithValue("$id", clientId);
        command.Parameters.AddWithValue("$hash", secretHash);
        command.Parameters.AddWithValue("$at", secretCreatedAt.ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<bool> DeleteAsync(string clientId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM service_principals WHERE client_id=$id;";
        command.Parameters.AddWithValue("$id", clientId);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private async Task<IReadOnlyList<ServicePrincipal>> QueryAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<ServicePrincipal>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new ServicePrincipal(reader.GetString(0), reader.GetString(1), Enum.Parse<ManagementRole>(reader.GetString(2)),
                reader.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5))));
        }
        return result;
    }
}

public static class SqliteManagementExtensions
{
    /// <summary>Keeps management service principals in the SQLite database (register <c>AddSqliteMetadataStore</c> first).</summary>
    public static IServiceCollection AddSqliteServicePrincipalStore(this IServiceCollection services)
    {
        services.TryAddSingleton<IServicePrincipalStore, SqliteServicePrincipalStore>();
        return services;
    }
}
