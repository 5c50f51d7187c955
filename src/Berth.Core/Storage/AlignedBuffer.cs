using System.Buffers;
using System.Runtime.InteropServices;

namespace Berth.Core.Storage;

/// <summary>
/// Native memory aligned to <see cref="Alignment"/> bytes, never moved by the garbage collector. A blob store may write
/// whole aligned blocks of it straight to disk (Linux <c>O_DIRECT</c>) instead of copying them through the page cache,
/// which is the largest CPU cost of storing a large blob on a small machine (docs/artifact-cache.md). It has no finalizer
/// (a span may still point into it): the owner disposes it, in a <c>finally</c>.
/// </summary>
public sealed unsafe class AlignedBuffer : MemoryManager<byte>
{
    /// <summary>The alignment of the address, and the block size direct writes need: a page, which every disk accepts.</summary>
    public const int Alignment = 4096;

    private readonly int _length;
    private void* _pointer;

    public AlignedBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        _length = length;
        _pointer = NativeMemory.AlignedAlloc((nuint)length, Alignment);
    }

    /// <summary>True when <paramref name="memory"/> lies in an aligned buffer and starts at an aligned address.</summary>
    public static bool IsAligned(ReadOnlyMemory<byte> memory) =>
        MemoryMarshal.TryGetMemoryManager<byte, AlignedBuffer>(memory, out _, out var start, out _) && start % Alignment == 0;

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_pointer is null, this);
        return new Span<byte>(_pointer, _length);
    }

    /// <summary>The memory is native and never moves, so pinning only checks the bounds.</summary>
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(_pointer is null, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)_length, nameof(elementIndex));
        return new MemoryHandle((byte*)_pointer + elementIndex);
    }

    public override void Unpin() { }

    protected override void Dispose(bool disposing)
    {
        if (_pointer is null) return;
        NativeMemory.AlignedFree(_pointer);
        _pointer = null;
    }
}
