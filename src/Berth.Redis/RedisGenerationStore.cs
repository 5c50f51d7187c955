using Berth.Core.Caching;

namespace Berth.Redis;

/// <summary>
/// <see cref="ChangeGenerations"/>' counters in Redis, so a change acknowledged by one node applies to the next request
/// on every node. All counters share one hash slot (<c>{gen}</c>), so one script can read a request's four counters in
/// one round trip, on a Redis Cluster too.
/// <para>
/// Redis may lose counters (restarted without persistence, evicted under memory pressure). A lost counter must not start
/// again at a value a node already used, or that node's cache entries from before would match again. So a missing
/// counter starts at the Redis server's clock in microseconds: every counter grows by one per change, far slower than
/// one per microsecond, so the new start lies above any value the counter can have reached before.
/// </para>
/// </summary>
public sealed class RedisGenerationStore(RedisConnection redis) : ISharedGenerationStore
{
    // Shared by both scripts: the start value of a counter Redis does not hold.
    private const string StartValue = RedisConnection.ServerClockScript + """
        local start = string.format('%.0f', now)
        """;

    private const string ReadScript = StartValue + """
        local values = {}
        for i, key in ipairs(KEYS) do
          local value = redis.call('GET', key)
          if not value then
            redis.call('SET', key, start)
            value = start
          end
          values[i] = value
        end
        return values
        """;

    private const string IncrementScript = StartValue + """
        if redis.call('EXISTS', KEYS[1]) == 0 then
          redis.call('SET', KEYS[1], start)
        end
        return redis.call('INCR', KEYS[1])
        """;

    public ValueTask<long[]> ReadAsync(IReadOnlyList<GenerationKey> keys, CancellationToken cancellationToken) =>
        new(redis.RunAsync(async database =>
        {
            var result = (RedisResult[])(await database.ScriptEvaluateAsync(ReadScript, keys.Select(KeyFor).ToArray()))!;
            return result.Select(value => long.Parse((string)value!, CultureInfo.InvariantCulture)).ToArray();
        }));

    public ValueTask<long> IncrementAsync(GenerationKey key, CancellationToken cancellationToken) =>
        new(redis.RunAsync(async database => (long)(await database.ScriptEvaluateAsync(IncrementScript, [KeyFor(key)]))));

    /// <summary>The counter's key (before the configured prefix).</summary>
    internal static RedisKey KeyFor(GenerationKey key) => key.Kind == ChangeKind.RegistryList
        ? "{gen}:registries"
        : $"{{gen}}:{key.Registry}:{key.Kind.ToString().ToLowerInvariant()}";
}
