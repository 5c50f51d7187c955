using Berth.Core.Management;
using static Berth.Metadata.PostgreSql.PostgreSqlCommands;

namespace Berth.Metadata.PostgreSql;

/// <summary>Management service principals; client ids compare case-insensitively (lower()), as SQLite's NOCASE column does.</summary>
internal sealed class PostgreSqlServicePrincipalStore(PostgreSqlDatabase database) : IServicePrincipalStore
{
    private const string Columns = "client_id, display_name, role, secret_hash, secret_created_at, created_at";

    public async Task<ServicePrincipal?> GetOrNullAsync(string clientId, CancellationToken cancellationToken)
    {
        var found = await QueryAsync($"SELECT {Columns} FROM service_principals WHERE lower(client_id)=lower(@id);", cancellationToken, ("id", clientId));
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<ServicePrincipal>> ListAsync(CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {Columns} FROM service_principals ORDER BY created_at, lower(client_id);", cancellationToken);

    public async Task<bool> CreateAsync(ServicePrincipal principal, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await ExecuteAsync(connection,
            $"INSERT INTO service_principals ({Columns}) VALUES (@id, @name, @role, @hash, @secret_at, @created) ON CONFLICT DO NOTHING;", cancellationToken,
            ("id", principal.ClientId), ("name", principal.DisplayName), ("role", principal.Role.ToString()), ("hash", principal.SecretHash),
            ("secret_at", principal.SecretCreatedAt.ToUnixTimeMilliseconds()), ("created", principal.CreatedAt.ToUnixTimeMilliseconds())) > 0;
    }

    public async Task<bool> UpdateSecretAsync(string clientId, string secretHash, DateTimeOffset secretCreatedAt, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await ExecuteAsync(connection,
            "UPDATE service_principals SET secret_hash=@hash, secret_created_at=@at WHERE lower(client_id)=lower(@id);", cancellationToken,
            ("id", clientId), ("hash", secretHash), ("at", secretCreatedAt.ToUnixTimeMilliseconds())) > 0;
    }

    public async Task<bool> DeleteAsync(string clientId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await ExecuteAsync(connection, "DELETE FROM service_principals WHERE lower(client_id)=lower(@id);", cancellationToken, ("id", clientId)) > 0;
    }

    private async Task<IReadOnlyList<ServicePrincipal>> QueryAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Prepare(connection, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<ServicePrincipal>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new ServicePrincipal(reader.GetString(0), reader.GetString(1), Enum.Parse<ManagementRole>(reader.GetString(2)),
                reader.GetString(3), Time(reader, 4), Time(reader, 5)));
        }
        return result;
    }
}
