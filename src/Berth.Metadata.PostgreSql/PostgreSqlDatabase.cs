using System.Data.Common;
using Berth.Core.Storage;
using Berth.Metadata.Sql;
using Npgsql;

namespace Berth.Metadata.PostgreSql;

/// <summary>
/// The PostgreSQL database: one pooled <see cref="NpgsqlDataSource"/> for the process, with <see cref="PostgreSqlSchema"/>
/// migrations applied once when it is first created (at start-up, by the first service that needs metadata).
/// Unless the connection string says otherwise, connecting gives up after <see cref="DefaultConnectTimeoutSeconds"/>.
/// </summary>
public sealed class PostgreSqlDatabase : SqlDatabase, IDisposable
{
    /// <summary>
    /// Npgsql waits 15 seconds by default; a request waiting that long for a database that is down holds its client
    /// past most client timeouts, where a prompt 503 with Retry-After lets it retry.
    /// </summary>
    public const int DefaultConnectTimeoutSeconds = 4;

    private readonly NpgsqlDataSource _dataSource;

    public PostgreSqlDatabase(string connectionString) : base(new PostgreSqlDialect())
    {
        var builder = Parse(connectionString);
        if (!SetsConnectTimeout(connectionString)) builder.Timeout = DefaultConnectTimeoutSeconds;
        _dataSource = NpgsqlDataSource.Create(builder);
        try
        {
            using var connection = _dataSource.OpenConnection();
            PostgreSqlSchema.Migrate(connection);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            _dataSource.Dispose();
            var message = $"cannot open the metadata database (host {builder.Host}, port {builder.Port}, database {builder.Database}): {e.Message}";
            // Not there (yet): start-up may wait for it. Anything else (a wrong password, a missing database) will not pass by itself.
            if (PostgreSqlUnavailability.IsUnavailable(e)) throw new ProviderUnavailableException(PostgreSqlUnavailability.Provider, message, e);
            throw new InvalidOperationException("PostgreSQL: " + message, e);
        }
    }

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    /// <summary>
    /// A session-level advisory lock on a connection of its own, kept out of the pool while the lease is held: every node
    /// of the database competes for the same key, and if the holder dies or its connection breaks, PostgreSQL releases
    /// the lock with the session, so a crashed node never blocks collection.
    /// </summary>
    public override async Task<IAsyncDisposable?> TryAcquireMaintenanceLeaseAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(cancellationToken);
        var acquired = false;
        try
        {
            acquired = await SqlCommands.ScalarAsync(connection, $"SELECT pg_try_advisory_lock({MaintenanceLockKey});", cancellationToken) is true;
            return acquired ? new MaintenanceLease(connection) : null;
        }
        finally
        {
            if (!acquired) await connection.DisposeAsync();
        }
    }

    /// <summary>The lease's key, hashed the way the repository locks' keys are (<see cref="PostgreSqlDialect.BeginWriteAsync"/>).</summary>
    private const string MaintenanceLockKey = "hashtextextended('maintenance:garbage-collection', 0)";

    private sealed class MaintenanceLease(DbConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await SqlCommands.ScalarAsync(connection, $"SELECT pg_advisory_unlock({MaintenanceLockKey});", CancellationToken.None);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // The connection broke; the session, and the lock with it, is gone already.
            }
            finally
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>Closes the pool's idle connections, and each busy one when it is returned (after a connection failure).</summary>
    public void ClearPool() => _dataSource.Clear();

    public void Dispose() => _dataSource.Dispose();

    /// <summary>The message leaves the string out: it may hold a password.</summary>
    internal static NpgsqlConnectionStringBuilder Parse(string connectionString)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"Berth:Database:ConnectionString is not a valid PostgreSQL connection string: {e.Message}", e);
        }
    }

    /// <summary>Reads the raw keys, not NpgsqlConnectionStringBuilder, which reports its default as if it had been given.</summary>
    private static bool SetsConnectTimeout(string connectionString) =>
        new DbConnectionStringBuilder { ConnectionString = connectionString }.ContainsKey("Timeout");
}
