using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace Berth.Storage.AzureBlob;

/// <summary>
/// A blob read as one ranged download from the current position to the end: a whole-blob read is one request, a
/// <c>Range</c> request is a seek and then one request, and a seek to where the download already is costs nothing.
/// Each download is pinned to the ETag seen when the blob was opened, so a read never mixes two versions of a blob.
/// </summary>
internal sealed class AzureBlobReadStream(BlobBaseClient blob, long length, ETag etag) : Stream
{
    private Stream? _download;
    private long _downloadPosition;
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        SeekOrigin.End => length + offset,
        _ => throw new ArgumentOutOfRangeException(nameof(origin)),
    };

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= length || buffer.IsEmpty) return 0;
        int read;
        try
        {
            if (_download is null || _downloadPosition != _position)
            {
                await DisposeDownloadAsync();
                var response = await blob.DownloadStreamingAsync(Options(), cancellationToken);
                (_download, _downloadPosition) = (response.Value.Content, _position);
            }
            read = await _download.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception error) when (AzureBlobFailures.IsUnavailable(error, cancellationToken))
        {
            throw AzureBlobFailures.Unavailable(error);
        }
        Advance(read);
        return read;
    }

    public override int Read(Span<byte> buffer)
    {
        if (_position >= length || buffer.IsEmpty) return 0;
        int read;
        try
        {
            if (_download is null || _downloadPosition != _position)
            {
                _download?.Dispose();
                (_download, _downloadPosition) = (blob.DownloadStreaming(Options()).Value.Content, _position);
            }
            read = _download.Read(buffer);
        }
        catch (Exception error) when (AzureBlobFailures.IsUnavailable(error, CancellationToken.None))
        {
            throw AzureBlobFailures.Unavailable(error);
        }
        Advance(read);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    private BlobDownloadOptions Options() => new()
    {
        Range = new HttpRange(_position),
        Conditions = new BlobRequestConditions { IfMatch = etag },
    };

    /// <summary>Outside the failure translation: a blob shorter than its length is damage, not an outage.</summary>
    private void Advance(int read)
    {
        if (read == 0) throw new IOException($"the stored blob ended at {_position} bytes, before its length of {length}");
        _position += read;
        _downloadPosition += read;
    }

    private async ValueTask DisposeDownloadAsync()
    {
        if (_download is not null) await _download.DisposeAsync();
        _download = null;
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _download?.Dispose();
        _download = null;
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await DisposeDownloadAsync();
        await base.DisposeAsync();
    }
}
