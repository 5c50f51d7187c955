using Berth.Oci;

namespace Berth.Core.Storage;

/// <summary>An open blob: a readable stream and, where the store is a local file system, its path for sendfile.</summary>
public sealed record BlobContent(Stream Stream, long Length, string? PhysicalPath) : IDisposable
{
    public void Dispose() => Stream.Dispose();
}

/// <summary>
/// Content-addressed bytes. Blobs are stored once per server and become visible only through
/// <see cref="CommitUploadAsync"/>, after the caller verified the digest; repositories see them through
/// metadata links, never through this interface.
/// </summary>
public interface IBlobStore
{
    Task<long?> GetSizeOrNullAsync(Digest digest, CancellationToken cancellationToken);

    Task<BlobContent?> OpenOrNullAsync(Digest digest, CancellationToken cancellationToken);

    Task DeleteAsync(Digest digest, CancellationToken cancellationToken);

    /// <summary>Creates an empty upload area for a new session.</summary>
    Task CreateUploadAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>Opens the upload for appending at its current end; null when the upload is unknown.</summary>
    Task<Stream?> OpenUploadForAppendOrNullAsync(string uploadId, CancellationToken cancellationToken);

    Task<Stream?> OpenUploadForReadOrNullAsync(string uploadId, CancellationToken cancellationToken);

    Task<long?> GetUploadSizeOrNullAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>
    /// Makes the upload's bytes durable and moves them into place as <paramref name="digest"/> atomically.
    /// If the blob already exists the upload is simply discarded.
    /// </summary>
    Task CommitUploadAsync(string uploadId, Digest digest, CancellationToken cancellationToken);

    Task DeleteUploadAsync(string uploadId, CancellationToken cancellationToken);
}
