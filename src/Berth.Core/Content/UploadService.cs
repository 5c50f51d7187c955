using System.Buffers;
using System.Collections.Concurrent;

namespace Berth.Core.Content;

/// <summary>A chunk's position as the client declared it (Content-Range / Content-Length), where it did.</summary>
public readonly record struct ChunkRange(long? Start, long? End, long? Length);

public sealed record CommittedBlob(Digest Digest, long Size);

/// <summary>
/// Blob upload sessions: hashing while bytes stream in, checking chunk order, verifying the digest and only then
/// committing the bytes into the content-addressed store.
/// </summary>
public sealed class UploadService(IBlobStore blobs, IMetadataStore metadata, ContentLocks locks, TimeProvider time)
{
    private const int CopyBufferSize = 1 << 20;

    /// <summary>
    /// Running SHA-256 per session on this node, so that finishing an upload does not read the bytes again.
    /// If it is missing (another node took the earlier chunks, or a restart) the upload is re-read once at the end.
    /// Bytes an upload has acknowledged never change, so a hash is right whenever the upload's length equals its offset.
    /// </summary>
    private readonly ConcurrentDictionary<string, HashState> _hashes = new();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();

    /// <summary>
    /// Behind a load balancer an upload often finishes on another node, which cannot tell this one to forget its hash;
    /// hashes idle this long are dropped (the upload, if it goes on here, is re-read once at the end).
    /// </summary>
    private static readonly TimeSpan IdleHashLifetime = TimeSpan.FromHours(1);
    private long _nextSweep;

    public async Task<UploadSession> StartAsync(RepositoryKey repository, CancellationToken cancellationToken)
    {
        await locks.EnsureRepositoryWritableAsync(repository, cancellationToken);
        var session = new UploadSession(Guid.NewGuid().ToString("N"), repository, time.GetUtcNow());
        await blobs.CreateUploadAsync(session.Id, cancellationToken);
        await metadata.CreateUploadAsync(session, cancellationToken);
        SweepIdleHashes();
        return session;
    }

    /// <summary>The number of bytes received so far.</summary>
    public async Task<long> GetOffsetAsync(RepositoryKey repository, string uploadId, CancellationToken cancellationToken)
    {
        await GetSessionAsync(repository, uploadId, cancellationToken);
        return await blobs.GetUploadSizeOrNullAsync(uploadId, cancellationToken) ?? throw UploadUnknown(uploadId);
    }

    public async Task<long> AppendAsync(RepositoryKey repository, string uploadId, Stream body, ChunkRange range, CancellationToken cancellationToken)
    {
        await GetSessionAsync(repository, uploadId, cancellationToken);
        var gate = _locks.GetOrAdd(uploadId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await AppendLockedAsync(uploadId, body, range, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task<CommittedBlob> FinishAsync(RepositoryKey repository, string uploadId, Digest expected, Stream? finalChunk, ChunkRange range, CancellationToken cancellationToken)
    {
        await GetSessionAsync(repository, uploadId, cancellationToken);
        var gate = _locks.GetOrAdd(uploadId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            long size = finalChunk is null
                ? await blobs.GetUploadSizeOrNullAsync(uploadId, cancellationToken) ?? throw UploadUnknown(uploadId)
                : await AppendLockedAsync(uploadId, finalChunk, range, cancellationToken);

            var actual = await ComputeDigestAsync(uploadId, expected.Algorithm, size, cancellationToken);
            if (actual != expected)
            {
                await DiscardAsync(uploadId, cancellationToken);
                throw new OciException(OciErrorCode.DigestInvalid, $"the uploaded content has digest {actual}, not {expected}",
                    new { expected = expected.ToString(), actual = actual.ToString() });
            }

            await blobs.CommitUploadAsync(uploadId, expected, cancellationToken);
            var linked = await BlobLinking.TryLinkAsync(metadata, blobs, repository, expected, size, cancellationToken);
            await metadata.DeleteUploadAsync(uploadId, cancellationToken);
            Forget(uploadId);
            if (!linked)
            {
                throw new OciException(OciErrorCode.BlobUploadInvalid,
                    "garbage collection removed the blob while it was being committed (the upload stalled for longer than the grace period); upload it again",
                    new { digest = expected.ToString() });
            }
            return new CommittedBlob(expected, size);
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task CancelAsync(RepositoryKey repository, string uploadId, CancellationToken cancellationToken)
    {
        await GetSessionAsync(repository, uploadId, cancellationToken);
        await DiscardAsync(uploadId, cancellationToken);
    }

    private async Task DiscardAsync(string uploadId, CancellationToken cancellationToken)
    {
        await metadata.DeleteUploadAsync(uploadId, cancellationToken);
        await blobs.DeleteUploadAsync(uploadId, cancellationToken);
        Forget(uploadId);
    }

    private void Forget(string uploadId)
    {
        if (_hashes.TryRemove(uploadId, out var state)) state.Hasher.Dispose();
        _locks.TryRemove(uploadId, out _);
    }

    /// <summary>At most once a minute, drops hashes (and free locks) of uploads this node has not touched for an hour.</summary>
    private void SweepIdleHashes()
    {
        var now = time.GetUtcNow();
        var next = Interlocked.Read(ref _nextSweep);
        if (now.UtcTicks < next || Interlocked.CompareExchange(ref _nextSweep, (now + TimeSpan.FromMinutes(1)).UtcTicks, next) != next) return;
        foreach (var (uploadId, state) in _hashes)
        {
            if (now - state.LastUsed < IdleHashLifetime || !_hashes.TryRemove(KeyValuePair.Create(uploadId, state))) continue;
            state.Hasher.Dispose();
            if (_locks.TryGetValue(uploadId, out var gate) && gate.CurrentCount == 1) _locks.TryRemove(KeyValuePair.Create(uploadId, gate));
        }
    }

    private async Task<UploadSession> GetSessionAsync(RepositoryKey repository, string uploadId, CancellationToken cancellationToken)
    {
        if (uploadId.Length != 32 || !uploadId.All(char.IsAsciiHexDigitLower)) throw UploadUnknown(uploadId);
        var session = await metadata.GetUploadOrNullAsync(uploadId, cancellationToken);
        if (session is null || session.Repository != repository) throw UploadUnknown(uploadId);
        return session;
    }

    private async Task<long> AppendLockedAsync(string uploadId, Stream body, ChunkRange range, CancellationToken cancellationToken)
    {
        await using var target = await blobs.OpenUploadForAppendOrNullAsync(uploadId, cancellationToken) ?? throw UploadUnknown(uploadId);
        var offset = target.Position;
        if (range.Start is { } start && start != offset)
        {
            throw new OciException(OciErrorCode.RangeInvalid,
                $"chunk starts at {start} but the upload has {offset} bytes; send the chunk that starts at {offset}", status: 416);
        }
        long? declared = range.End is { } end && range.Start is { } s ? end - s + 1 : range.Length;
        if (range.End is not null && range.Length is { } length && length != declared)
            throw new OciException(OciErrorCode.SizeInvalid, $"Content-Range covers {declared} bytes but Content-Length is {length}", status: 416);

        // The hash is taken out while this chunk streams into it, so nothing else (the idle sweep) can touch it. A chunk
        // at offset 0 can always be hashed, even on a node that did not start the upload (behind a load balancer the
        // POST and the first PATCH or PUT usually land on different nodes); a later chunk can only continue a hash this
        // node holds for exactly this offset, and a hash another node has moved past is of no more use.
        _hashes.TryRemove(uploadId, out var existing);
        var state = existing?.Offset == offset ? existing
            : offset == 0 ? new HashState(Digest.CreateHasher(Digest.Sha256), 0, time.GetUtcNow())
            : null;
        if (existing is not null && existing != state) existing.Hasher.Dispose();
        long written;
        try
        {
            written = await CopyAndHashAsync(body, target, state?.Hasher, cancellationToken);
            await target.FlushAsync(cancellationToken);
        }
        catch (Exception error)
        {
            // A chunk that did not arrive whole is not part of the upload: roll back so the client can resend it.
            state?.Hasher.Dispose();
            target.SetLength(offset);
            if (error is UploadConflictException)
            {
                throw new OciException(OciErrorCode.RangeInvalid,
                    "another request appended to this upload at the same time; ask for the upload's offset and resend from there", status: 416);
            }
            throw;
        }

        if (declared is { } expectedLength && expectedLength != written)
        {
            state?.Hasher.Dispose();
            target.SetLength(offset);
            throw new OciException(OciErrorCode.SizeInvalid, $"the chunk declared {expectedLength} bytes but {written} arrived", status: 400);
        }
        if (state is not null) _hashes[uploadId] = state with { Offset = offset + written, LastUsed = time.GetUtcNow() };
        return offset + written;
    }

    /// <summary>
    /// Copies the request body to the upload while hashing it. Request bodies arrive in socket-sized pieces; gathering
    /// them into 1 MiB buffers keeps storage to a few hundred large writes per 512 MiB. (Overlapping the hash and the
    /// write with the next read was measured with bench/run.sh and gained nothing on 2 cores: the client, the socket
    /// and the hash already keep both busy, and every extra hand-off between threads costs a context switch.)
    /// </summary>
    private static async Task<long> CopyAndHashAsync(Stream body, Stream target, IncrementalHash? hasher, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        long written = 0;
        try
        {
            int filled;
            do
            {
                filled = await body.ReadAtLeastAsync(buffer.AsMemory(0, CopyBufferSize), CopyBufferSize, throwOnEndOfStream: false, cancellationToken);
                if (filled == 0) break;
                hasher?.AppendData(buffer, 0, filled);
                await target.WriteAsync(buffer.AsMemory(0, filled), cancellationToken);
                written += filled;
            }
            while (filled == CopyBufferSize);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return written;
    }

    private async Task<Digest> ComputeDigestAsync(string uploadId, string algorithm, long size, CancellationToken cancellationToken)
    {
        // Finishing ends the upload either way (committed, or discarded on a mismatch), so the hash is taken for good.
        if (algorithm == Digest.Sha256 && _hashes.TryRemove(uploadId, out var state))
        {
            using (state.Hasher)
            {
                if (state.Offset == size) return Digest.FromHash(Digest.Sha256, state.Hasher.GetHashAndReset());
            }
        }
        await using var stream = await blobs.OpenUploadForReadOrNullAsync(uploadId, cancellationToken) ?? throw UploadUnknown(uploadId);
        using var hasher = Digest.CreateHasher(algorithm);
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(0, CopyBufferSize), cancellationToken)) > 0) hasher.AppendData(buffer, 0, read);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return Digest.FromHash(algorithm, hasher.GetHashAndReset());
    }

    private static OciException UploadUnknown(string uploadId) =>
        new(OciErrorCode.BlobUploadUnknown, "blob upload unknown to registry", new { uuid = uploadId.Length <= 64 ? uploadId : uploadId[..64] });

    private sealed record HashState(IncrementalHash Hasher, long Offset, DateTimeOffset LastUsed);
}
