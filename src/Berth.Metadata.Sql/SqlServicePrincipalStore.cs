using Berth.Core.Management;
using static Berth.Metadata.Sql.SqlCommands;

namespace Berth.Metadata.Sql;

/// <summary>Management service principals; client ids compare case-insensitively (<see cref="SqlDialect.CaseInsensitive"/>).</summary>
internal sealed class SqlServicePrincipalStore(SqlDatabase database) : IServicePrincipalStore
{
    private const string Columns = "client_id, display_name, role, secret_hash, secret_created_at, created_at";

    private readonly SqlDialect _dialect = database.Dialect;

    public async Task<ServicePrincipal?> GetOrNullAsync(string clientId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {Columns} FROM service_principals WHERE {_dialect.SameName("client_id", "@id")};", cancellationToken, ("id", clientId))).FirstOrDefault();

    public async Task<IReadOnlyList<ServicePrincipal>> ListAsync(CancellationToken cancellationToken) =>
        await QueryAsync($"SELECT {Columns} FROM service_principals ORDER BY created_at, {_dialect.CaseInsensitive("client_id")};", cancellationToken);

    public async Task<bool> CreateAsync(ServicePrincipal principal, CancellationToken cancellationToken) =>
        await database.ExecuteAsync(
            _dialect.InsertOrIgnore($"service_principals ({Columns}) VALUES (@id, @name, @role, @hash, @secret_at, @created)"), cancellationToken,
            ("id", principal.ClientId), ("name", principal.DisplayName), ("role", principal.Role.ToString()), ("hash", principal.SecretHash),
            ("secret_at", principal.SecretCreatedAt.ToUnixTimeMilliseconds()), ("created", principal.CreatedAt.ToUnixTimeMilliseconds())) > 0;

    public async Task<bool> UpdateSecretAsync(string clientId, string secretHash, DateTimeOffset secretCreatedAt, CancellationToken cancellationToken) =>
        await database.ExecuteAsync(
            $"UPDATE service_principals SET secret_hash=@hash, secret_created_at=@at WHERE {_dialect.SameName("client_id", "@id")};", cancellationToken,
            ("id", clientId), ("hash", secretHash), ("at", secretCreatedAt.ToUnixTimeMilliseconds())) > 0;

    public async Task<bool> DeleteAsync(string clientId, CancellationToken cancellationToken) =>
        await database.ExecuteAsync($"DELETE FROM service_principals WHERE {_dialect.SameName("client_id", "@id")};", cancellationToken, ("id", clientId)) > 0;

    private Task<List<ServicePrincipal>> QueryAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters) =>
        database.ListAsync(sql,
            reader => new ServicePrincipal(reader.GetString(0), reader.GetString(1), Enum.Parse<ManagementRole>(reader.GetString(2)),
                reader.GetString(3), Time(reader, 4), Time(reader, 5)),
            cancellationToken, parameters);
}
