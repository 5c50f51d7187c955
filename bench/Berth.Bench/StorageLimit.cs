using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;

namespace Berth.Bench;

/// <summary>
/// The scale-out set-up's storage service on its own: a blob written the way Berth's Azure Blob Storage provider writes
/// an upload (blocks of the same size, as many in flight, one commit) and read back as one streamed download. No node
/// can move bytes faster than this, so it is the limit the scale-out rows are measured against.
/// </summary>
internal sealed class StorageLimit(string connectionString)
{
    /// <summary>As AzureBlobAppendStream.BlockSize and BlocksInFlight in src/Berth.Storage.AzureBlob.</summary>
    private const int BlockSize = 4 << 20;
    private const int BlocksInFlight = 4;

    private readonly BlobContainerClient _container = new BlobServiceClient(connectionString).GetBlobContainerClient("bench-storage-limit");

    public async Task<BlockBlobClient> PushAsync(PatternBlob blob)
    {
        await _container.CreateIfNotExistsAsync();
        var target = _container.GetBlockBlobClient(Guid.NewGuid().ToString("N"));
        var ids = new List<string>();
        var inFlight = new Queue<Task>();
        for (long offset = 0; offset < blob.Size; offset += BlockSize)
        {
            if (inFlight.Count == BlocksInFlight) await inFlight.Dequeue();
            var id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{offset:D16}"));
            ids.Add(id);
            var block = new MemoryStream(BlockSize);
            await blob.WriteAsync(block, offset, Math.Min(BlockSize, blob.Size - offset));
            block.Position = 0;
            inFlight.Enqueue(target.StageBlockAsync(id, block));
        }
        await Task.WhenAll(inFlight);
        await target.CommitBlockListAsync(ids);
        return target;
    }

    public static async Task<long> PullAsync(BlockBlobClient blob, byte[] buffer)
    {
        await using var download = (await blob.DownloadStreamingAsync()).Value.Content;
        return await Streams.DrainAsync(download, buffer);
    }

    public Task DeleteAsync(BlockBlobClient blob) => blob.DeleteIfExistsAsync();
}
