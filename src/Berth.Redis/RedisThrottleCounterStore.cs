using System.Globalization;
using Berth.Core.Throttling;
using StackExchange.Redis;

namespace Berth.Redis;

/// <summary>
/// Token buckets in Redis, shared by every node. Each take is one Lua script, so concurrent requests on any node can
/// neither both take the last request nor lose a refill; time is the Redis server's clock (<c>TIME</c>), so the nodes'
/// clocks never enter into it. The answers mean what <see cref="InMemoryThrottleCounterStore"/>'s mean: a bucket never
/// used is full, and refills continuously at the limit's rate.
/// <para>
/// Memory stays bounded without any sweeping: every take sets the key to expire when the bucket would be full again,
/// and a missing bucket is a full one, so an idle bucket disappears without changing any answer.
/// </para>
/// </summary>
public sealed class RedisThrottleCounterStore(RedisConnection redis) : IThrottleCounterStore
{
    // KEYS[1] the bucket, a hash of tk (tokens) and ts (last refill, server clock in microseconds).
    // ARGV capacity, refill per second, 1 to take a request or 0 to look only.
    // Returns {allowed 0|1, whole tokens left, exact tokens as text}. Numbers are written with explicit formats because
    // Redis turns Lua numbers into text with 14 digits, too few for a microsecond clock.
    private const string TakeScript = """
        local capacity = tonumber(ARGV[1])
        local rate = tonumber(ARGV[2])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        local state = redis.call('HMGET', KEYS[1], 'tk', 'ts')
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
        if ARGV[3] == '1' then
          tokens = tokens - 1
          redis.call('HSET', KEYS[1], 'tk', string.format('%.17g', tokens), 'ts', string.format('%.0f', updated))
          redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
        end
        return {1, math.floor(tokens), string.format('%.17g', tokens)}
        """;

    public ValueTask<ThrottleDecision> TryAcquireAsync(ThrottleKey key, BucketLimit limit, CancellationToken cancellationToken) =>
        new(RunAsync(key, limit, take: true));

    public ValueTask<ThrottleDecision> PeekAsync(ThrottleKey key, BucketLimit limit, CancellationToken cancellationToken) =>
        new(RunAsync(key, limit, take: false));

    /// <summary>The bucket's key (before the configured prefix): readable, and unique per <see cref="ThrottleKey"/>.</summary>
    internal static string KeyFor(ThrottleKey key) => string.Create(CultureInfo.InvariantCulture,
        $"throttle:{key.Registry}:{key.Subject}:{key.Category}:{(key.Name.Length > 0 ? key.Name : key.Address.ToString("x"))}");

    private Task<ThrottleDecision> RunAsync(ThrottleKey key, BucketLimit limit, bool take) =>
        redis.RunAsync(async database =>
        {
            var result = (RedisResult[])(await database.ScriptEvaluateAsync(TakeScript, [KeyFor(key)],
                [limit.Capacity, limit.RefillPerSecond, take ? 1 : 0]))!;
            if ((long)result[0] == 1) return new ThrottleDecision(true, (long)result[1], TimeSpan.Zero);
            var tokens = double.Parse((string)result[2]!, CultureInfo.InvariantCulture);
            // As TokenBucket computes it: the time until the bucket holds one whole request again.
            var wait = (1 - tokens) / limit.RefillPerSecond;
            return new ThrottleDecision(false, 0, TimeSpan.FromSeconds(Math.Min(wait, TimeSpan.MaxValue.TotalSeconds / 2)));
        });
}
