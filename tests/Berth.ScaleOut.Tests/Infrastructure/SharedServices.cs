
namespace Berth.ScaleOut.Tests.Infrastructure;

/// <summary>
/// What the nodes of a cluster share, as the node settings that point at it: the PostgreSQL database, the blob
/// storage, the key folder (<c>Berth:KeyPath</c>), and the Redis server for throttle buckets and cache invalidation. Which variant runs is decided here only; the tests see just the settings.
/// Blob storage is Azure Blob Storage (Azurite) unless <c>BERTH_SCALEOUT_STORAGE=FileSystem</c> asks for one folder
/// that both nodes see (valid on one machine only).
/// </summary>
public sealed class SharedServices : IAsyncDisposable
{
    private readonly List<Func<Task>> _cleanUp = [];
    private string? _sharedStorage;

    private SharedServices(IReadOnlyDictionary<string, string> settings)
    {
        Settings = settings;
    }

    /// <summary>Settings under <c>Berth:</c> that every node gets unchanged.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>For measurements and messages: which backends the nodes share.</summary>
    public string Description { get; private set; } = "";

    /// <param name="folder">A private folder of the cluster, for the key folder and a shared storage folder.</param>
    public static async Task<SharedServices> StartAsync(TempDirectory folder)
    {
        var settings = new Dictionary<string, string>
        {
            // Keys are files by design (a database copy must not sign tokens or decrypt admin passwords); nodes on
            // several machines mount one folder or get identical copies. Here both nodes simply point at one folder.
            ["KeyPath"] = folder.Combine("shared-keys"),
        };
        var services = new SharedServices(settings);
        var described = new List<string>();

        var postgres = await PostgreSqlServer.GetAsync();
        var connectionString = await postgres.CreateDatabaseAsync("scaleout");
        services._cleanUp.Add(() => postgres.DropDatabaseAsync(connectionString));
        settings["Database:Type"] = "PostgreSql";
        settings["Database:ConnectionString"] = connectionString;
        described.Add("PostgreSQL");

        if (string.Equals(Environment.GetEnvironmentVariable("BERTH_SCALEOUT_STORAGE"), "FileSystem", StringComparison.OrdinalIgnoreCase))
        {
            // The filesystem provider keeps blobs under <data>/storage; two nodes on one machine share it by linking
            // that folder to one place (PrepareDataDirectory).
            services._sharedStorage = folder.Combine("shared-storage");
            Directory.CreateDirectory(services._sharedStorage);
            described.Add("one shared storage folder");
        }
        else
        {
            var azurite = await AzuriteServer.GetAsync();
            var container = await azurite.CreateContainerAsync("scaleout");
            services._cleanUp.Add(() => azurite.DeleteContainerAsync(container));
            settings["Storage:Type"] = "AzureBlob";
            settings["Storage:AzureBlob:ConnectionString"] = azurite.ConnectionString;
            settings["Storage:AzureBlob:ContainerName"] = container;
            described.Add("Azure Blob Storage (Azurite)");
        }

        var redis = await RedisServer.GetAsync();
        settings["Redis:Configuration"] = redis.Configuration;
        // Other fixtures of this test process may use the same Redis; a prefix of its own keeps this cluster apart.
        settings["Redis:KeyPrefix"] = RedisServer.NewKeyPrefix();
        described.Add("Redis");

        services.Description = string.Join(" + ", described);
        return services;
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
        foreach (var cleanUp in _cleanUp)
        {
            try
            {
                await cleanUp();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Best effort: the services themselves go with the test process.
            }
        }
    }
}
