using Berth.Core.Caching;
using Berth.Redis.Tests.Infrastructure;

namespace Berth.Redis.Tests;

public sealed class RedisGenerationStoreTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private readonly RedisGenerationStore _store = new(redis.Connection);

    private static string NewRegistry() => "reg" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Increment_IsSeenByEveryReader()
    {
        var keys = GenerationKey.ForRequest(NewRegistry());
        var before = await _store.ReadAsync(keys, CancellationToken.None);

        var bumped = await _store.IncrementAsync(keys[3], CancellationToken.None);

        var after = await _store.ReadAsync(keys, CancellationToken.None);
        Assert.Equal(before[3] + 1, bumped);
        Assert.Equal([before[0], before[1], before[2], bumped], after);
    }

    [Fact]
    public async Task LostCounter_RestartsAboveEveryValueItHadBefore()
    {
        var key = new GenerationKey(NewRegistry(), ChangeKind.Identity);
        await _store.ReadAsync([key], CancellationToken.None);
        long last = 0;
        for (var i = 0; i < 100; i++) last = await _store.IncrementAsync(key, CancellationToken.None);

        // As after a restart of a Redis without persistence, or an eviction.
        await redis.Inspect.KeyDeleteAsync(redis.KeyPrefix + RedisGenerationStore.KeyFor(key));

        Assert.True((await _store.ReadAsync([key], CancellationToken.None))[0] > last);
        await redis.Inspect.KeyDeleteAsync(redis.KeyPrefix + RedisGenerationStore.KeyFor(key));
        Assert.True(await _store.IncrementAsync(key, CancellationToken.None) > last);
    }

    [Fact]
    public async Task ChangeGenerations_OverTheStore_SeeAnotherNodesBumpOnTheNextRequest()
    {
        var registry = NewRegistry();
        var nodeA = new ChangeGenerations(_store);
        var nodeB = new ChangeGenerations(_store);
        nodeB.BeginRequest();
        var before = await nodeB.CurrentAsync(registry, ChangeKind.Content, CancellationToken.None);

        await nodeA.BumpAsync(registry, ChangeKind.Content);

        // Within one request B keeps what it read; its next request reads again.
        Assert.Equal(before, await nodeB.CurrentAsync(registry, ChangeKind.Content, CancellationToken.None));
        nodeB.BeginRequest();
        Assert.NotEqual(before, await nodeB.CurrentAsync(registry, ChangeKind.Content, CancellationToken.None));
    }
}
