using Berth.Core.Storage;
using Berth.Storage.AzureBlob;

namespace Berth.Storage.Tests.AzureBlob;

/// <summary>A container of its own in the test process's Azurite.</summary>
public sealed class AzureBlobStoreFixture : IBlobStoreFixture
{
    private AzuriteServer? _azurite;

    public AzureBlobStorageOptions Options { get; private set; } = null!;

    public IBlobStore CreateStore() => new AzureBlobStore(AzureBlobStorageExtensions.CreateContainerClient(Options), Options);

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteServer.GetAsync();
        Options = new AzureBlobStorageOptions
        {
            ConnectionString = _azurite.ConnectionString,
            ContainerName = await _azurite.CreateContainerAsync("store"),
            RedirectDownloads = true,
        };
    }

    public async Task DisposeAsync()
    {
        if (_azurite is not null && Options is not null) await _azurite.DeleteContainerAsync(Options.ContainerName);
    }
}
