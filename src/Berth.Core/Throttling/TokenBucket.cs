namespace Berth.Core.Throttling;

/// <summary>
/// A token bucket on the monotonic clock of a <see cref="TimeProvider"/> (timestamps, never wall-clock time, so clock
/// changes neither refill nor drain it). A tiny lock guards each bucket; nothing is awaited while it is held.
/// </summary>
internal sealed class TokenBucket
{
    private readonly Lock _gate = new();
    private double _tokens;
    private long _updatedAt;
    private BucketLimit _limit;

    public TokenBucket(BucketLimit limit, long now)
    {
        _limit = limit;
        _tokens = limit.Capacity;
        _updatedAt = now;
        LastUsedAt = now;
    }

    /// <summary>The timestamp of the last request, read without the lock by eviction (a torn read only delays eviction).</summary>
    public long LastUsedAt { get; private set; }

    public ThrottleDecision TryTake(BucketLimit limit, long now, long frequency, bool take)
    {
        lock (_gate)
        {
            _limit = limit;
            Refill(limit, now, frequency);
            LastUsedAt = now;
            if (_tokens >= 1)
            {
                if (take) _tokens -= 1;
                return new ThrottleDecision(true, (long)_tokens, TimeSpan.Zero);
            }
            var wait = limit.RefillPerSecond > 0 ? (1 - _tokens) / limit.RefillPerSecond : TimeSpan.MaxValue.TotalSeconds;
            return new ThrottleDecision(false, 0, TimeSpan.FromSeconds(Math.Min(wait, TimeSpan.MaxValue.TotalSeconds / 2)));
        }
    }

    /// <summary>Gives back one request taken earlier (a reservation that turned out not to be needed); never beyond capacity.</summary>
    public void Refund(BucketLimit limit, long now, long frequency)
    {
        lock (_gate)
        {
            _limit = limit;
            Refill(limit, now, frequency);
            _tokens = Math.Min(limit.Capacity, _tokens + 1);
        }
    }

    /// <summary>Whether the bucket has been idle long enough to be full again, so dropping it changes nothing.</summary>
    public bool IsFullAt(long now, long frequency)
    {
        lock (_gate)
        {
            Refill(_limit, now, frequency);
            return _tokens >= _limit.Capacity;
        }
    }

    private void Refill(BucketLimit limit, long now, long frequency)
    {
        if (now <= _updatedAt) return;
        var elapsedSeconds = (double)(now - _updatedAt) / frequency;
        _tokens = Math.Min(limit.Capacity, _tokens + elapsedSeconds * limit.RefillPerSecond);
        _updatedAt = now;
    }
}
