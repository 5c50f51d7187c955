using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Berth.Storage.FileSystem;

/// <summary>
/// Appends to an upload file with positional writes and starts the kernel's write-back of each written range at once
/// (Linux <c>sync_file_range</c>), so the disk works while the rest of the body is still arriving. Without it every
/// byte of a large push is still dirty in the page cache when the commit's fsync runs, and the client waits for the
/// whole file to reach the disk after its last byte was sent.
/// </summary>
internal sealed partial class UploadFileStream(SafeFileHandle handle) : Stream
{
    private const uint SyncFileRangeWrite = 2; // SYNC_FILE_RANGE_WRITE: start write-back, do not wait
    private static bool s_writeBackUnsupported = !OperatingSystem.IsLinux();
    private long _position = RandomAccess.GetLength(handle);

    public override bool CanRead => false;
    public override bool CanSeek => true;
    public override bool CanWrite => true;
    public override long Length => RandomAccess.GetLength(handle);

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException("uploads are appended to");
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await RandomAccess.WriteAsync(handle, buffer, _position, cancellationToken);
        StartWriteBack(_position, buffer.Length);
        _position += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        RandomAccess.Write(handle, buffer.AsSpan(offset, count), _position);
        StartWriteBack(_position, count);
        _position += count;
    }

    /// <summary>Cuts the upload back to <paramref name="value"/> bytes (a chunk that did not arrive whole is dropped).</summary>
    public override void SetLength(long value)
    {
        RandomAccess.SetLength(handle, value);
        _position = value;
    }

    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) handle.Dispose();
        base.Dispose(disposing);
    }

    private void StartWriteBack(long offset, long count)
    {
        if (s_writeBackUnsupported || count == 0) return;
        // A hint only: durability still comes from the fsync at commit. File systems without support answer ENOSYS
        // or EINVAL once, and the hint is not tried again.
        if (SyncFileRange(handle, offset, count, SyncFileRangeWrite) != 0) s_writeBackUnsupported = true;
    }

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(SafeFileHandle fd, long offset, long nbytes, uint flags);
}
