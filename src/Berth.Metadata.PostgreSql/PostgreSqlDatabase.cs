using Npgsql;

namespace Berth.Metadata.PostgreSql;

/// <summary>
/// The PostgreSQL database: one pooled <see cref="NpgsqlDataSource"/> for the process, with <see cref="PostgreSqlSchema"/>
/// migrations applied once when it is first created (at start-up, by the first service that needs metadata).
/// </summary>
public sealed class PostgreSqlDatabase : IDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    public PostgreSqlDatabase(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"Berth:Database:ConnectionString is not a valid PostgreSQL connection string: {e.Message}", e);
        }
        _dataSource = NpgsqlDataSource.Create(builder);
        try
        {
            using var connection = _dataSource.OpenConnection();
            PostgreSqlSchema.Migrate(connection);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            _dataSource.Dispose();
            throw new InvalidOperationException(
                $"Cannot open the PostgreSQL metadata database (host {builder.Host}, port {builder.Port}, database {builder.Database}): {e.Message}", e);
        }
    }

    public async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    public void Dispose() => _dataSource.Dispose();
}
