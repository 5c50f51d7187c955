using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace Berth.Server.Hosting;

/// <summary>
/// Kestrel's own pool hands out 4 KiB blocks, and its socket transport receives into one block at a time. A 512 MiB
/// push then arrived in tens of thousands of small reads, each waking the request on another pool thread, and those
/// hand-offs cost the server more CPU than hashing the bytes. With 64 KiB blocks each read takes whatever the socket
/// holds (measured with 5 interleaved pushes per build: server CPU per 512 MiB push 2.85 s → 1.24 s, push rate
/// 282 → 485 MB/s on 2 cores). Small requests lose nothing: a block is only held while a connection has bytes in flight.
/// </summary>
internal sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool();
}

internal sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    private const int BlockSize = 64 << 10;

    /// <summary>Free blocks kept for reuse (16 MiB); beyond that, returned blocks are left to the garbage collector.</summary>
    private const int MaxRetainedBlocks = 256;

    private readonly ConcurrentQueue<byte[]> _free = new();
    private int _freeCount;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        // Pipes never ask for more than MaxBufferSize; anyone else who does gets a one-off array of the size asked.
        if (minBufferSize > BlockSize) return new Block(this, GC.AllocateUninitializedArray<byte>(minBufferSize, pinned: true));
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
            return new Block(this, block);
        }
        // Pinned, as the socket transport needs: on the pinned-object heap rather than pinned in place in the small one.
        return new Block(this, GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true));
    }

    private void Return(byte[] block)
    {
        if (block.Length != BlockSize) return;
        if (Interlocked.Increment(ref _freeCount) > MaxRetainedBlocks)
        {
            Interlocked.Decrement(ref _freeCount);
            return;
        }
        _free.Enqueue(block);
    }

    protected override void Dispose(bool disposing) => _free.Clear();

    private sealed class Block(LargeBlockMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        private byte[]? _array = array;

        public Memory<byte> Memory => _array ?? throw new ObjectDisposedException(nameof(Block));

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _array, null) is { } returned) pool.Return(returned);
        }
    }
}
