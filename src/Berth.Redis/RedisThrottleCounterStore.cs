using Berth.Core.Throttling;

namespace Berth.Redis;

/// <summary>
/// Token buckets in Redis, shared by every node. Each take is one Lua script (an anonymous request's two takes, from
/// its address's bucket and the shared one, are one script too), so concurrent requests on any node can neither both
/// take the last request nor lose a refill, and a request costs one round trip; time is the Redis server's clock
/// (<c>TIME</c>), so the nodes' clocks never enter into it. The answers mean what <see cref="InMemoryThrottleCounterStore"/>'s mean: a bucket never
/// used is full, and refills continuously at the limit's rate.
/// <para>
/// Memory stays bounded without any sweeping: every take sets the key to expire when the bucket would be full again,
/// and a missing bucket is a full one, so an idle bucket disappears without changing any answer.
/// </para>
/// </summary>
public sealed class RedisThrottleCounterStore(RedisConnection redis) : IThrottleCounterStore
{
    // take(key, capacity, refill per second, true to take a request or false to look only) works on one bucket, a hash of tk
    // (tokens) and ts (last refill, server clock in microseconds), and returns {allowed 0|1, whole tokens left, exact
    // tokens as text}. Numbers are written with explicit formats because Redis turns Lua numbers into text with 14
    // digits, too few for a microsecond clock.
    private const string TakeFunction = RedisConnection.ServerClockScript + """
        local function take(key, capacity, rate, spend)
          local state = redis.call('HMGET', key, 'tk', 'ts')
          local tokens = tonumber(state[1])
          local updated = tonumber(state[2])
          if tokens == nil or updated == nil then
            tokens = capacity
            updated = now
          end
          if now > updated then
            tokens = math.min(capacity, tokens + (now - updated) / 1000000 * rate)
            updated = now
          end
          if tokens < 1 then
            return {0, 0, string.format('%.17g', tokens)}
          end
          if spend then
            tokens = tokens - 1
            redis.call('HSET', key, 'tk', string.format('%.17g', tokens), 'ts', string.format('%.0f', updated))
            redis.call('PEXPIRE', key, math.ceil((capacity - tokens) / rate * 1000) + 1000)
          end
          return {1, math.floor(tokens), string.format('%.17g', tokens)}
        end
        """;

    // KEYS[1] the bucket; ARGV capacity, refill per second, 1 to take a request or 0 to look only.
    private const string TakeScript = TakeFunction + "\n" + """
        return take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1')
        """;

    // KEYS[1] and KEYS[2] two buckets, ARGV their capacities and refill rates: takes from the second only if the first
    // admitted. Returns the first's answer, followed by the second's when it was asked.
    private const string TakeBothScript = TakeFunction + "\n" + """
        local first = take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), true)
        if first[1] == 0 then
          return first
        end
        local second = take(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]), true)
        return {first[1], first[2], first[3], second[1], second[2], second[3]}
        """;

    // KEYS[1] the bucket; ARGV capacity, refill per second. Gives one request back, refilled first and capped at the
    // capacity; a bucket with no key is full, so there is nothing to give back and no key is made. A bucket full again
    // is deleted rather than kept, as it would expire with nothing changed.
    private const string RefundScript = RedisConnection.ServerClockScript + """
        local capacity = tonumber(ARGV[1])
        local rate = tonumber(ARGV[2])
        local state = redis.call('HMGET', KEYS[1], 'tk', 'ts')
        local tokens = tonumber(state[1])
        local updated = tonumber(state[2])
        if tokens == nil or updated == nil then
          return 0
        end
        if now > updated then
          tokens = tokens + (now - updated) / 1000000 * rate
          updated = now
        end
        tokens = math.min(capacity, tokens + 1)
        if tokens >= capacity then
          redis.call('DEL', KEYS[1])
          return 1
        end
        redis.call('HSET', KEYS[1], 'tk', string.format('%.17g', tokens), 'ts', string.format('%.0f', updated))
        redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
        return 1
        """;

    public ValueTask<ThrottleDecision> TryAcquireAsync(ThrottleKey key, BucketLimit limit, CancellationToken cancellationToken) =>
        new(RunAsync(key, limit, take: true));

    public ValueTask<ThrottleDecision> PeekAsync(ThrottleKey key, BucketLimit limit, CancellationToken cancellationToken) =>
        new(RunAsync(key, limit, take: false));

    public ValueTask RefundAsync(ThrottleKey key, BucketLimit limit, CancellationToken cancellationToken) =>
        new(redis.RunAsync(async database =>
        {
            await database.ScriptEvaluateAsync(RefundScript, [KeyFor(key)], [limit.Capacity, limit.RefillPerSecond]);
            return true;
        }));

    public ValueTask<ThrottleDecision> TryAcquireBothAsync(ThrottleKey first, BucketLimit firstLimit, ThrottleKey then, BucketLimit thenLimit, CancellationToken cancellationToken) =>
        new(redis.RunAsync(async database =>
        {
            var result = (RedisResult[])(await database.ScriptEvaluateAsync(TakeBothScript, [KeyFor(first), KeyFor(then)],
                [firstLimit.Capacity, firstLimit.RefillPerSecond, thenLimit.Capacity, thenLimit.RefillPerSecond]))!;
            var firstDecision = Decision(result, 0, firstLimit);
            return firstDecision.Allowed ? ThrottleDecision.Both(firstDecision, Decision(result, 3, thenLimit)) : firstDecision;
        }));

    /// <summary>
    /// The bucket's key (before the configured prefix): readable, and unique per <see cref="ThrottleKey"/>. The registry
    /// is the key's hash tag, so the buckets one script takes from lie in one hash slot on a Redis Cluster.
    /// </summary>
    internal static string KeyFor(ThrottleKey key) => string.Create(CultureInfo.InvariantCulture,
        $"throttle:{{{key.Registry}}}:{key.Subject}:{key.Category}:{(key.Name.Length > 0 ? key.Name : key.Address.ToString("x"))}");

    private Task<ThrottleDecision> RunAsync(ThrottleKey key, BucketLimit limit, bool take) =>
        redis.RunAsync(async database => Decision((RedisResult[])(await database.ScriptEvaluateAsync(TakeScript, [KeyFor(key)],
            [limit.Capacity, limit.RefillPerSecond, take ? 1 : 0]))!, 0, limit));

    /// <summary>One bucket's answer, from the three values <c>take</c> returned at <paramref name="at"/>.</summary>
    private static ThrottleDecision Decision(RedisResult[] result, int at, BucketLimit limit)
    {
        if ((long)result[at] == 1) return new ThrottleDecision(true, (long)result[at + 1], TimeSpan.Zero);
        var tokens = double.Parse((string)result[at + 2]!, CultureInfo.InvariantCulture);
        // As TokenBucket computes it: the time until the bucket holds one whole request again.
        var wait = (1 - tokens) / limit.RefillPerSecond;
        return new ThrottleDecision(false, 0, TimeSpan.FromSeconds(Math.Min(wait, TimeSpan.MaxValue.TotalSeconds / 2)));
    }
}
