using System.Buffers;
using System.Text;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Berth.Core.Storage;

namespace Berth.Storage.AzureBlob;

/// <summary>
/// Appends to an upload kept as a block blob. Written bytes are gathered into pooled buffers and staged as blocks of
/// <see cref="BlockSize"/>, up to <see cref="BlocksInFlight"/> at a time while the next block fills; <see cref="Flush"/>
/// (and disposal) waits for them and commits the blob's committed blocks followed by the new ones, on the condition
/// that the blob still has the ETag it had when the stream was opened. A second writer that committed in between
/// (another request, maybe on another node) makes this commit fail instead of one of the two appends silently
/// disappearing. Nothing about the upload is kept on this node between requests.
/// </summary>
internal sealed class AzureBlobAppendStream : Stream
{
    /// <summary>Large enough for few requests per layer, small enough that a buffer per concurrent upload is cheap.</summary>
    public const int BlockSize = 4 << 20;

    /// <summary>
    /// Blocks staged concurrently per upload. Staging one block at a time leaves the request body waiting for every
    /// round trip to the storage service; a few in flight keep both moving, at the cost of this many buffers for each
    /// upload that is streaming.
    /// </summary>
    public const int BlocksInFlight = 4;

    private readonly BlockBlobClient _blob;
    private readonly string _uploadId;
    private readonly IReadOnlyList<string> _openedBlocks;
    private readonly List<string> _committedBlocks;
    private readonly List<string> _stagedBlocks = [];
    /// <summary>Blocks being staged, oldest first, each with the pooled buffer it is sent from.</summary>
    private readonly Queue<(Task Stage, byte[] Buffer)> _inFlight = new();
    private readonly long _openedLength;
    /// <summary>Block ids must all have the same length within a blob; this one per stream keeps two writers' blocks apart.</summary>
    private readonly string _writer = Guid.NewGuid().ToString("N");
    private ETag _etag;
    private long _stagedLength;
    private byte[]? _buffer;
    private int _buffered;
    /// <summary>Set when a block could not be staged: what this stream wrote can no longer be committed.</summary>
    private bool _broken;

    private AzureBlobAppendStream(BlockBlobClient blob, string uploadId, IReadOnlyList<string> blocks, long length, ETag etag)
    {
        _blob = blob;
        _uploadId = uploadId;
        _openedBlocks = blocks;
        _committedBlocks = [.. blocks];
        _openedLength = _stagedLength = length;
        _etag = etag;
    }

    /// <summary>Opens the upload at its committed end, or null when it does not exist.</summary>
    public static async Task<AzureBlobAppendStream?> OpenOrNullAsync(BlockBlobClient blob, string uploadId, CancellationToken cancellationToken)
    {
        try
        {
            // The ETag comes first: if a commit lands between the two calls, the block list is newer than the ETag and
            // this stream's commit fails safely; the other order could pair an old block list with a new ETag.
            var properties = await blob.GetPropertiesAsync(cancellationToken: cancellationToken);
            var list = await blob.GetBlockListAsync(BlockListTypes.Committed, cancellationToken: cancellationToken);
            var blocks = list.Value.CommittedBlocks.ToList();
            var etag = list.GetRawResponse().Headers.ETag ?? properties.Value.ETag;
            return new AzureBlobAppendStream(blob, uploadId, blocks.Select(b => b.Name).ToList(), blocks.Sum(b => b.SizeLong), etag);
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            return null;
        }
        catch (Exception error) when (AzureBlobFailures.IsUnavailable(error, cancellationToken))
        {
            throw AzureBlobFailures.Unavailable(error);
        }
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _stagedLength + _buffered;

    /// <summary>The upload's length including what this stream has written so far.</summary>
    public override long Position
    {
        get => _stagedLength + _buffered;
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            _buffer ??= ArrayPool<byte>.Shared.Rent(BlockSize);
            var count = Math.Min(buffer.Length, BlockSize - _buffered);
            buffer[..count].CopyTo(_buffer.AsMemory(_buffered));
            _buffered += count;
            buffer = buffer[count..];
            if (_buffered == BlockSize) await StageBufferAsync(cancellationToken);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <summary>Stages what is buffered and commits every staged block: after this the bytes are durable and visible to every node.</summary>
    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await StageBufferAsync(cancellationToken);
        while (_inFlight.Count > 0) await CompleteOldestStageAsync();
        if (_stagedBlocks.Count == 0) return;
        var blocks = _committedBlocks.Concat(_stagedBlocks).ToList();
        try
        {
            var committed = await _blob.CommitBlockListAsync(blocks, new CommitBlockListOptions { Conditions = new BlobRequestConditions { IfMatch = _etag } }, cancellationToken);
            _etag = committed.Value.ETag;
        }
        catch (RequestFailedException error) when (error.Status is 412 or 409 or 404)
        {
            _stagedBlocks.Clear();
            _stagedLength = _openedLength;
            throw new UploadConflictException(_uploadId);
        }
        catch (Exception error) when (AzureBlobFailures.IsUnavailable(error, cancellationToken))
        {
            throw AzureBlobFailures.Unavailable(error);
        }
        _committedBlocks.AddRange(_stagedBlocks);
        _stagedBlocks.Clear();
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>
    /// Only truncation back to where this stream started is supported: it drops everything written through this stream
    /// (an incomplete chunk) and, if some of it was already committed, commits the blob's original block list again.
    /// </summary>
    public override void SetLength(long value)
    {
        if (value != _openedLength)
            throw new NotSupportedException($"an upload can only be cut back to where this append started ({_openedLength} bytes)");
        AbandonStagesAsync().GetAwaiter().GetResult();
        _buffered = 0;
        _stagedBlocks.Clear();
        _stagedLength = _openedLength;
        _broken = false;
        if (_committedBlocks.Count == _openedBlocks.Count) return;
        try
        {
            _etag = _blob.CommitBlockList(_openedBlocks, new CommitBlockListOptions { Conditions = new BlobRequestConditions { IfMatch = _etag } }).Value.ETag;
            _committedBlocks.RemoveRange(_openedBlocks.Count, _committedBlocks.Count - _openedBlocks.Count);
        }
        catch (Exception error) when (AzureBlobFailures.IsUnavailable(error, CancellationToken.None))
        {
            throw AzureBlobFailures.Unavailable(error);
        }
    }

    /// <summary>Starts staging what is buffered, after waiting for the oldest block when too many are in flight.</summary>
    private async Task StageBufferAsync(CancellationToken cancellationToken)
    {
        if (_buffered == 0) return;
        if (_broken) throw new InvalidOperationException("a block of this append failed to stage; the append must be cut back first");
        while (_inFlight.Count >= BlocksInFlight) await CompleteOldestStageAsync();
        var id = BlockId(_stagedLength);
        _inFlight.Enqueue((StageBlockAsync(id, _buffer!, _buffered, cancellationToken), _buffer!));
        _stagedBlocks.Add(id);
        _stagedLength += _buffered;
        _buffer = null;
        _buffered = 0;
    }

    private async Task StageBlockAsync(string id, byte[] buffer, int length, CancellationToken cancellationToken)
    {
        try
        {
            using var content = new MemoryStream(buffer, 0, length, writable: false);
            await _blob.StageBlockAsync(id, content, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            throw new UploadConflictException(_uploadId); // the upload was cancelled or finished meanwhile
        }
        catch (Exception error) when (AzureBlobFailures.IsUnavailable(error, cancellationToken))
        {
            throw AzureBlobFailures.Unavailable(error);
        }
    }

    private async Task CompleteOldestStageAsync()
    {
        var (stage, buffer) = _inFlight.Dequeue();
        try
        {
            await stage;
        }
        catch
        {
            _broken = true;
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Waits for every block still in flight, whatever its outcome, so that no buffer goes back to the pool while a
    /// request still reads it. Blocks staged but never committed are discarded by the storage service.
    /// </summary>
    private async Task AbandonStagesAsync()
    {
        while (_inFlight.TryDequeue(out var entry))
        {
            try
            {
                await entry.Stage;
            }
            catch
            {
                // Abandoned: its failure no longer matters.
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(entry.Buffer);
            }
        }
    }

    /// <summary>Fixed length (64 characters once encoded): the block's offset in the upload, then this writer's id.</summary>
    private string BlockId(long offset) => Convert.ToBase64String(Encoding.ASCII.GetBytes($"{offset:D16}{_writer}"));

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        try
        {
            if (!_broken) await FlushAsync(CancellationToken.None);
        }
        finally
        {
            await AbandonStagesAsync();
            ReturnBuffer();
            await base.DisposeAsync();
        }
    }

    protected override void Dispose(bool disposing)
    {
        try
        {
            if (disposing && !_broken) Flush(); // nothing written: no call to the service
        }
        finally
        {
            AbandonStagesAsync().GetAwaiter().GetResult();
            ReturnBuffer();
            base.Dispose(disposing);
        }
    }

    private void ReturnBuffer()
    {
        if (_buffer is not null) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
    }
}
