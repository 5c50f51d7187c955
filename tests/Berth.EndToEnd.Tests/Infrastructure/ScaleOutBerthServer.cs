namespace Berth.EndToEnd.Tests.Infrastructure;

/// <summary>
/// <see cref="BerthServer"/> in the scale-out configuration: metadata in a PostgreSQL database of its own, blobs in an
/// Azurite container of its own, and blob downloads redirected to signed Azurite URLs, so the clients under test must
/// follow the registry's 307 to the object store.
/// </summary>
public sealed class ScaleOutBerthServer : BerthServer
{
    private PostgreSqlServer? _postgres;
    private AzuriteServer? _azurite;
    private string? _database;
    private string? _container;

    /// <summary>Azurite's blob endpoint, where redirected downloads must lead.</summary>
    public Uri StorageEndpoint => new($"http://127.0.0.1:{_azurite!.Port}/");

    protected override IEnumerable<string> ExtraArguments =>
    [
        "--Berth:Database:Type=PostgreSql", "--Berth:Database:ConnectionString=" + _database,
        "--Berth:Storage:Type=AzureBlob", "--Berth:Storage:AzureBlob:ConnectionString=" + _azurite!.ConnectionString,
        "--Berth:Storage:AzureBlob:ContainerName=" + _container, "--Berth:Storage:AzureBlob:RedirectDownloads=true",
    ];

    public override async Task InitializeAsync()
    {
        _postgres = await PostgreSqlServer.GetAsync();
        _azurite = await AzuriteServer.GetAsync();
        _database = await _postgres.CreateDatabaseAsync("e2e");
        _container = await _azurite.CreateContainerAsync("e2e");
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            if (_postgres is not null && _database is not null) await _postgres.DropDatabaseAsync(_database);
            if (_azurite is not null && _container is not null) await _azurite.DeleteContainerAsync(_container);
        }
    }
}
