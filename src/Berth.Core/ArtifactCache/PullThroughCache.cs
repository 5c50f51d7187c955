using System.Buffers;
using System.Collections.Concurrent;
using Berth.Core.Content;
using Berth.Core.Upstream;
using Microsoft.Extensions.Logging;

namespace Berth.Core.ArtifactCache;

/// <summary>Where a blob fetched for the first time streams to while it is stored: the client that asked for it.</summary>
public interface IBlobSink
{
    /// <summary>Called once, before the first bytes, with the blob's length when the upstream declared it.</summary>
    ValueTask StartAsync(long? length);

    /// <summary>False once the client has gone; the fetch then goes on, for the cache, without it.</summary>
    ValueTask<bool> WriteAsync(ReadOnlyMemory<byte> chunk);
}

/// <summary>
/// Pull through a cache rule. A manifest not yet here is fetched from upstream and kept byte for byte; a tag is asked
/// upstream again once <see cref="ArtifactCacheOptions.TagRefreshInterval"/> has passed since this node last checked it,
/// and a digest, once here, is never asked again. A blob is fetched when first pulled, streamed to that client while it
/// is written to an upload area and hashed, and becomes visible only once its digest is verified and the bytes committed,
/// as a push does; a crash mid-fetch leaves only an orphan upload area, which garbage collection removes.
/// Concurrent first pulls of one manifest or blob share one upstream fetch on a node (single-flight); nodes sharing
/// storage may each fetch, and the content-addressed commit keeps one copy. When the upstream fails, what is cached is
/// served as it is (stale rather than failing); what is not cached fails with an error naming the upstream and the cause.
/// </summary>
public sealed class PullThroughCache(
    ArtifactCacheService rules,
    RegistryClient upstream,
    IMetadataStore metadata,
    IBlobStore blobs,
    ManifestService manifests,
    IOptions<ArtifactCacheOptions> options,
    TimeProvider time,
    ILogger<PullThroughCache> logger)
{
    private const int CopyBufferSize = 8 << 20;
    private const int FollowBufferSize = 1 << 20;

    /// <summary>A fetch outlives the request that started it (others may be waiting), but not this long.</summary>
    private static readonly TimeSpan FetchLifetime = TimeSpan.FromHours(2);

    private readonly ConcurrentDictionary<string, Lazy<Task>> _manifestFetches = new();
    private readonly ConcurrentDictionary<Digest, BlobFetch> _blobFetches = new();
    private readonly ConcurrentDictionary<(RepositoryKey Repository, string Tag), DateTimeOffset> _tagCheckedAt = new();

    /// <summary>Counters for metrics: cache hits, misses, bytes fetched upstream, upstream errors by kind, tag checks.</summary>
    public ArtifactCacheCounters Counters { get; } = new();

    /// <summary>The rule-backed repository, or null when no rule fills it (the request is then an ordinary one).</summary>
    public Task<CachedRepository?> FindAsync(RepositoryKey repository, CancellationToken cancellationToken) => rules.FindAsync(repository, cancellationToken);

    /// <summary>
    /// Makes sure the manifest is here, fetching or refreshing it through the rule; then the caller reads it as usual. An
    /// upstream failure throws <see cref="UpstreamException"/> only when nothing cached can answer.
    /// </summary>
    public async Task EnsureManifestAsync(CachedRepository cached, RepositoryKey repository, Reference reference, CancellationToken cancellationToken)
    {
        if (reference.Digest is { } digest)
        {
            if (await metadata.GetManifestOrNullAsync(repository, digest, cancellationToken) is not null)
            {
                Counters.Hit();
                return;
            }
            Counters.Miss();
            await JoinAsync(_manifestFetches, $"{repository}@{digest}", () => FetchManifestAsync(cached, repository, digest.ToString(), null), cancellationToken);
            return;
        }

        var tag = reference.Tag!;
        var local = await metadata.GetTagOrNullAsync(repository, tag, cancellationToken);
        if (local is not null && _tagCheckedAt.TryGetValue((repository, tag), out var checkedAt)
            && time.GetUtcNow() - checkedAt < options.Value.TagRefreshInterval)
        {
            Counters.Hit();
            return;
        }
        if (local is null) Counters.Miss();
        try
        {
            await JoinAsync(_manifestFetches, $"{repository}:{tag}", () => RefreshTagAsync(cached, repository, tag), cancellationToken);
        }
        catch (UpstreamException error) when (local is not null)
        {
            Counters.Stale();
            logger.LogWarning("Serving cached {Repository}:{Tag}, which could not be checked upstream: {Error}", repository, tag, error.Message);
        }
    }

    /// <summary>
    /// Makes sure the blob is here. With a <paramref name="sink"/>, a fetch this call starts streams to it as it is stored,
    /// and true is returned (the client has its answer); otherwise, or when joining another request's fetch, false: the blob
    /// is then stored and the caller serves it as usual.
    /// </summary>
    public async Task<bool> EnsureBlobAsync(CachedRepository cached, RepositoryKey repository, Digest digest, IBlobSink? sink, CancellationToken cancellationToken)
    {
        if (await metadata.GetLinkedBlobSizeOrNullAsync(repository, digest, cancellationToken) is not null)
        {
            Counters.Hit();
            return false;
        }
        // Bytes another repository already brought in need only a link.
        if (await blobs.GetSizeOrNullAsync(digest, cancellationToken) is { } size
            && await BlobLinking.TryLinkAsync(metadata, blobs, repository, digest, size, cancellationToken))
        {
            Counters.Hit();
            return false;
        }
        Counters.Miss();
        var mine = new BlobFetch();
        mine.Run = new Lazy<Task>(() => RunDetached(() => FetchBlobAsync(cached, repository, digest, sink, mine)));
        var fetch = _blobFetches.GetOrAdd(digest, mine);
        var started = ReferenceEquals(fetch, mine);
        var followed = false;
        try
        {
            // A request that joins a running fetch streams along with it rather than waiting for the whole blob.
            if (!started && sink is not null) followed = await FollowAsync(fetch, digest, sink, cancellationToken);
            await fetch.Run.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            if (fetch.Run.Value.IsCompleted) _blobFetches.TryRemove(KeyValuePair.Create(digest, fetch));
        }
        // Another request's fetch stored the bytes; this repository may still need its own link.
        if (!started && await metadata.GetLinkedBlobSizeOrNullAsync(repository, digest, cancellationToken) is null
            && await blobs.GetSizeOrNullAsync(digest, cancellationToken) is { } fetched)
        {
            await BlobLinking.TryLinkAsync(metadata, blobs, repository, digest, fetched, cancellationToken);
        }
        return (started && sink is not null) || followed;
    }

    /// <summary>
    /// Streams a blob another request is fetching to <paramref name="sink"/>: what the upload area holds, following it as
    /// each chunk is stored, and the rest from the committed blob once the fetch is done. False when the fetch ended before
    /// it began storing (the caller then serves the stored blob, or reports the fetch's failure). A fetch that fails
    /// midway throws, which breaks the response off, as it does for the first client: a client never gets a wrong blob
    /// as a whole one.
    /// </summary>
    private async Task<bool> FollowAsync(BlobFetch fetch, Digest digest, IBlobSink sink, CancellationToken cancellationToken)
    {
        await fetch.WhenStoringOrEnded.WaitAsync(cancellationToken);
        if (fetch.Run.Value.IsCompleted || fetch.UploadId is not { } uploadId) return false;
        fetch.AddFollower();
        if (!await StartGuardedAsync(sink, fetch.Length)) return true;
        var buffer = ArrayPool<byte>.Shared.Rent(FollowBufferSize);
        Stream? source = null;
        try
        {
            long sent = 0;
            while (!fetch.Run.Value.IsCompleted)
            {
                var stored = fetch.Stored;
                if (sent < stored)
                {
                    source ??= await OpenAtAsync(await blobs.OpenUploadForReadOrNullAsync(uploadId, cancellationToken), sent, cancellationToken);
                    var read = source is null ? 0 : await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, stored - sent)), cancellationToken);
                    if (read > 0)
                    {
                        if (!await Guarded(() => sink.WriteAsync(buffer.AsMemory(0, read)).AsTask())) return true;
                        sent += read;
                        continue;
                    }
                    // The upload area is gone (just committed), or the store shows the bytes only from the next flush.
                    source?.Dispose();
                    source = null;
                }
                await fetch.WhenStoredBeyond(stored).WaitAsync(cancellationToken);
            }
            source?.Dispose();
            source = null;
            await fetch.Run.Value.WaitAsync(cancellationToken);
            using var blob = await blobs.OpenOrNullAsync(digest, cancellationToken)
                ?? throw new InvalidOperationException($"blob {digest} vanished right after it was stored");
            source = await OpenAtAsync(blob.Stream, sent, cancellationToken);
            int rest;
            while ((rest = await source!.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (!await Guarded(() => sink.WriteAsync(buffer.AsMemory(0, rest)).AsTask())) return true;
            }
            return true;
        }
        finally
        {
            source?.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary><paramref name="stream"/> positioned at <paramref name="offset"/>, by seeking or, where it cannot, by reading past the start.</summary>
    private static async Task<Stream?> OpenAtAsync(Stream? stream, long offset, CancellationToken cancellationToken)
    {
        if (stream is null || offset == 0) return stream;
        if (stream.CanSeek)
        {
            stream.Seek(offset, SeekOrigin.Begin);
            return stream;
        }
        var skip = ArrayPool<byte>.Shared.Rent(FollowBufferSize);
        try
        {
            for (long left = offset; left > 0;)
            {
                var read = await stream.ReadAsync(skip.AsMemory(0, (int)Math.Min(skip.Length, left)), cancellationToken);
                if (read == 0) break;
                left -= read;
            }
            return stream;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(skip);
        }
    }

    /// <summary>The upstream's size of a blob not yet here, for a HEAD (which fetches nothing).</summary>
    public async Task<long?> GetUpstreamBlobSizeAsync(CachedRepository cached, Digest digest, CancellationToken cancellationToken) =>
        await CallAsync(cached, ct => upstream.HeadBlobAsync(cached.Upstream, cached.UpstreamRepository, digest, cached.Credentials, ct), cancellationToken);

    private async Task RefreshTagAsync(CachedRepository cached, RepositoryKey repository, string tag)
    {
        using var lifetime = new CancellationTokenSource(FetchLifetime);
        var cancellationToken = lifetime.Token;
        Counters.TagCheck();
        var local = await metadata.GetTagOrNullAsync(repository, tag, cancellationToken);
        if (local is not null)
        {
            // A HEAD tells whether the tag moved without a GET (Docker Hub counts GETs against its pull limit, not HEADs).
            var head = await CallAsync(cached, ct => upstream.HeadManifestAsync(cached.Upstream, cached.UpstreamRepository, tag, cached.Credentials, ct), cancellationToken);
            if (head?.Digest == local)
            {
                _tagCheckedAt[(repository, tag)] = time.GetUtcNow();
                return;
            }
        }
        await FetchManifestAsync(cached, repository, tag, tag);
        _tagCheckedAt[(repository, tag)] = time.GetUtcNow();
    }

    private async Task FetchManifestAsync(CachedRepository cached, RepositoryKey repository, string reference, string? tag)
    {
        using var lifetime = new CancellationTokenSource(FetchLifetime);
        var cancellationToken = lifetime.Token;
        var manifest = await CallAsync(cached, ct => upstream.GetManifestAsync(cached.Upstream, cached.UpstreamRepository, reference, cached.Credentials, ct), cancellationToken);
        Counters.UpstreamBytes(manifest.Content.Length);
        await manifests.StoreFromUpstreamAsync(repository, tag, manifest.MediaType, manifest.Content, cancellationToken);
    }

    private async Task FetchBlobAsync(CachedRepository cached, RepositoryKey repository, Digest digest, IBlobSink? sink, BlobFetch progress)
    {
        using var lifetime = new CancellationTokenSource(FetchLifetime);
        var cancellationToken = lifetime.Token;
        using var download = await CallAsync(cached, ct => upstream.GetBlobAsync(cached.Upstream, cached.UpstreamRepository, digest, cached.Credentials, ct), cancellationToken);
        var live = sink is not null;
        if (sink is not null) live = await StartGuardedAsync(sink, download.Length);

        var uploadId = Guid.NewGuid().ToString("N");
        await blobs.CreateUploadAsync(uploadId, cancellationToken);
        progress.StartStoring(uploadId, download.Length);
        var committed = false;
        try
        {
            long written = 0;
            using var hasher = Digest.CreateHasher(digest.Algorithm);
            await using (var target = await blobs.OpenUploadForAppendOrNullAsync(uploadId, cancellationToken)
                ?? throw new InvalidOperationException($"upload area {uploadId} vanished"))
            {
                // Two buffers: the next chunk arrives from upstream while the current one is hashed, written to the
                // upload area and sent to the client, so the upstream connection never waits for the disk or the client.
                // They are aligned native memory, so the store may write them to disk directly (AlignedBuffer).
                var current = new AlignedBuffer(CopyBufferSize);
                var next = new AlignedBuffer(CopyBufferSize);
                Task<int>? reading = null;
                try
                {
                    var filled = await ReadChunkAsync(download, current.Memory, cached, digest, written, cancellationToken);
                    while (filled > 0)
                    {
                        reading = filled == CopyBufferSize
                            ? ReadAheadAsync(download, next.Memory, cached, digest, written + filled, cancellationToken)
                            : Task.FromResult(0);
                        // The same buffer goes to the upload area and to the client, and is hashed while both take it:
                        // the file write runs on the thread pool and the response drains on Kestrel's socket thread.
                        var chunk = current.Memory[..filled];
                        var storing = target.WriteAsync(chunk, cancellationToken).AsTask();
                        var sending = live ? Guarded(() => sink!.WriteAsync(chunk).AsTask()) : Task.FromResult(false);
                        hasher.AppendData(chunk.Span);
                        await storing;
                        // A store that shows appended bytes only once flushed (Azure Blob) flushes each chunk while others
                        // follow; they get it before this chunk has reached the first client, however slow that one is.
                        if (progress.HasFollowers) await target.FlushAsync(cancellationToken);
                        written += filled;
                        progress.RecordStored(written);
                        live = await sending;
                        Counters.UpstreamBytes(filled);
                        filled = await reading;
                        reading = null;
                        (current, next) = (next, current);
                    }
                }
                finally
                {
                    // A read still in flight (the loop failed on another step) must end before its buffer is freed.
                    if (reading is not null) await reading.ContinueWith(_ => { }, TaskScheduler.Default);
                    ((IDisposable)current).Dispose();
                    ((IDisposable)next).Dispose();
                }
                await target.FlushAsync(cancellationToken);
            }
            var actual = Digest.FromHash(digest.Algorithm, hasher.GetHashAndReset());
            if (actual != digest || (download.Length is { } declared && declared != written))
                throw new UpstreamException(UpstreamErrorKind.BadResponse, cached.Upstream.Authority, $"blob {digest} arrived as {written} bytes with digest {actual}");
            await blobs.CommitUploadAsync(uploadId, digest, cancellationToken);
            committed = true;
            if (!await BlobLinking.TryLinkAsync(metadata, blobs, repository, digest, written, cancellationToken))
                throw new UpstreamException(UpstreamErrorKind.BadResponse, cached.Upstream.Authority, $"blob {digest} was collected while it was being stored; pull again");
        }
        finally
        {
            if (!committed) await blobs.DeleteUploadAsync(uploadId, CancellationToken.None);
        }
    }

    /// <summary>
    /// The next chunk, read on another thread: the socket usually holds bytes already, so a read started inline would
    /// run to its end on this thread before the current chunk is hashed and written, and nothing would overlap.
    /// </summary>
    private static Task<int> ReadAheadAsync(UpstreamBlob download, Memory<byte> buffer, CachedRepository cached, Digest digest, long offset, CancellationToken cancellationToken) =>
        Task.Run(() => ReadChunkAsync(download, buffer, cached, digest, offset, cancellationToken), cancellationToken);

    /// <summary>Up to one buffer of the upstream download; a broken connection becomes an upstream error naming the blob.</summary>
    private static async Task<int> ReadChunkAsync(UpstreamBlob download, Memory<byte> buffer, CachedRepository cached, Digest digest, long offset, CancellationToken cancellationToken)
    {
        try
        {
            return await download.Content.ReadAtLeastAsync(buffer, CopyBufferSize, throwOnEndOfStream: false, cancellationToken);
        }
        catch (Exception error) when (error is IOException or HttpRequestException)
        {
            throw new UpstreamException(UpstreamErrorKind.Unreachable, cached.Upstream.Authority, $"the download of blob {digest} broke off after {offset} bytes", inner: error);
        }
    }

    /// <summary>Starts the client's response; false when the client has gone.</summary>
    private static Task<bool> StartGuardedAsync(IBlobSink sink, long? length) =>
        Guarded(async () =>
        {
            await sink.StartAsync(length);
            return true;
        });

    /// <summary>A client that has gone away ends only its own stream: the fetch goes on for the cache and for whoever waits.</summary>
    private static async Task<bool> Guarded(Func<Task<bool>> write)
    {
        try
        {
            return await write();
        }
        catch (Exception error) when (error is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>A call upstream whose outcome is recorded on the rule (last error, credential health) and counted.</summary>
    private async Task<T> CallAsync<T>(CachedRepository cached, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            var result = await call(cancellationToken);
            if (cached.Rule.LastError is not null) await rules.RecordOutcomeAsync(cached, null, CancellationToken.None);
            return result;
        }
        catch (UpstreamException error)
        {
            var reported = error.Kind == UpstreamErrorKind.Unauthorized ? WithCredentialSetHint(cached, error) : error;
            Counters.Error(reported.Kind);
            if (reported.Kind != UpstreamErrorKind.NotFound) await rules.RecordOutcomeAsync(cached, reported, CancellationToken.None);
            throw reported;
        }
    }

    /// <summary>A refused login, with what to change about it: the rule's credential set.</summary>
    private static UpstreamException WithCredentialSetHint(CachedRepository cached, UpstreamException error) =>
        new(error.Kind, error.Upstream, error.Cause + (cached.Credentials is null
            ? " (add a credential set to the cache rule)"
            : " (check the credential set's username and password)"), error.RetryAfter, error);

    /// <summary>Joins the fetch running under <paramref name="key"/>, or starts it; the fetch does not end when one waiter gives up.</summary>
    private static async Task JoinAsync(ConcurrentDictionary<string, Lazy<Task>> fetches, string key, Func<Task> start, CancellationToken cancellationToken)
    {
        var fetch = fetches.GetOrAdd(key, _ => new Lazy<Task>(() => RunDetached(start)));
        try
        {
            await fetch.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            if (fetch.Value.IsCompleted) fetches.TryRemove(KeyValuePair.Create(key, fetch));
        }
    }

    private static Task RunDetached(Func<Task> start) => Task.Run(start);
}

/// <summary>
/// A blob fetch running on this node, and how far it has got: the upload area it stores into and the bytes stored so
/// far, for the requests that join it and stream along (<see cref="PullThroughCache"/>).
/// </summary>
internal sealed class BlobFetch
{
    private readonly TaskCompletionSource _storing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _stored;
    private int _followers;

    /// <summary>The fetch itself, started by the request that created this (only once, however many join).</summary>
    public Lazy<Task> Run { get; set; } = null!;

    public string? UploadId { get; private set; }

    /// <summary>The blob's length as the upstream declared it, if it did.</summary>
    public long? Length { get; private set; }

    /// <summary>Bytes stored in the upload area so far, readable by a request that opens it.</summary>
    public long Stored => Interlocked.Read(ref _stored);

    public bool HasFollowers => Volatile.Read(ref _followers) > 0;

    /// <summary>Completes once the upload area exists (followers may open it), or once the fetch has ended.</summary>
    public Task WhenStoringOrEnded => Task.WhenAny(_storing.Task, Run.Value);

    public void StartStoring(string uploadId, long? length)
    {
        UploadId = uploadId;
        Length = length;
        _storing.TrySetResult();
    }

    public void AddFollower() => Interlocked.Increment(ref _followers);

    /// <summary>Records that <paramref name="total"/> bytes are stored, and wakes the followers.</summary>
    public void RecordStored(long total)
    {
        Interlocked.Exchange(ref _stored, total);
        Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Completes when more than <paramref name="seen"/> bytes are stored, or the fetch has ended.</summary>
    public Task WhenStoredBeyond(long seen)
    {
        // The signal is read before the count: a chunk recorded in between completes this signal, or shows in the count.
        var progress = Volatile.Read(ref _progress);
        return Stored > seen || Run.Value.IsCompleted ? Task.CompletedTask : Task.WhenAny(progress.Task, Run.Value);
    }
}

/// <summary>The artifact cache's counters, read by the metrics endpoint.</summary>
public sealed class ArtifactCacheCounters
{
    private long _hits;
    private long _misses;
    private long _stale;
    private long _upstreamBytes;
    private long _tagChecks;
    private readonly ConcurrentDictionary<UpstreamErrorKind, long> _errors = new();

    public long Hits => Interlocked.Read(ref _hits);
    public long Misses => Interlocked.Read(ref _misses);
    public long StaleServed => Interlocked.Read(ref _stale);
    public long UpstreamBytesRead => Interlocked.Read(ref _upstreamBytes);
    public long TagChecks => Interlocked.Read(ref _tagChecks);
    public IReadOnlyDictionary<UpstreamErrorKind, long> Errors => _errors;

    internal void Hit() => Interlocked.Increment(ref _hits);
    internal void Miss() => Interlocked.Increment(ref _misses);
    internal void Stale() => Interlocked.Increment(ref _stale);
    internal void UpstreamBytes(long count) => Interlocked.Add(ref _upstreamBytes, count);
    internal void TagCheck() => Interlocked.Increment(ref _tagChecks);
    internal void Error(UpstreamErrorKind kind) => _errors.AddOrUpdate(kind, 1, (_, n) => n + 1);
}
