using System.Buffers;
using System.Security.Cryptography;
using Berth.Core.Storage;
using Berth.Oci;

namespace Berth.Testing;

/// <summary>
/// What every blob store promises (IBlobStore's contract), run against each provider: bytes come back exactly, any node
/// can continue an upload, commits refresh existing blobs for garbage collection, deletes are conditional, and large
/// uploads stream through fixed buffers.
/// </summary>
public abstract class BlobStoreContractTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : class, IBlobStoreFixture
{
    protected TFixture Fixture { get; } = fixture;
    protected CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task CommittedUpload_ReadsBackByteForByte()
    {
        var store = Fixture.CreateStore();
        // Not a multiple of any block or buffer size, and larger than one block.
        var content = RandomBytes(9 * 1024 * 1024 + 12345);
        var digest = await StoreAsync(store, content);

        Assert.Equal(content.Length, await store.GetSizeOrNullAsync(digest, Ct));
        using var blob = await store.OpenOrNullAsync(digest, Ct);
        Assert.NotNull(blob);
        Assert.Equal(content.Length, blob.Length);
        Assert.Equal(content, await ReadAllAsync(blob.Stream));
    }

    [Fact]
    public async Task ReadFromAnOffset_ReturnsTheRestOfTheBlob()
    {
        var store = Fixture.CreateStore();
        var content = RandomBytes(300_000);
        var digest = await StoreAsync(store, content);

        using var blob = await store.OpenOrNullAsync(digest, Ct);
        blob!.Stream.Seek(123_456, SeekOrigin.Begin);
        Assert.Equal(content[123_456..], await ReadAllAsync(blob.Stream));
        blob.Stream.Seek(10, SeekOrigin.Begin);
        var head = new byte[5];
        await blob.Stream.ReadExactlyAsync(head, Ct);
        Assert.Equal(content[10..15], head);
    }

    [Fact]
    public async Task UnknownBlobAndUpload_AreNull()
    {
        var store = Fixture.CreateStore();
        var digest = Digest.Compute(RandomBytes(10));
        Assert.Null(await store.GetSizeOrNullAsync(digest, Ct));
        Assert.Null(await store.OpenOrNullAsync(digest, Ct));
        var id = NewUploadId();
        Assert.Null(await store.GetUploadSizeOrNullAsync(id, Ct));
        Assert.Null(await store.OpenUploadForAppendOrNullAsync(id, Ct));
        Assert.Null(await store.OpenUploadForReadOrNullAsync(id, Ct));
    }

    [Fact]
    public async Task AnUploadBeingAppendedTo_CanBeReadMeanwhile_UpToWhatWasFlushed()
    {
        // The artifact cache's other clients follow a fetch by reading its upload area while it is still written.
        var store = Fixture.CreateStore();
        var content = RandomBytes(3 * 65536);
        var id = NewUploadId();
        await store.CreateUploadAsync(id, Ct);
        await using var append = await store.OpenUploadForAppendOrNullAsync(id, Ct) ?? throw new InvalidOperationException("upload missing");
        await append.WriteAsync(content.AsMemory(0, 65536), Ct);
        await append.FlushAsync(Ct);
        await using (var reader = await store.OpenUploadForReadOrNullAsync(id, Ct))
            Assert.Equal(content[..65536], await ReadAllAsync(reader!));
        await append.WriteAsync(content.AsMemory(65536), Ct);
        await append.FlushAsync(Ct);
        await using (var reader = await store.OpenUploadForReadOrNullAsync(id, Ct))
            Assert.Equal(content, await ReadAllAsync(reader!));
    }

    [Fact]
    public async Task AlignedBuffersMixedWithUnalignedWrites_RoundTripByteForByte()
    {
        // The artifact cache appends from aligned native buffers (which a store may write directly to disk), and the
        // last chunk of a blob is rarely whole blocks: every mix must keep the bytes and their order.
        var store = Fixture.CreateStore();
        var content = RandomBytes(3 * 65536 + 2 * 4096 + 123);
        var id = NewUploadId();
        await store.CreateUploadAsync(id, Ct);
        using var block = new AlignedBuffer(2 * 65536);
        await using (var append = await store.OpenUploadForAppendOrNullAsync(id, Ct) ?? throw new InvalidOperationException("upload missing"))
        {
            var offset = 0;
            foreach (var (length, aligned) in new[] { (2 * 65536, true), (100, false), (4096, true), (65536 - 100, false), (4096 + 123, true) })
            {
                ReadOnlyMemory<byte> chunk = content.AsMemory(offset, length);
                if (aligned)
                {
                    chunk.CopyTo(block.Memory);
                    chunk = block.Memory[..length];
                }
                await append.WriteAsync(chunk, Ct);
                offset += length;
            }
            Assert.Equal(content.Length, offset);
            await append.FlushAsync(Ct);
        }
        var digest = Digest.Compute(content);
        await store.CommitUploadAsync(id, digest, Ct);
        using var blob = await store.OpenOrNullAsync(digest, Ct);
        Assert.Equal(content, await ReadAllAsync(blob!.Stream));
    }

    [Fact]
    public async Task UploadContinuedOnAnotherNode_HoldsEveryChunkInOrder()
    {
        var (first, second) = (Fixture.CreateStore(), Fixture.CreateStore());
        var content = RandomBytes(5 * 1024 * 1024 + 77);
        var id = NewUploadId();
        await first.CreateUploadAsync(id, Ct);
        await AppendAsync(first, id, content.AsMemory(0, 3 * 1024 * 1024));
        Assert.Equal(3 * 1024 * 1024, await second.GetUploadSizeOrNullAsync(id, Ct));
        await AppendAsync(second, id, content.AsMemory(3 * 1024 * 1024, 1000));
        await AppendAsync(first, id, content.AsMemory(3 * 1024 * 1024 + 1000));

        Assert.Equal(content.Length, await first.GetUploadSizeOrNullAsync(id, Ct));
        await using (var upload = await second.OpenUploadForReadOrNullAsync(id, Ct))
            Assert.Equal(content, await ReadAllAsync(upload!));
        var digest = Digest.Compute(content);
        await second.CommitUploadAsync(id, digest, Ct);
        using var blob = await first.OpenOrNullAsync(digest, Ct);
        Assert.Equal(content, await ReadAllAsync(blob!.Stream));
        Assert.Null(await first.GetUploadSizeOrNullAsync(id, Ct));
    }

    [Fact]
    public async Task AppendCutBackToWhereItStarted_LeavesTheUploadAsItWas()
    {
        var store = Fixture.CreateStore();
        var id = NewUploadId();
        await store.CreateUploadAsync(id, Ct);
        var kept = RandomBytes(1000);
        await AppendAsync(store, id, kept);

        await using (var append = await store.OpenUploadForAppendOrNullAsync(id, Ct))
        {
            Assert.Equal(1000, append!.Position);
            await append.WriteAsync(RandomBytes(4096 * 1024 + 1), Ct);
            append.SetLength(1000);
        }

        Assert.Equal(1000, await store.GetUploadSizeOrNullAsync(id, Ct));
        await using var upload = await store.OpenUploadForReadOrNullAsync(id, Ct);
        Assert.Equal(kept, await ReadAllAsync(upload!));
    }

    [Fact]
    public async Task CommitOfAnExistingBlob_RefreshesItsLastModifiedAndDiscardsTheUpload()
    {
        var store = Fixture.CreateStore();
        var content = RandomBytes(2048);
        var digest = await StoreAsync(store, content);
        var before = await LastModifiedAsync(store, digest);

        // Stores keep modification times to the second at least; step past one.
        await Task.Delay(TimeSpan.FromMilliseconds(1100));
        var id = NewUploadId();
        await store.CreateUploadAsync(id, Ct);
        await AppendAsync(store, id, content);
        await store.CommitUploadAsync(id, digest, Ct);

        Assert.True(await LastModifiedAsync(store, digest) > before);
        Assert.Null(await store.GetUploadSizeOrNullAsync(id, Ct));
        using var blob = await store.OpenOrNullAsync(digest, Ct);
        Assert.Equal(content, await ReadAllAsync(blob!.Stream));
    }

    [Fact]
    public async Task DeleteIfUnmodifiedSince_DeletesOnlyABlobCommittedBeforeTheCutoff()
    {
        var store = Fixture.CreateStore();
        var digest = await StoreAsync(store, RandomBytes(100));

        Assert.False(await store.DeleteIfUnmodifiedSinceAsync(digest, DateTimeOffset.UtcNow.AddHours(-1), Ct));
        Assert.NotNull(await store.GetSizeOrNullAsync(digest, Ct));

        Assert.True(await store.DeleteIfUnmodifiedSinceAsync(digest, DateTimeOffset.UtcNow.AddSeconds(5), Ct));
        Assert.Null(await store.GetSizeOrNullAsync(digest, Ct));
        Assert.False(await store.DeleteIfUnmodifiedSinceAsync(digest, DateTimeOffset.UtcNow.AddSeconds(5), Ct));
    }

    [Fact]
    public async Task Refresh_KeepsABlobFromADeleteWithAnEarlierCutoff_AndFindsNothingOnceItIsGone()
    {
        var store = Fixture.CreateStore();
        var digest = await StoreAsync(store, RandomBytes(100));
        // Past the one-second precision of object stores' conditional requests, so the commit is clearly before the cut-off.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var cutoff = DateTimeOffset.UtcNow;

        Assert.True(await store.RefreshAsync(digest, Ct));
        Assert.False(await store.DeleteIfUnmodifiedSinceAsync(digest, cutoff, Ct));
        Assert.NotNull(await store.GetSizeOrNullAsync(digest, Ct));

        Assert.True(await store.DeleteIfUnmodifiedSinceAsync(digest, DateTimeOffset.UtcNow.AddSeconds(5), Ct));
        Assert.False(await store.RefreshAsync(digest, Ct));
        Assert.Null(await store.GetSizeOrNullAsync(digest, Ct));
    }

    [Fact]
    public async Task Listings_ShowCommittedBlobsAndOpenUploads()
    {
        var store = Fixture.CreateStore();
        var digest = await StoreAsync(store, RandomBytes(4321));
        var id = NewUploadId();
        await store.CreateUploadAsync(id, Ct);
        await AppendAsync(store, id, RandomBytes(17));

        var blobs = await ToListAsync(store.ListBlobsAsync(Ct));
        var blob = Assert.Single(blobs, b => b.Digest == digest);
        Assert.Equal(4321, blob.Size);
        Assert.True(blob.LastModified > DateTimeOffset.UtcNow.AddMinutes(-5));
        var uploads = await ToListAsync(store.ListUploadsAsync(Ct));
        Assert.Equal(17, Assert.Single(uploads, u => u.Id == id).Size);
    }

    [Fact]
    public async Task Quarantine_MovesTheBlobOutOfTheStoreAndSaysWhere()
    {
        var store = Fixture.CreateStore();
        var digest = await StoreAsync(store, RandomBytes(999));
        var name = (await ToListAsync(store.ListBlobsAsync(Ct))).Single(b => b.Digest == digest).Name;

        var location = await store.QuarantineAsync(name, Ct);

        Assert.False(string.IsNullOrEmpty(location));
        Assert.Null(await store.GetSizeOrNullAsync(digest, Ct));
        Assert.DoesNotContain(await ToListAsync(store.ListBlobsAsync(Ct)), b => b.Name == name);
        Assert.Null(await store.QuarantineAsync(name, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.QuarantineAsync("../uploads/x", Ct));
    }

    [Fact]
    public async Task LargeUpload_StreamsThroughFixedBuffersOnly()
    {
        var store = Fixture.CreateStore();
        const long size = 72L * 1024 * 1024 + 3;
        const int piece = 1 << 20;
        var source = new byte[piece];
        var id = NewUploadId();
        await store.CreateUploadAsync(id, Ct);
        using var hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        // Warm up pools and connections with an upload of its own, so that what is measured is the steady state of a
        // long upload (a store may keep several buffers of a few MiB in use per upload).
        var warmUp = NewUploadId();
        await store.CreateUploadAsync(warmUp, Ct);
        await AppendAsync(store, warmUp, new byte[24 << 20]);
        await store.DeleteUploadAsync(warmUp, Ct);
        await AppendAsync(store, id, ReadOnlyMemory<byte>.Empty);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        await using (var append = await store.OpenUploadForAppendOrNullAsync(id, Ct))
        {
            for (long written = 0; written < size; written += piece)
            {
                var count = (int)Math.Min(piece, size - written);
                Fill(source.AsSpan(0, count), written);
                hasher.AppendData(source, 0, count);
                await append!.WriteAsync(source.AsMemory(0, count), Ct);
            }
            await append!.FlushAsync(Ct);
        }
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var digest = Digest.FromHash(Digest.Sha256, hasher.GetHashAndReset());

        // A store that gathered the upload in memory would allocate at least its size. One that streams stays far below,
        // but not at a fixed figure: the shared array pool keeps a buffer per thread, so a continuation that resumes on
        // a thread whose slot is empty rents a fresh block of a few MiB, and a full collection may trim the pool.
        Assert.True(allocated < size / 2, $"appending {size} bytes allocated {allocated} bytes");
        await store.CommitUploadAsync(id, digest, Ct);
        Assert.Equal(size, await store.GetSizeOrNullAsync(digest, Ct));
        using var blob = await store.OpenOrNullAsync(digest, Ct);
        var buffer = ArrayPool<byte>.Shared.Rent(piece);
        try
        {
            int read;
            while ((read = await blob!.Stream.ReadAsync(buffer.AsMemory(0, piece), Ct)) > 0) hasher.AppendData(buffer, 0, read);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        Assert.Equal(digest, Digest.FromHash(Digest.Sha256, hasher.GetHashAndReset()));
    }

    /// <summary>Deterministic, offset-dependent bytes, so a misplaced block changes the digest.</summary>
    private static void Fill(Span<byte> target, long offset)
    {
        for (var i = 0; i < target.Length; i++) target[i] = (byte)((offset + i) * 31 >> 3);
    }

    protected static byte[] RandomBytes(int count) => RandomNumberGenerator.GetBytes(count);

    protected static string NewUploadId() => Guid.NewGuid().ToString("N");

    protected async Task<Digest> StoreAsync(IBlobStore store, byte[] content)
    {
        var id = NewUploadId();
        await store.CreateUploadAsync(id, Ct);
        await AppendAsync(store, id, content);
        var digest = Digest.Compute(content);
        await store.CommitUploadAsync(id, digest, Ct);
        return digest;
    }

    protected async Task AppendAsync(IBlobStore store, string uploadId, ReadOnlyMemory<byte> content)
    {
        await using var append = await store.OpenUploadForAppendOrNullAsync(uploadId, Ct) ?? throw new InvalidOperationException("upload missing");
        await append.WriteAsync(content, Ct);
        await append.FlushAsync(Ct);
    }

    protected async Task<DateTimeOffset> LastModifiedAsync(IBlobStore store, Digest digest) =>
        (await ToListAsync(store.ListBlobsAsync(Ct))).Single(b => b.Digest == digest).LastModified;

    protected static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    protected static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items) list.Add(item);
        return list;
    }
}

/// <summary>One storage location per test class; <see cref="CreateStore"/> gives a fresh store instance on it, as a second node would have.</summary>
public interface IBlobStoreFixture : IAsyncLifetime
{
    IBlobStore CreateStore();
}
