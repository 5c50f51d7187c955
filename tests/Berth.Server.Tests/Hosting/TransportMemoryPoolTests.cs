using System.Buffers;
using System.Runtime.InteropServices;
using Berth.Testing;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Server.Tests.Hosting;

/// <summary>The memory pool the server gives Kestrel's socket transport (large blocks, so that big bodies arrive in few reads).</summary>
public sealed class TransportMemoryPoolTests(BerthTestServer server) : IClassFixture<BerthTestServer>
{
    private MemoryPool<byte> CreatePool() => server.Services.GetRequiredService<IMemoryPoolFactory<byte>>().Create();

    [Fact]
    public void Blocks_Are64KiB_AndReusedOnceReturned()
    {
        using var pool = CreatePool();
        Assert.Equal(64 << 10, pool.MaxBufferSize);

        var first = pool.Rent();
        Assert.Equal(64 << 10, first.Memory.Length);
        Assert.True(MemoryMarshal.TryGetArray<byte>(first.Memory, out var firstArray));
        first.Memory.Span.Fill(0x5a);
        first.Dispose();
        first.Dispose(); // a second dispose must not hand the block out twice

        using var second = pool.Rent(1);
        using var third = pool.Rent(1);
        Assert.True(MemoryMarshal.TryGetArray<byte>(second.Memory, out var secondArray));
        Assert.True(MemoryMarshal.TryGetArray<byte>(third.Memory, out var thirdArray));
        Assert.Same(firstArray.Array, secondArray.Array);
        Assert.NotSame(secondArray.Array, thirdArray.Array);
        Assert.Throws<ObjectDisposedException>(() => first.Memory);
    }

    [Fact]
    public void ARequestLargerThanABlock_GetsAnArrayOfThatSize()
    {
        using var pool = CreatePool();
        using var large = pool.Rent((64 << 10) + 1);
        Assert.Equal((64 << 10) + 1, large.Memory.Length);
    }
}
