using Berth.EndToEnd.Tests.Infrastructure;
using Berth.Testing;

namespace Berth.ScaleOut.Tests.Infrastructure;

/// <summary>
/// What the nodes of a cluster share, as the node settings that point at it: the PostgreSQL database, the blob
/// storage, the key folder (<c>Berth:KeyPath</c>), and — once a Redis provider exists — the Redis server for throttle
/// buckets and cache invalidation. Which variant runs is decided here only; the tests see just the settings.
/// </summary>
public sealed class SharedServices : IAsyncDisposable
{
    private readonly PostgreSqlServer _postgres;
    private readonly string _connectionString;
    private readonly string? _sharedStorage;

    private SharedServices(PostgreSqlServer postgres, string connectionString, string? sharedStorage, IReadOnlyDictionary<string, string> settings, string description, bool sharesCounters)
    {
        _postgres = postgres;
        _connectionString = connectionString;
        _sharedStorage = sharedStorage;
        Settings = settings;
        Description = description;
        SharesCounters = sharesCounters;
    }

    /// <summary>Settings under <c>Berth:</c> that every node gets unchanged.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>For measurements and messages: which backends the nodes share.</summary>
    public string Description { get; }

    /// <summary>Whether the nodes share throttle counters and cache invalidation (a shared Redis).</summary>
    public bool SharesCounters { get; }

    /// <param name="folder">A private folder of the cluster, for the key folder and a shared storage folder.</param>
    public static async Task<SharedServices> StartAsync(TempDirectory folder)
    {
        var postgres = await PostgreSqlServer.GetAsync();
        var connectionString = await postgres.CreateDatabaseAsync("scaleout");
        var keys = folder.Combine("shared-keys");
        var settings = new Dictionary<string, string>
        {
            ["Database:Type"] = "PostgreSql",
            ["Database:ConnectionString"] = connectionString,
            // Keys are files by design (a database copy must not sign tokens or decrypt admin passwords); nodes on
            // several machines mount one folder or get identical copies. Here both nodes simply point at one folder.
            ["KeyPath"] = keys,
        };
        // The filesystem provider keeps blobs under <data>/storage; two nodes on one machine share it by linking
        // that folder to one place (PrepareDataDirectory). Valid on one machine only; object storage replaces it.
        var storage = folder.Combine("shared-storage");
        Directory.CreateDirectory(storage);
        return new SharedServices(postgres, connectionString, storage, settings, "PostgreSQL + shared filesystem storage, no Redis", sharesCounters: false);
    }

    /// <summary>Prepares a node's own data folder before its first start (links the shared storage where that is a folder).</summary>
    public void PrepareDataDirectory(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        if (_sharedStorage is null) return;
        var link = Path.Combine(dataDirectory, "storage");
        if (!Directory.Exists(link)) Directory.CreateSymbolicLink(link, _sharedStorage);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _postgres.DropDatabaseAsync(_connectionString);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException)
        {
            // Best effort: the test cluster is removed with the test process anyway.
        }
    }
}
