using Berth.Core.Throttling;
using Berth.Redis.Tests.Infrastructure;

namespace Berth.Redis.Tests;

/// <summary>The shared token bucket against a real Redis: the same answers as the in-memory store gives.</summary>
public sealed class RedisThrottleCounterStoreTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private readonly RedisThrottleCounterStore _store = new(redis.Connection);

    private static ThrottleKey NewKey(ThrottleSubject subject = ThrottleSubject.Token) =>
        new("myregistry", subject, "t" + Guid.NewGuid().ToString("N")[..8], UInt128.Zero, ThrottleCategory.Read);

    [Fact]
    public async Task NewBucket_AdmitsItsCapacityCountingDown_ThenRefuses()
    {
        var key = NewKey();
        var limit = new BucketLimit(5, 0.001);
        for (var remaining = 4; remaining >= 0; remaining--)
        {
            var decision = await _store.TryAcquireAsync(key, limit, CancellationToken.None);
            Assert.True(decision.Allowed);
            Assert.Equal(remaining, decision.Remaining);
        }
        var refused = await _store.TryAcquireAsync(key, limit, CancellationToken.None);
        Assert.False(refused.Allowed);
        Assert.Equal(0, refused.Remaining);
    }

    [Fact]
    public async Task Refusal_RetryAfterIsTheTimeUntilOneRequestHasRefilled()
    {
        var key = NewKey();
        var limit = new BucketLimit(1, 0.5);
        // One request refills in 2 s; whatever time passes between the two takes (a slow machine) is already waited.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.True((await _store.TryAcquireAsync(key, limit, CancellationToken.None)).Allowed);

        var refused = await _store.TryAcquireAsync(key, limit, CancellationToken.None);
        var between = clock.Elapsed.TotalSeconds;

        Assert.False(refused.Allowed);
        Assert.InRange(refused.RetryAfter.TotalSeconds, 2.0 - between - 0.01, 2.0);
    }

    [Fact]
    public async Task DrainedBucket_RefillsAtItsRate_UpToItsCapacity()
    {
        var key = NewKey();
        // One request refills every 500 ms: the three takes after the wait have that long between them on a busy machine.
        var limit = new BucketLimit(2, 2);
        Assert.True((await _store.TryAcquireAsync(key, limit, CancellationToken.None)).Allowed);
        Assert.True((await _store.TryAcquireAsync(key, limit, CancellationToken.None)).Allowed);

        await Task.Delay(TimeSpan.FromSeconds(3));

        // 3 s at 2 a second would be 6, but the bucket holds 2.
        Assert.Equal(1, (await _store.TryAcquireAsync(key, limit, CancellationToken.None)).Remaining);
        Assert.Equal(0, (await _store.TryAcquireAsync(key, limit, CancellationToken.None)).Remaining);
        Assert.False((await _store.TryAcquireAsync(key, limit, CancellationToken.None)).Allowed);
    }

    [Fact]
    public async Task Peek_NeverTakes_AndAnUnusedBucketIsFullWithoutAKey()
    {
        var key = NewKey(ThrottleSubject.FailedCredentialsAddress);
        var limit = new BucketLimit(3, 0.001);

        var fresh = await _store.PeekAsync(key, limit, CancellationToken.None);

        Assert.True(fresh.Allowed);
        Assert.Equal(3, fresh.Remaining);
        Assert.False(await redis.Inspect.KeyExistsAsync(redis.KeyPrefix + RedisThrottleCounterStore.KeyFor(key)));
        for (var i = 0; i < 3; i++) await _store.TryAcquireAsync(key, limit, CancellationToken.None);
        Assert.False((await _store.PeekAsync(key, limit, CancellationToken.None)).Allowed);
        Assert.False((await _store.PeekAsync(key, limit, CancellationToken.None)).Allowed);
    }

    [Fact]
    public async Task Refund_GivesBackOneTakenRequest()
    {
        var key = NewKey(ThrottleSubject.FailedCredentialsAddress);
        var limit = new BucketLimit(3, 0.001);
        for (var i = 0; i < 3; i++) await _store.TryAcquireAsync(key, limit, CancellationToken.None);
        Assert.False((await _store.PeekAsync(key, limit, CancellationToken.None)).Allowed);

        await _store.RefundAsync(key, limit, CancellationToken.None);

        var taken = await _store.TryAcquireAsync(key, limit, CancellationToken.None);
        Assert.True(taken.Allowed);
        Assert.Equal(0, taken.Remaining);
        Assert.False((await _store.TryAcquireAsync(key, limit, CancellationToken.None)).Allowed);
    }

    [Fact]
    public async Task Refund_IsCappedAtCapacity_AndAFullBucketKeepsNoKey()
    {
        var key = NewKey(ThrottleSubject.FailedCredentialsAddress);
        var redisKey = redis.KeyPrefix + RedisThrottleCounterStore.KeyFor(key);
        var limit = new BucketLimit(3, 0.001);
        await _store.TryAcquireAsync(key, limit, CancellationToken.None);
        await _store.TryAcquireAsync(key, limit, CancellationToken.None);

        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => _store.RefundAsync(key, limit, CancellationToken.None).AsTask()));

        Assert.False(await redis.Inspect.KeyExistsAsync(redisKey));
        Assert.Equal(3, (await _store.PeekAsync(key, limit, CancellationToken.None)).Remaining);
        await _store.RefundAsync(NewKey(ThrottleSubject.FailedCredentialsAddress), limit, CancellationToken.None);
        Assert.Equal(3, (await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => _store.TryAcquireAsync(key, limit, CancellationToken.None).AsTask()))).Count(d => d.Allowed));
    }

    [Fact]
    public async Task Refund_KeepsTheKeyWhileTheBucketIsNotFull()
    {
        var key = NewKey(ThrottleSubject.FailedCredentialsAddress);
        var redisKey = redis.KeyPrefix + RedisThrottleCounterStore.KeyFor(key);
        var limit = new BucketLimit(3, 0.001);
        for (var i = 0; i < 3; i++) await _store.TryAcquireAsync(key, limit, CancellationToken.None);

        await _store.RefundAsync(key, limit, CancellationToken.None);

        Assert.True(await redis.Inspect.KeyExistsAsync(redisKey));
        Assert.NotNull(await redis.Inspect.KeyTimeToLiveAsync(redisKey));
        Assert.Equal(1, (await _store.PeekAsync(key, limit, CancellationToken.None)).Remaining);
    }

    [Fact]
    public async Task UsedBucket_ExpiresWhenItWouldBeFullAgain()
    {
        var key = NewKey();
        var redisKey = redis.KeyPrefix + RedisThrottleCounterStore.KeyFor(key);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await _store.TryAcquireAsync(key, new BucketLimit(10, 10), CancellationToken.None);

        // One request refills in 100 ms; the key is kept a second longer than that, then a missing bucket is a full one.
        // The time-to-live counts down while the test runs, so the lower bound allows for the time since the take.
        var ttl = await redis.Inspect.KeyTimeToLiveAsync(redisKey);
        var sinceTake = clock.Elapsed.TotalMilliseconds;
        Assert.NotNull(ttl);
        Assert.InRange(ttl!.Value.TotalMilliseconds, 1000 - sinceTake - 100, 1100);
        await Task.Delay(TimeSpan.FromMilliseconds(1300));
        Assert.False(await redis.Inspect.KeyExistsAsync(redisKey));
        Assert.Equal(9, (await _store.TryAcquireAsync(key, new BucketLimit(10, 10), CancellationToken.None)).Remaining);
    }

    [Fact]
    public async Task ConcurrentTakes_AdmitExactlyTheCapacity()
    {
        var key = NewKey(ThrottleSubject.Anonymous);
        var limit = new BucketLimit(20, 0.001);

        var decisions = await Task.WhenAll(Enumerable.Range(0, 60).Select(_ => _store.TryAcquireAsync(key, limit, CancellationToken.None).AsTask()));

        Assert.Equal(20, decisions.Count(d => d.Allowed));
    }

    [Fact]
    public async Task Buckets_AreSeparatePerSubjectNameAddressAndCategory()
    {
        var limit = new BucketLimit(1, 0.001);
        var key = new ThrottleKey("myregistry", ThrottleSubject.AnonymousAddress, "", UInt128.Parse("2130706433"), ThrottleCategory.Read);
        Assert.True((await _store.TryAcquireAsync(key, limit, CancellationToken.None)).Allowed);
        Assert.False((await _store.TryAcquireAsync(key, limit, CancellationToken.None)).Allowed);

        Assert.True((await _store.TryAcquireAsync(key with { Address = key.Address + 1 }, limit, CancellationToken.None)).Allowed);
        Assert.True((await _store.TryAcquireAsync(key with { Category = ThrottleCategory.Token }, limit, CancellationToken.None)).Allowed);
        Assert.True((await _store.TryAcquireAsync(key with { Subject = ThrottleSubject.FailedCredentialsAddress }, limit, CancellationToken.None)).Allowed);
        Assert.True((await _store.TryAcquireAsync(key with { Registry = "otherregistry" }, limit, CancellationToken.None)).Allowed);
    }

    [Fact]
    public async Task TakeBoth_SecondBucketIsSpentOnlyWhenTheFirstAdmits()
    {
        var address = NewKey(ThrottleSubject.AnonymousAddress);
        var shared = NewKey(ThrottleSubject.Anonymous);
        var addressLimit = new BucketLimit(2, 0.001);
        var sharedLimit = new BucketLimit(5, 0.001);

        var first = await _store.TryAcquireBothAsync(address, addressLimit, shared, sharedLimit, CancellationToken.None);
        Assert.Equal(new ThrottleDecision(true, 1, TimeSpan.Zero), first); // the smaller of 1 and 4 left
        Assert.True((await _store.TryAcquireBothAsync(address, addressLimit, shared, sharedLimit, CancellationToken.None)).Allowed);

        // The address's bucket is empty: refused with its wait, and the shared bucket keeps what it had.
        var refused = await _store.TryAcquireBothAsync(address, addressLimit, shared, sharedLimit, CancellationToken.None);
        Assert.False(refused.Allowed);
        Assert.InRange(refused.RetryAfter.TotalSeconds, 900, 1000);
        Assert.Equal(3, (await _store.PeekAsync(shared, sharedLimit, CancellationToken.None)).Remaining);
    }

    [Fact]
    public async Task TakeBoth_SecondBucketEmpty_RefusedWithItsWait()
    {
        var address = NewKey(ThrottleSubject.AnonymousAddress);
        var shared = NewKey(ThrottleSubject.Anonymous);
        var sharedLimit = new BucketLimit(1, 0.5);
        Assert.True((await _store.TryAcquireAsync(shared, sharedLimit, CancellationToken.None)).Allowed);

        var refused = await _store.TryAcquireBothAsync(address, new BucketLimit(10, 0.001), shared, sharedLimit, CancellationToken.None);

        Assert.False(refused.Allowed);
        Assert.InRange(refused.RetryAfter.TotalSeconds, 0.1, 2.0);
        Assert.Equal(9, (await _store.PeekAsync(address, new BucketLimit(10, 0.001), CancellationToken.None)).Remaining);
    }

    [Fact]
    public async Task BucketsOfOneRegistry_ShareAHashSlot_SoOneScriptMayTakeFromTwo()
    {
        var multiplexer = redis.Inspect.Multiplexer;
        var address = new ThrottleKey("myregistry", ThrottleSubject.AnonymousAddress, "", UInt128.Parse("2130706433"), ThrottleCategory.Read);
        var shared = new ThrottleKey("myregistry", ThrottleSubject.Anonymous, "anonymous", UInt128.Zero, ThrottleCategory.Read);

        Assert.Equal(multiplexer.HashSlot(redis.KeyPrefix + RedisThrottleCounterStore.KeyFor(address)),
            multiplexer.HashSlot(redis.KeyPrefix + RedisThrottleCounterStore.KeyFor(shared)));
    }
}
