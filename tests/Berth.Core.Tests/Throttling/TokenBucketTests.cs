using Berth.Core.Throttling;

namespace Berth.Core.Tests.Throttling;

public sealed class TokenBucketTests
{
    private const long Frequency = TimeSpan.TicksPerSecond;
    private static readonly BucketLimit FivePerSecondBurstTen = new(Capacity: 10, RefillPerSecond: 5);

    [Fact]
    public void NewBucket_AdmitsItsCapacityThenRefuses()
    {
        var bucket = new TokenBucket(FivePerSecondBurstTen, now: 0);
        var admitted = Enumerable.Range(0, 10).Select(_ => bucket.TryTake(FivePerSecondBurstTen, 0, Frequency, take: true)).ToList();

        Assert.All(admitted, d => Assert.True(d.Allowed));
        Assert.Equal(9, admitted[0].Remaining);
        Assert.Equal(0, admitted[^1].Remaining);
        Assert.False(bucket.TryTake(FivePerSecondBurstTen, 0, Frequency, take: true).Allowed);
    }

    [Fact]
    public void EmptyBucket_RefillsAtItsRate()
    {
        var bucket = Drained(FivePerSecondBurstTen);

        Assert.False(bucket.TryTake(FivePerSecondBurstTen, Frequency / 10, Frequency, take: true).Allowed);
        Assert.True(bucket.TryTake(FivePerSecondBurstTen, Frequency / 5, Frequency, take: true).Allowed);
        Assert.False(bucket.TryTake(FivePerSecondBurstTen, Frequency / 5, Frequency, take: true).Allowed);
    }

    [Fact]
    public void Refusal_RetryAfterIsTheTimeToTheNextRequest()
    {
        var bucket = Drained(FivePerSecondBurstTen);

        var refused = bucket.TryTake(FivePerSecondBurstTen, 0, Frequency, take: true);

        Assert.False(refused.Allowed);
        Assert.Equal(0.2, refused.RetryAfter.TotalSeconds, precision: 6);
        Assert.Equal(1, refused.RetryAfterSeconds);
    }

    [Fact]
    public void RetryAfterSeconds_ForAWholeSecondWait_LeavesSlackForEarlyTimers()
    {
        var onePerSecond = new BucketLimit(Capacity: 1, RefillPerSecond: 1);
        var bucket = Drained(onePerSecond);

        var refused = bucket.TryTake(onePerSecond, 0, Frequency, take: true);

        Assert.Equal(1.0, refused.RetryAfter.TotalSeconds, precision: 6);
        Assert.Equal(2, refused.RetryAfterSeconds);
    }

    [Fact]
    public void RetryAfterSeconds_RoundsUp()
    {
        var slow = new BucketLimit(Capacity: 1, RefillPerSecond: 0.4);
        var bucket = Drained(slow);

        Assert.Equal(3, bucket.TryTake(slow, 0, Frequency, take: true).RetryAfterSeconds);
    }

    [Fact]
    public void LongIdleBucket_RefillsOnlyToItsCapacity()
    {
        var bucket = Drained(FivePerSecondBurstTen);

        var decision = bucket.TryTake(FivePerSecondBurstTen, 3600 * Frequency, Frequency, take: true);

        Assert.Equal(9, decision.Remaining);
    }

    [Fact]
    public void Peek_DoesNotSpend()
    {
        var bucket = new TokenBucket(FivePerSecondBurstTen, now: 0);

        bucket.TryTake(FivePerSecondBurstTen, 0, Frequency, take: false);

        Assert.Equal(9, bucket.TryTake(FivePerSecondBurstTen, 0, Frequency, take: true).Remaining);
    }

    [Fact]
    public void ClockGoingBackwards_NeitherRefillsNorDrains()
    {
        var bucket = new TokenBucket(FivePerSecondBurstTen, now: 10 * Frequency);
        bucket.TryTake(FivePerSecondBurstTen, 10 * Frequency, Frequency, take: true);

        Assert.Equal(8, bucket.TryTake(FivePerSecondBurstTen, 5 * Frequency, Frequency, take: true).Remaining);
    }

    private static TokenBucket Drained(BucketLimit limit)
    {
        var bucket = new TokenBucket(limit, now: 0);
        while (bucket.TryTake(limit, 0, Frequency, take: true).Allowed) { }
        return bucket;
    }
}
