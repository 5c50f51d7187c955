using System.Net;
using Berth.Core.Throttling;
using Microsoft.Extensions.Options;

namespace Berth.Core.Tests.Throttling;

public sealed class InMemoryThrottleCounterStoreTests
{
    private static readonly BucketLimit Limit = new(Capacity: 5, RefillPerSecond: 1);
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public async Task IdleFullBuckets_AreDropped()
    {
        var store = Store(new ThrottlingOptions { IdleBucketTimeout = TimeSpan.FromMinutes(1) });
        for (var i = 0; i < 50; i++) await store.TryAcquireAsync(Key(i), Limit, default);

        _time.Advance(TimeSpan.FromMinutes(2));
        await store.TryAcquireAsync(Key(1000), Limit, default);

        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task RecentlyUsedBuckets_AreKept()
    {
        var store = Store(new ThrottlingOptions { IdleBucketTimeout = TimeSpan.FromMinutes(1) });
        for (var i = 0; i < 50; i++) await store.TryAcquireAsync(Key(i), Limit, default);

        _time.Advance(TimeSpan.FromSeconds(20));
        await store.TryAcquireAsync(Key(1000), Limit, default);

        Assert.Equal(51, store.Count);
    }

    [Fact]
    public async Task Refund_GivesBackOneTakenRequest_UpToCapacity()
    {
        var store = Store(new ThrottlingOptions());
        for (var i = 0; i < 5; i++) await store.TryAcquireAsync(Key(1), Limit, default);
        Assert.False((await store.TryAcquireAsync(Key(1), Limit, default)).Allowed);

        await store.RefundAsync(Key(1), Limit, default);
        Assert.Equal(0, (await store.TryAcquireAsync(Key(1), Limit, default)).Remaining);

        for (var i = 0; i < 10; i++) await store.RefundAsync(Key(1), Limit, default);
        Assert.Equal(5, (await store.PeekAsync(Key(1), Limit, default)).Remaining);
    }

    [Fact]
    public async Task Refund_OfABucketNeverUsed_KeepsNothing()
    {
        var store = Store(new ThrottlingOptions());

        await store.RefundAsync(Key(1), Limit, default);

        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task ManyKeys_NeverExceedMaxBuckets()
    {
        var store = Store(new ThrottlingOptions { MaxBuckets = 100 });

        for (var i = 0; i < 1000; i++) await store.TryAcquireAsync(Key(i), Limit, default);

        Assert.True(store.Count <= 100, $"{store.Count} buckets kept");
    }

    [Fact]
    public async Task DroppedBucket_ComesBackFull()
    {
        var store = Store(new ThrottlingOptions { IdleBucketTimeout = TimeSpan.FromMinutes(1) });
        for (var i = 0; i < 5; i++) await store.TryAcquireAsync(Key(1), Limit, default);
        _time.Advance(TimeSpan.FromMinutes(2));

        var decision = await store.TryAcquireAsync(Key(1), Limit, default);

        Assert.Equal(4, decision.Remaining);
    }

    [Fact]
    public async Task Peek_OfAnUnknownKey_IsFullAndCreatesNothing()
    {
        var store = Store(new ThrottlingOptions());

        var decision = await store.PeekAsync(Key(1), Limit, default);

        Assert.True(decision.Allowed);
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task ConcurrentRequests_SpendExactlyTheCapacity()
    {
        var store = Store(new ThrottlingOptions());
        var limit = new BucketLimit(Capacity: 1000, RefillPerSecond: 0.001);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            var admitted = 0;
            for (var i = 0; i < 500; i++) if ((await store.TryAcquireAsync(Key(1), limit, default)).Allowed) admitted++;
            return admitted;
        })));

        Assert.Equal(1000, results.Sum());
    }

    private InMemoryThrottleCounterStore Store(ThrottlingOptions options) => new(_time, Options.Create(options));

    private static ThrottleKey Key(int n) =>
        new("myregistry", ThrottleSubject.AnonymousAddress, "", ClientAddress.ToKey(new IPAddress(n + 1)), ThrottleCategory.Read);
}
