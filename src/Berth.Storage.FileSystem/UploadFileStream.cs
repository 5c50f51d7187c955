using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Berth.Core.Storage;

namespace Berth.Storage.FileSystem;

/// <summary>
/// Appends to an upload file with positional writes and starts the kernel's write-back of each written range at once
/// (Linux <c>sync_file_range</c>), so the disk works while the rest of the body is still arriving. Without it every
/// byte of a large push is still dirty in the page cache when the commit's fsync runs, and the client waits for the
/// whole file to reach the disk after its last byte was sent.
/// Whole blocks in an <see cref="AlignedBuffer"/> (the artifact cache's fill buffers) are written with <c>O_DIRECT</c>
/// instead: the disk takes them from the buffer without the copy into the page cache, which costs more CPU than the rest of
/// storing a blob. Other writes (a push's request body, an unaligned tail) stay buffered; the kernel keeps both coherent.
/// </summary>
internal sealed partial class UploadFileStream(SafeFileHandle handle) : Stream
{
    private const uint SyncFileRangeWrite = 2; // SYNC_FILE_RANGE_WRITE: start write-back, do not wait
    private const int GetStatusFlags = 3; // F_GETFL
    private const int SetStatusFlags = 4; // F_SETFL
    private static readonly int s_directFlag = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86 ? 0x4000 : 0x10000; // O_DIRECT
    private static bool s_writeBackUnsupported = !OperatingSystem.IsLinux();
    private bool _directRefused = !OperatingSystem.IsLinux();
    private bool _direct;
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
        var direct = UseDirectWrite(buffer);
        try
        {
            await RandomAccess.WriteAsync(handle, buffer, _position, cancellationToken);
        }
        catch (IOException) when (direct)
        {
            // The file system took the flag but refuses the write (EINVAL): write buffered from now on.
            _directRefused = true;
            UseDirectWrite(buffer);
            await RandomAccess.WriteAsync(handle, buffer, _position, cancellationToken);
            direct = false;
        }
        if (!direct) StartWriteBack(_position, buffer.Length);
        _position += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        UseDirectWrite(ReadOnlyMemory<byte>.Empty);
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

    /// <summary>
    /// Turns <c>O_DIRECT</c> on for a write of whole aligned blocks at an aligned offset, and off for any other; true when
    /// on. A file system without direct I/O (tmpfs) refuses the flag once, and the upload stays buffered.
    /// </summary>
    private bool UseDirectWrite(ReadOnlyMemory<byte> buffer)
    {
        var wanted = !_directRefused && buffer.Length > 0 && buffer.Length % AlignedBuffer.Alignment == 0
            && _position % AlignedBuffer.Alignment == 0 && AlignedBuffer.IsAligned(buffer);
        if (wanted == _direct) return wanted;
        var flags = Fcntl(handle, GetStatusFlags, 0);
        if (flags < 0 || Fcntl(handle, SetStatusFlags, wanted ? flags | s_directFlag : flags & ~s_directFlag) != 0)
        {
            if (wanted)
            {
                _directRefused = true;
                return false;
            }
            throw new IOException($"cannot turn direct I/O off for an upload (errno {Marshal.GetLastPInvokeError()})");
        }
        _direct = wanted;
        return wanted;
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(SafeFileHandle fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(SafeFileHandle fd, long offset, long nbytes, uint flags);
}
