namespace Berth.Testing;

/// <summary>
/// The test server with its metadata in PostgreSQL: a database of its own in the process's
/// <see cref="PostgreSqlServer"/>, created before the server starts and dropped after it stops.
/// </summary>
public class PostgreSqlBerthTestServer(bool throttled = true) : BerthTestServer
{
    private PostgreSqlServer? _postgres;

    /// <summary>The PostgreSQL server holding the database.</summary>
    public PostgreSqlServer Postgres => _postgres ?? throw new InvalidOperationException("The server is not running.");

    /// <summary>The connection string the server was given.</summary>
    public string ConnectionString { get; private set; } = null!;

    protected override IEnumerable<string> ExtraArguments =>
    [
        "--Berth:Database:Type=PostgreSql",
        "--Berth:Database:ConnectionString=" + ConnectionString,
        .. throttled ? Array.Empty<string>() : ["--Berth:Throttling:Enabled=false"],
    ];

    public override async Task InitializeAsync()
    {
        _postgres = await GetPostgreSqlServerAsync();
        ConnectionString = await _postgres.CreateDatabaseAsync();
        await base.InitializeAsync();
    }

    /// <summary>The process's shared server; a subclass that stops the database gives it a dedicated one.</summary>
    protected virtual Task<PostgreSqlServer> GetPostgreSqlServerAsync() => PostgreSqlServer.GetAsync();

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            if (_postgres is not null && ConnectionString is not null)
                await _postgres.DropDatabaseAsync(ConnectionString);
        }
    }
}
