using System.Collections.Concurrent;

namespace Berth.Core.Throttling;

/// <summary>
/// Buckets in process memory, for one node. Memory stays bounded: a bucket idle long enough to be full again is
/// dropped (a missing bucket is a full one, so nothing changes), and past <see cref="ThrottlingOptions.MaxBuckets"/>
/// a new key gets a fresh bucket that is not kept. That can only favour the caller for one request per key, and the
/// shared anonymous bucket, which always exists, still bounds anonymous traffic as a whole.
/// </summary>
public sealed class InMemoryThrottleCounterStore : IThrottleCounterStore
{
    private readonly ConcurrentDictionary<ThrottleKey, TokenBucket> _buckets = new();
    private readonly TimeProvider _time;
    private readonly long _frequency;
    private readonly long _idleTicks;
    private readonly long _sweepTicks;
    private readonly int _maxBuckets;
    private long _nextSweepAt;
    private int _sweeping;

    public InMemoryThrottleCounterStore(TimeProvider time, IOptions<ThrottlingOptions> options)
    {
        _time = time;
        _frequency = time.TimestampFrequency;
        var settings = options.Value;
        _idleTicks = (long)(settings.IdleBucketTimeout.TotalSeconds * _frequency);
        // Sweeping walks every bucket, so it runs at most this often, on whichever request comes due first.
        _sweepTicks = Math.Max(_idleTicks / 4, _frequency);
        _maxBuckets = settings.MaxBuckets;
        _nextSweepAt = time.GetTimestamp() + _sweepTicks;
    }

    /// <summary>How many buckets are held now (for tests and metrics).</summary>
    public int Count => _buckets.Count;

    public ValueTask<ThrottleDecision> TryAcquireAsync(ThrottleKey key, BucketLimit limit, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Use(key, limit, take: true));

    public ValueTask<ThrottleDecision> PeekAsync(ThrottleKey key, BucketLimit limit, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        return ValueTask.FromResult(_buckets.TryGetValue(key, out var bucket)
            ? bucket.TryTake(limit, now, _frequency, take: false)
            : new ThrottleDecision(true, (long)limit.Capacity, TimeSpan.Zero));
    }

    public ValueTask RefundAsync(ThrottleKey key, BucketLimit limit, CancellationToken cancellationToken)
    {
        // A bucket that is gone was full (or never kept), so there is nothing to give back.
        if (_buckets.TryGetValue(key, out var bucket)) bucket.Refund(limit, _time.GetTimestamp(), _frequency);
        return ValueTask.CompletedTask;
    }

    private ThrottleDecision Use(ThrottleKey key, BucketLimit limit, bool take)
    {
        var now = _time.GetTimestamp();
        if (now >= Volatile.Read(ref _nextSweepAt)) Sweep(now, force: false);
        if (!_buckets.TryGetValue(key, out var bucket))
        {
            if (_buckets.Count >= _maxBuckets)
            {
                Sweep(now, force: true);
                if (_buckets.Count >= _maxBuckets) return new TokenBucket(limit, now).TryTake(limit, now, _frequency, take);
            }
            bucket = _buckets.GetOrAdd(key, static (_, state) => new TokenBucket(state.limit, state.now), (limit, now));
        }
        return bucket.TryTake(limit, now, _frequency, take);
    }

    /// <summary>Drops buckets that are full again; idle ones only, unless the table is at its limit.</summary>
    private void Sweep(long now, bool force)
    {
        if (Interlocked.CompareExchange(ref _sweeping, 1, 0) != 0) return;
        try
        {
            Volatile.Write(ref _nextSweepAt, now + _sweepTicks);
            foreach (var entry in _buckets)
            {
                var bucket = entry.Value;
                if ((force || now - bucket.LastUsedAt >= _idleTicks) && bucket.IsFullAt(now, _frequency))
                {
                    // Removes only this instance: a bucket replaced meanwhile is left alone.
                    _buckets.TryRemove(entry);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }
}
