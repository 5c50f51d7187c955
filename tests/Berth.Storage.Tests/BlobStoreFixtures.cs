using Berth.Core.Storage;
using Berth.Storage.AzureBlob;
using Berth.Storage.FileSystem;

namespace Berth.Storage.Tests;

/// <summary>One storage location per test class; <see cref="CreateStore"/> gives a fresh store instance on it, as a second node would have.</summary>
public interface IBlobStoreFixture : IAsyncLifetime
{
    IBlobStore CreateStore();
}

public sealed class FileSystemStoreFixture : IBlobStoreFixture
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "berth-store-" + Guid.NewGuid().ToString("N")[..12]);

    public IBlobStore CreateStore() => new FileSystemBlobStore(Path.Combine(_root, "storage"));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }
}

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
