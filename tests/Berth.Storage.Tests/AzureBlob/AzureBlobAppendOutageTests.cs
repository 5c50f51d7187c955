using System.Security.Cryptography;
using Berth.Core.Storage;
using Berth.Storage.AzureBlob;

namespace Berth.Storage.Tests.AzureBlob;

/// <summary>
/// An append whose blocks are being staged when the storage service goes away: the append fails as unavailable, cutting
/// it back leaves the upload exactly as it was, and once the service is back the upload continues from there.
/// </summary>
public sealed class AzureBlobAppendOutageTests : IAsyncLifetime
{
    private const int Block = AzureBlobAppendStream.BlockSize;
    private AzuriteServer _azurite = null!;
    private IBlobStore _store = null!;

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteServer.StartPrivateAsync();
        var options = new AzureBlobStorageOptions { ConnectionString = _azurite.ConnectionString, ContainerName = await _azurite.CreateContainerAsync("append") };
        _store = new AzureBlobStore(AzureBlobStorageExtensions.CreateContainerClient(options), options);
    }

    public Task DisposeAsync() => _azurite.DisposeAsync();

    [Fact]
    public async Task StorageStoppedWithBlocksInFlight_AppendFailsAsUnavailable_CutBackKeepsTheUpload_ThenItContinues()
    {
        var id = Guid.NewGuid().ToString("N");
        await _store.CreateUploadAsync(id, CancellationToken.None);
        var kept = RandomNumberGenerator.GetBytes(AzureBlobAppendStream.BlocksInFlight * Block + 17);
        await AppendAsync(id, kept);

        var append = (await _store.OpenUploadForAppendOrNullAsync(id, CancellationToken.None))!;
        var lost = RandomNumberGenerator.GetBytes(Block);
        await append.WriteAsync(lost);
        await append.WriteAsync(lost);
        await _azurite.StopAsync();
        var failure = await Assert.ThrowsAsync<ProviderUnavailableException>(async () =>
        {
            for (var i = 0; i < 2 * AzureBlobAppendStream.BlocksInFlight; i++) await append.WriteAsync(lost);
            await append.FlushAsync();
        });
        Assert.Contains("Azure Blob Storage", failure.Message);
        append.SetLength(kept.Length);
        Assert.Equal(kept.Length, append.Position);
        await append.DisposeAsync();

        await _azurite.StartAsync();
        Assert.Equal(kept.Length, await _store.GetUploadSizeOrNullAsync(id, CancellationToken.None));
        var more = RandomNumberGenerator.GetBytes(2 * Block + 3);
        await AppendAsync(id, more);
        await using var upload = await _store.OpenUploadForReadOrNullAsync(id, CancellationToken.None);
        using var copy = new MemoryStream();
        await upload!.CopyToAsync(copy);
        Assert.Equal([.. kept, .. more], copy.ToArray());
    }

    private async Task AppendAsync(string id, byte[] content)
    {
        await using var append = (await _store.OpenUploadForAppendOrNullAsync(id, CancellationToken.None))!;
        // Written in pieces smaller than a block, as a request body arrives.
        for (var offset = 0; offset < content.Length; offset += 1 << 20)
            await append.WriteAsync(content.AsMemory(offset, Math.Min(1 << 20, content.Length - offset)));
        await append.FlushAsync();
    }
}
