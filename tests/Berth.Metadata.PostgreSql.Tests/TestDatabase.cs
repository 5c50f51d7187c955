using Berth.Metadata.PostgreSql;

namespace Berth.Metadata.PostgreSql.Tests;

/// <summary>A fresh database in the test process's <see cref="PostgreSqlServer"/>, migrated, dropped at the end.</summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    private readonly PostgreSqlServer _server;
    private readonly List<PostgreSqlDatabase> _opened = [];

    private TestDatabase(PostgreSqlServer server, string connectionString)
    {
        _server = server;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync()
    {
        var server = await PostgreSqlServer.GetAsync();
        return new TestDatabase(server, await server.CreateDatabaseAsync("store"));
    }

    /// <summary>Opens (and migrates) the database as a starting node does.</summary>
    public PostgreSqlDatabase Open()
    {
        var database = new PostgreSqlDatabase(ConnectionString);
        lock (_opened) _opened.Add(database);
        return database;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var database in _opened) database.Dispose();
        await _server.DropDatabaseAsync(ConnectionString);
    }
}
