using System.Net.Sockets;
using Berth.Core.Storage;
using Npgsql;

namespace Berth.Metadata.PostgreSql.Tests;

/// <summary>Which failures mean "the database is not there" (503 at the host) and which are left alone.</summary>
public sealed class PostgreSqlUnavailabilityTests
{
    [Theory]
    [InlineData(PostgresErrorCodes.AdminShutdown)]
    [InlineData(PostgresErrorCodes.CrashShutdown)]
    [InlineData(PostgresErrorCodes.CannotConnectNow)]
    [InlineData(PostgresErrorCodes.ConnectionFailure)]
    [InlineData(PostgresErrorCodes.TooManyConnections)]
    public void ServerGoingAwayOrFull_IsUnavailable(string sqlState) =>
        Assert.True(PostgreSqlUnavailability.IsUnavailable(new PostgresException("going away", "FATAL", "FATAL", sqlState)));

    [Theory]
    [InlineData(PostgresErrorCodes.UniqueViolation)]
    [InlineData(PostgresErrorCodes.ForeignKeyViolation)]
    [InlineData(PostgresErrorCodes.SyntaxError)]
    [InlineData(PostgresErrorCodes.UndefinedTable)]
    [InlineData(PostgresErrorCodes.SerializationFailure)]
    [InlineData(PostgresErrorCodes.DeadlockDetected)]
    public void ConstraintViolationsAndBugs_AreNotUnavailable(string sqlState) =>
        Assert.False(PostgreSqlUnavailability.IsUnavailable(new PostgresException("no", "ERROR", "ERROR", sqlState)));

    [Fact]
    public void ConnectionRefusedResetOrTimedOut_IsUnavailable()
    {
        Assert.True(PostgreSqlUnavailability.IsUnavailable(new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.True(PostgreSqlUnavailability.IsUnavailable(new NpgsqlException("Exception while reading from stream", new EndOfStreamException())));
        Assert.True(PostgreSqlUnavailability.IsUnavailable(new NpgsqlException("Timeout during connection attempt", new TimeoutException())));
        Assert.False(PostgreSqlUnavailability.IsUnavailable(new InvalidOperationException("a bug")));
    }

    [Fact]
    public async Task GuardedStore_StoppedPortFailsPromptlyAsProviderUnavailable_OtherErrorsPassThrough()
    {
        await using var test = await TestDatabase.CreateAsync();
        using var database = test.Open();
        var probe = PostgreSqlUnavailability.Guard<IProbe>(new Probe(), database);

        var unavailable = await Assert.ThrowsAsync<ProviderUnavailableException>(() => probe.ConnectAsync(ClosedPortConnectionString()));
        Assert.Equal("PostgreSQL", unavailable.Provider);
        Assert.Contains("cannot reach the metadata database", unavailable.Message);
        Assert.DoesNotContain("127.0.0.1", unavailable.Message);

        await Assert.ThrowsAsync<PostgresException>(() => probe.RunAsync(test.ConnectionString, "SELECT * FROM no_such_table;"));
        await Assert.ThrowsAsync<ArgumentException>(() => probe.ThrowSynchronously());
    }

    private static string ClosedPortConnectionString()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"Host=127.0.0.1;Port={port};Username=postgres;Timeout=3;Pooling=false";
    }

    public interface IProbe
    {
        Task ConnectAsync(string connectionString);
        Task<int> RunAsync(string connectionString, string sql);
        Task ThrowSynchronously();
    }

    private sealed class Probe : IProbe
    {
        public async Task ConnectAsync(string connectionString)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
        }

        public async Task<int> RunAsync(string connectionString, string sql)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            return await command.ExecuteNonQueryAsync();
        }

        public Task ThrowSynchronously() => throw new ArgumentException("bad argument");
    }
}
