using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Sas;
using Berth.Core.Storage;
using Berth.Oci;
using static Berth.Storage.AzureBlob.AzureBlobFailures;

namespace Berth.Storage.AzureBlob;

/// <summary>
/// Blobs in one Azure Blob Storage container: content under <c>blobs/&lt;algorithm&gt;/&lt;encoded&gt;</c>, uploads as
/// block blobs under <c>uploads/&lt;id&gt;</c> and quarantined blobs under <c>quarantine/</c>. Every node reads and
/// writes the same container, so any node can continue an upload another one started. Committing is a server-side copy
/// that is checked before the upload goes; a blob whose copy has not (or not successfully) finished is treated as absent.
/// </summary>
internal sealed class AzureBlobStore : IBlobStore
{
    private const string BlobPrefix = "blobs/";
    private const string UploadPrefix = "uploads/";
    private const string QuarantinePrefix = "quarantine/";

    /// <summary>How long a commit waits for another node's copy of the same blob before giving up.</summary>
    private static readonly TimeSpan PendingCopyWait = TimeSpan.FromMinutes(2);

    private readonly BlobContainerClient _container;
    private readonly AzureBlobStorageOptions _options;
    private readonly TimeProvider _time;
    private volatile bool _containerExists;

    public AzureBlobStore(BlobContainerClient container, AzureBlobStorageOptions options, TimeProvider? time = null)
    {
        _container = container;
        _options = options;
        _time = time ?? TimeProvider.System;
    }

    public Task<long?> GetSizeOrNullAsync(Digest digest, CancellationToken cancellationToken) =>
        CallAsync(async () => await GetCompleteOrNullAsync(Blob(digest), cancellationToken) is { } properties ? properties.ContentLength : (long?)null, cancellationToken);

    public Task<BlobContent?> OpenOrNullAsync(Digest digest, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var blob = Blob(digest);
            return await GetCompleteOrNullAsync(blob, cancellationToken) is { } properties
                ? new BlobContent(new AzureBlobReadStream(blob, properties.ContentLength, properties.ETag), properties.ContentLength)
                : null;
        }, cancellationToken);

    public Task<Uri?> GetDownloadRedirectOrNullAsync(Digest digest, CancellationToken cancellationToken)
    {
        if (!_options.RedirectDownloads) return Task.FromResult<Uri?>(null);
        var builder = new BlobSasBuilder(BlobSasPermissions.Read, _time.GetUtcNow() + _options.RedirectLifetime)
        {
            BlobContainerName = _container.Name,
            BlobName = BlobName(digest),
            Resource = "b",
            ContentType = "application/octet-stream",
        };
        return Task.FromResult<Uri?>(Blob(digest).GenerateSasUri(builder));
    }

    public Task DeleteAsync(Digest digest, CancellationToken cancellationToken) =>
        CallAsync(() => Blob(digest).DeleteIfExistsAsync(cancellationToken: cancellationToken), cancellationToken);

    public Task CreateUploadAsync(string uploadId, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            await EnsureContainerAsync(cancellationToken);
            // An empty committed block list is an empty blob that appends can build on.
            await Upload(uploadId).CommitBlockListAsync([], new CommitBlockListOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
        }, cancellationToken);

    public async Task<Stream?> OpenUploadForAppendOrNullAsync(string uploadId, CancellationToken cancellationToken) =>
        await AzureBlobAppendStream.OpenOrNullAsync(Upload(uploadId), uploadId, cancellationToken);

    public Task<Stream?> OpenUploadForReadOrNullAsync(string uploadId, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var upload = Upload(uploadId);
            return await GetPropertiesOrNullAsync(upload, cancellationToken) is { } properties
                ? new AzureBlobReadStream(upload, properties.ContentLength, properties.ETag)
                : (Stream?)null;
        }, cancellationToken);

    public Task<long?> GetUploadSizeOrNullAsync(string uploadId, CancellationToken cancellationToken) =>
        CallAsync(async () => (await GetPropertiesOrNullAsync(Upload(uploadId), cancellationToken))?.ContentLength, cancellationToken);

    public Task CommitUploadAsync(string uploadId, Digest digest, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var upload = Upload(uploadId);
            var target = Blob(digest);
            var source = await GetPropertiesOrNullAsync(upload, cancellationToken)
                ?? throw new InvalidOperationException($"upload {uploadId} does not exist");
            // A concurrent commit of the same digest (another node, same bytes) can win the race for the name; then this
            // commit refreshes that blob instead, which also keeps IBlobStore's promise to garbage collection.
            for (var attempt = 0; ; attempt++)
            {
                if (await TryRefreshAsync(target, cancellationToken)) break;
                try
                {
                    await CopyAsync(upload, target, source.ContentLength, new BlobRequestConditions { IfNoneMatch = ETag.All }, cancellationToken);
                    break;
                }
                catch (RequestFailedException error) when (error.Status is 409 or 412 && attempt < 3)
                {
                    // The name was taken meanwhile; go round and refresh it.
                }
            }
            await upload.DeleteIfExistsAsync(cancellationToken: cancellationToken);
        }, cancellationToken);

    public Task<bool> RefreshAsync(Digest digest, CancellationToken cancellationToken) =>
        CallAsync(() => TryRefreshAsync(Blob(digest), cancellationToken), cancellationToken);

    public Task DeleteUploadAsync(string uploadId, CancellationToken cancellationToken) =>
        CallAsync(() => Upload(uploadId).DeleteIfExistsAsync(cancellationToken: cancellationToken), cancellationToken);

    public async IAsyncEnumerable<StoredBlobInfo> ListBlobsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in ListAsync(BlobPrefix, cancellationToken))
        {
            // A copy still running is a commit in progress, not yet a blob.
            if (item.Properties.CopyStatus is CopyStatus.Pending) continue;
            var name = item.Name[BlobPrefix.Length..];
            yield return new StoredBlobInfo(name, DigestOf(name), item.Properties.ContentLength ?? 0, item.Properties.LastModified ?? default);
        }
    }

    public async IAsyncEnumerable<StoredUploadInfo> ListUploadsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in ListAsync(UploadPrefix, cancellationToken))
        {
            var id = item.Name[UploadPrefix.Length..];
            // Only server-made ids (32 lower-case hex digits); anything else under the prefix is not ours to touch.
            if (id.Length != 32 || !id.All(char.IsAsciiHexDigitLower)) continue;
            yield return new StoredUploadInfo(id, item.Properties.ContentLength ?? 0, item.Properties.LastModified ?? default);
        }
    }

    public Task<bool> DeleteIfUnmodifiedSinceAsync(Digest digest, DateTimeOffset modifiedBefore, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            // The storage service decides atomically: a commit that refreshed the blob first makes this delete fail, a
            // commit after it finds the blob gone and copies it again. The condition travels with one-second precision,
            // so the cut-off moves back a second: a blob on the boundary is kept, never wrongly deleted.
            var cutoff = new DateTimeOffset(modifiedBefore.UtcTicks - modifiedBefore.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero).AddSeconds(-1);
            try
            {
                await Blob(digest).DeleteAsync(DeleteSnapshotsOption.IncludeSnapshots, new BlobRequestConditions { IfUnmodifiedSince = cutoff }, cancellationToken);
                return true;
            }
            catch (RequestFailedException error) when (error.Status is 404 or 412)
            {
                return false;
            }
        }, cancellationToken);

    public Task<string?> QuarantineAsync(string name, CancellationToken cancellationToken)
    {
        if (name.Length == 0 || name.StartsWith('/') || name.Split('/').Any(part => part is "" or "." or ".."))
            throw new ArgumentException("not a blob of this store", nameof(name));
        return CallAsync(async () =>
        {
            var source = _container.GetBlockBlobClient(BlobPrefix + name);
            var properties = await GetPropertiesOrNullAsync(source, cancellationToken);
            if (properties is null) return null;
            var target = _container.GetBlockBlobClient($"{QuarantinePrefix}{name}.{_time.GetUtcNow():yyyyMMddTHHmmssZ}");
            try
            {
                await CopyAsync(source, target, properties.ContentLength, destinationConditions: null, cancellationToken);
            }
            catch (RequestFailedException error) when (error.Status == 404)
            {
                return null;
            }
            await source.DeleteIfExistsAsync(cancellationToken: cancellationToken);
            return new UriBuilder(target.Uri) { Query = "" }.Uri.ToString();
        }, cancellationToken);
    }

    /// <summary>
    /// Refreshes an existing, complete blob's LastModified (setting its metadata is a write); false when there is no
    /// such blob, after removing the remains of a failed copy so the caller can copy again.
    /// </summary>
    private async Task<bool> TryRefreshAsync(BlockBlobClient target, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + PendingCopyWait;
        while (true)
        {
            var properties = await GetPropertiesOrNullAsync(target, cancellationToken);
            if (properties is null) return false;
            if (properties.BlobCopyStatus is CopyStatus.Pending)
            {
                if (_time.GetUtcNow() > deadline)
                    throw new IOException($"a copy into {target.Name} has been pending for more than {PendingCopyWait.TotalMinutes} minutes");
                await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken);
                continue;
            }
            if (properties.BlobCopyStatus is CopyStatus.Failed or CopyStatus.Aborted)
            {
                await DeleteIfUnchangedAsync(target, properties.ETag, cancellationToken);
                return false;
            }
            try
            {
                await target.SetMetadataAsync(new Dictionary<string, string>(), new BlobRequestConditions { IfMatch = properties.ETag }, cancellationToken);
                return true;
            }
            catch (RequestFailedException error) when (error.Status is 404)
            {
                return false; // garbage collection removed it meanwhile: store it again
            }
            catch (RequestFailedException error) when (error.Status is 412)
            {
                // It changed between the two calls (another refresh, or a copy started); look again.
            }
        }
    }

    /// <summary>
    /// Server-side copy that works for any size, then a check that it finished and produced the expected length; a
    /// failed copy is removed, so a partial blob never stays visible under the target's name.
    /// </summary>
    private static async Task CopyAsync(BlockBlobClient source, BlockBlobClient target, long expectedLength, BlobRequestConditions? destinationConditions, CancellationToken cancellationToken)
    {
        var operation = await target.StartCopyFromUriAsync(source.Uri, new BlobCopyFromUriOptions { DestinationConditions = destinationConditions }, cancellationToken);
        await operation.WaitForCompletionAsync(TimeSpan.FromMilliseconds(200), cancellationToken);
        var copied = await target.GetPropertiesAsync(cancellationToken: cancellationToken);
        if (copied.Value.BlobCopyStatus is CopyStatus.Success or null && copied.Value.ContentLength == expectedLength) return;
        await DeleteIfUnchangedAsync(target, copied.Value.ETag, cancellationToken);
        throw new IOException(
            $"copying {source.Name} to {target.Name} ended with status {copied.Value.BlobCopyStatus} and {copied.Value.ContentLength} of {expectedLength} bytes" +
            (copied.Value.CopyStatusDescription is { Length: > 0 } description ? $": {description}" : ""));
    }

    private static async Task DeleteIfUnchangedAsync(BlockBlobClient blob, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await blob.DeleteAsync(DeleteSnapshotsOption.IncludeSnapshots, new BlobRequestConditions { IfMatch = etag }, cancellationToken);
        }
        catch (RequestFailedException error) when (error.Status is 404 or 412)
        {
            // Gone already, or replaced by someone else's successful commit.
        }
    }

    /// <summary>The blob's properties, or null when it is missing or is the target of a copy that has not succeeded.</summary>
    private static async Task<BlobProperties?> GetCompleteOrNullAsync(BlobBaseClient blob, CancellationToken cancellationToken) =>
        await GetPropertiesOrNullAsync(blob, cancellationToken) is { } properties && properties.BlobCopyStatus is CopyStatus.Success or null ? properties : null;

    private static async Task<BlobProperties?> GetPropertiesOrNullAsync(BlobBaseClient blob, CancellationToken cancellationToken)
    {
        try
        {
            return (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            return null;
        }
    }

    /// <summary>Lists by prefix, translating failures page by page (a yield cannot sit inside a try with a catch).</summary>
    private async IAsyncEnumerable<BlobItem> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await CallAsync(() => EnsureContainerAsync(cancellationToken), cancellationToken);
        var pages = _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken).AsPages().GetAsyncEnumerator(cancellationToken);
        try
        {
            while (await CallAsync(async () => await pages.MoveNextAsync(), cancellationToken))
            {
                foreach (var item in pages.Current.Values) yield return item;
            }
        }
        finally
        {
            await pages.DisposeAsync();
        }
    }

    /// <summary>Creates the container on the first write or listing; reads of a missing container simply find nothing.</summary>
    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (_containerExists) return;
        await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        _containerExists = true;
    }

    /// <summary>The digest a key names when it is exactly where that digest is stored (<c>alg/encoded</c>), else null.</summary>
    private static Digest? DigestOf(string name)
    {
        var parts = name.Split('/');
        return parts.Length == 2 && Digest.TryParse($"{parts[0]}:{parts[1]}", out var digest) && digest.Encoded == parts[1] ? digest : null;
    }

    private static string BlobName(Digest digest) => $"{BlobPrefix}{digest.Algorithm}/{digest.Encoded}";

    private BlockBlobClient Blob(Digest digest) => _container.GetBlockBlobClient(BlobName(digest));

    /// <summary>Upload ids are generated by the server (hex GUIDs); anything else never reaches the storage service.</summary>
    private BlockBlobClient Upload(string uploadId)
    {
        if (uploadId.Length != 32 || !uploadId.All(char.IsAsciiHexDigitLower))
            throw new ArgumentException("malformed upload id", nameof(uploadId));
        return _container.GetBlockBlobClient(UploadPrefix + uploadId);
    }
}
