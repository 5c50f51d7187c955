using Berth.Testing;

namespace Berth.Conformance.Tests.TestSupport;

/// <summary>
/// <see cref="RegistryFixture"/> in the scale-out configuration: metadata in a database of its own in the test
/// process's <see cref="PostgreSqlServer"/>, blobs in a container of its own in its <see cref="AzuriteServer"/>. Blob
/// downloads are served by Berth (no redirect), so the suite sees the registry's own answers; the authorization matrix
/// covers the redirecting set-up.
/// </summary>
public sealed class ScaleOutRegistryFixture : RegistryFixture
{
    private PostgreSqlServer? _postgres;
    private AzuriteServer? _azurite;
    private string? _connectionString;
    private string? _container;

    protected override IEnumerable<string> ExtraArguments =>
    [
        "--Berth:Database:Type=PostgreSql", "--Berth:Database:ConnectionString=" + _connectionString,
        "--Berth:Storage:Type=AzureBlob", "--Berth:Storage:AzureBlob:ConnectionString=" + _azurite!.ConnectionString,
        "--Berth:Storage:AzureBlob:ContainerName=" + _container,
    ];

    public override async Task InitializeAsync()
    {
        _postgres = await PostgreSqlServer.GetAsync();
        _azurite = await AzuriteServer.GetAsync();
        _connectionString = await _postgres.CreateDatabaseAsync("conformance");
        _container = await _azurite.CreateContainerAsync("conformance");
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
            if (_postgres is not null && _connectionString is not null)
                await _postgres.DropDatabaseAsync(_connectionString);
            if (_azurite is not null && _container is not null)
                await _azurite.DeleteContainerAsync(_container);
        }
    }
}
