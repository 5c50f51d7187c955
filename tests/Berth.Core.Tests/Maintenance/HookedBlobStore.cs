using Berth.Core.Storage;
using Berth.Oci;

namespace Berth.Core.Tests.Maintenance;

/// <summary>
/// The real store, with steps that run right after a size lookup (a mount's "are the bytes there?") or an upload
/// commit, standing in for whatever else happens on the server while that request is between two steps.
/// </summary>
internal sealed class HookedBlobStore(IBlobStore inner, Func<Task>? afterSizeLookup = null, Func<Task>? afterCommit = null) : IBlobStore
{
    public async Task<long?> GetSizeOrNullAsync(Digest digest, CancellationToken cancellationToken)
    {
        var size = await inner.GetSizeOrNullAsync(digest, cancellationToken);
        if (afterSizeLookup is not null) await afterSizeLookup();
        return size;
    }

    public async Task CommitUploadAsync(string uploadId, Digest digest, CancellationToken cancellationToken)
    {
        await inner.CommitUploadAsync(uploadId, digest, cancellationToken);
        if (afterCommit is not null) await afterCommit();
    }

    public Task<BlobContent?> OpenOrNullAsync(Digest digest, CancellationToken cancellationToken) => inner.OpenOrNullAsync(digest, cancellationToken);
    public Task<Uri?> GetDownloadRedirectOrNullAsync(Digest digest, CancellationToken cancellationToken) => inner.GetDownloadRedirectOrNullAsync(digest, cancellationToken);
    public Task DeleteAsync(Digest digest, CancellationToken cancellationToken) => inner.DeleteAsync(digest, cancellationToken);
    public Task CreateUploadAsync(string uploadId, CancellationToken cancellationToken) => inner.CreateUploadAsync(uploadId, cancellationToken);
    public Task<Stream?> OpenUploadForAppendOrNullAsync(string uploadId, CancellationToken cancellationToken) => inner.OpenUploadForAppendOrNullAsync(uploadId, cancellationToken);
    public Task<Stream?> OpenUploadForReadOrNullAsync(string uploadId, CancellationToken cancellationToken) => inner.OpenUploadForReadOrNullAsync(uploadId, cancellationToken);
    public Task<long?> GetUploadSizeOrNullAsync(string uploadId, CancellationToken cancellationToken) => inner.GetUploadSizeOrNullAsync(uploadId, cancellationToken);
    public Task DeleteUploadAsync(string uploadId, CancellationToken cancellationToken) => inner.DeleteUploadAsync(uploadId, cancellationToken);
    public Task<bool> RefreshAsync(Digest digest, CancellationToken cancellationToken) => inner.RefreshAsync(digest, cancellationToken);
    public IAsyncEnumerable<StoredBlobInfo> ListBlobsAsync(CancellationToken cancellationToken) => inner.ListBlobsAsync(cancellationToken);
    public Task<bool> DeleteIfUnmodifiedSinceAsync(Digest digest, DateTimeOffset modifiedBefore, CancellationToken cancellationToken) => inner.DeleteIfUnmodifiedSinceAsync(digest, modifiedBefore, cancellationToken);
    public IAsyncEnumerable<StoredUploadInfo> ListUploadsAsync(CancellationToken cancellationToken) => inner.ListUploadsAsync(cancellationToken);
    public Task<string?> QuarantineAsync(string name, CancellationToken cancellationToken) => inner.QuarantineAsync(name, cancellationToken);
}
