namespace Berth.Core.Storage;

/// <summary>
/// An open blob: a readable, seekable stream. Downloads copy from it into the response with positional reads (one copy
/// out of the page cache); kernel sendfile measured slower on loopback than that copy (docs/performance.md).
/// </summary>
public sealed record BlobContent(Stream Stream, long Length) : IDisposable
{
    public void Dispose() => Stream.Dispose();
}

/// <summary>
/// A blob as the store holds it, for maintenance. <paramref name="Name"/> is the store's own key (for the file system,
/// the path under <c>blobs/</c>); <paramref name="Digest"/> is null when that key is not a well-formed digest in its
/// right place (fsck reports such entries). <paramref name="LastModified"/> is when the bytes were last committed.
/// </summary>
public sealed record StoredBlobInfo(string Name, Digest? Digest, long Size, DateTimeOffset LastModified);

/// <summary>An upload area as the store holds it: its session id, bytes received so far and the time of the last write.</summary>
public sealed record StoredUploadInfo(string Id, long Size, DateTimeOffset LastModified);

/// <summary>
/// Content-addressed bytes. Blobs are stored once per server and become visible only through
/// <see cref="CommitUploadAsync"/>, after the caller verified the digest; repositories see them through
/// metadata links, never through this interface.
/// </summary>
public interface IBlobStore
{
    Task<long?> GetSizeOrNullAsync(Digest digest, CancellationToken cancellationToken);

    Task<BlobContent?> OpenOrNullAsync(Digest digest, CancellationToken cancellationToken);

    /// <summary>
    /// A time-limited, read-only URL the client can download the blob from directly (it honours <c>Range</c>), or null
    /// when downloads go through Berth (the store cannot sign such URLs, or redirects are turned off). Answered without a
    /// round trip to the storage service, so asking costs nothing when the answer is null.
    /// </summary>
    Task<Uri?> GetDownloadRedirectOrNullAsync(Digest digest, CancellationToken cancellationToken);

    Task DeleteAsync(Digest digest, CancellationToken cancellationToken);

    /// <summary>Creates an empty upload area for a new session.</summary>
    Task CreateUploadAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>
    /// Opens the upload for appending at its current end (the stream's <see cref="Stream.Position"/>); null when the
    /// upload is unknown. Flushing or disposing the stream makes the appended bytes part of the upload for every node;
    /// <see cref="Stream.SetLength"/> back to the starting position drops them instead (a chunk that did not arrive
    /// whole). When another writer appended at the same time, flushing throws <see cref="UploadConflictException"/>.
    /// </summary>
    Task<Stream?> OpenUploadForAppendOrNullAsync(string uploadId, CancellationToken cancellationToken);

    Task<Stream?> OpenUploadForReadOrNullAsync(string uploadId, CancellationToken cancellationToken);

    Task<long?> GetUploadSizeOrNullAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>
    /// Makes the upload's bytes durable and moves them into place as <paramref name="digest"/> atomically.
    /// If the blob already exists the upload is simply discarded.
    /// </summary>
    Task CommitUploadAsync(string uploadId, Digest digest, CancellationToken cancellationToken);

    Task DeleteUploadAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>
    /// Sets the blob's LastModified to now, as committing the same bytes again would (the promise below), after a link
    /// to it is written (see <see cref="Content.BlobLinking"/>). Atomic with respect to <see cref="DeleteIfUnmodifiedSinceAsync"/>: a refresh
    /// before the delete keeps the blob; after it, the refresh finds nothing. False when the blob is not there.
    /// </summary>
    Task<bool> RefreshAsync(Digest digest, CancellationToken cancellationToken);

    // Maintenance (garbage collection and fsck). Garbage collection relies on one promise: CommitUploadAsync sets the
    // blob's LastModified to the commit time, also when the blob already existed, so a blob that was just committed
    // for a link about to be written is never older than the grace period; RefreshAsync does the same once the link
    // is written, so the guarantee holds however long the steps in between took.

    /// <summary>Every stored blob, in no particular order; entries may change while the listing runs.</summary>
    IAsyncEnumerable<StoredBlobInfo> ListBlobsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the blob only if it was last committed before <paramref name="modifiedBefore"/>, atomically with respect to
    /// <see cref="CommitUploadAsync"/>: a commit racing the delete either refreshes the blob first (and it is kept) or
    /// finds it gone and stores it again. False when the blob was kept or did not exist.
    /// </summary>
    Task<bool> DeleteIfUnmodifiedSinceAsync(Digest digest, DateTimeOffset modifiedBefore, CancellationToken cancellationToken);

    /// <summary>Every upload area, also those whose session metadata is gone (orphans left by a crash).</summary>
    IAsyncEnumerable<StoredUploadInfo> ListUploadsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Moves the blob stored under <paramref name="name"/> (a <see cref="StoredBlobInfo.Name"/>) out of the content
    /// store into a quarantine area an operator can inspect; nothing is deleted. Returns where it went, or null if it was gone.
    /// </summary>
    Task<string?> QuarantineAsync(string name, CancellationToken cancellationToken);
}
