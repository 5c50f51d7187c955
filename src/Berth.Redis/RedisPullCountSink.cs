using Berth.Core.PullCounts;
using Berth.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Redis;

/// <summary>
/// Pull counts of several nodes gathered in Redis and moved into the database by one node per interval, so the database
/// takes one flush per interval however many nodes there are.
/// <para>
/// Each node still counts in memory (a pull costs nothing but a dictionary update) and each flush adds its deltas to one
/// Redis hash with one script (<c>HINCRBY</c>, last pull by <c>max</c>): increments commute, so nodes flushing at once stay
/// exact. After its flush a node tries to become this interval's mover (<c>SET NX PX</c>); the mover takes the whole hash
/// atomically (<c>HGETALL</c> and <c>DEL</c> in one script), so each delta is taken by exactly one mover, and adds it to
/// the database with the same UPSERT a single node uses. A repository's deltas the database refuses go back into this
/// node's counter, and so into Redis at the next flush. What is lost is bounded by one interval: a node killed before its
/// flush loses its own counts since the last one, a mover killed between its take and its commit loses what it took.
/// </para>
/// </summary>
public sealed partial class RedisPullCountSink(
    RedisConnection redis, IPullCountStore store, PullCounter counter, IOptions<PullCountOptions> options, ILogger<RedisPullCountSink> logger) : IPullCountSink
{
    // All keys share the hash slot {pulls}, for a Redis Cluster.
    internal const string PendingKey = "{pulls}:pending";
    private const string MoverKey = "{pulls}:mover";

    // ARGV: groups of field (registry\nrepository\ntag), anonymous, authenticated, last pull (Unix ms).
    private const string AddScript = """
        local key = KEYS[1]
        for i = 1, #ARGV, 4 do
          local field = ARGV[i]
          redis.call('HINCRBY', key, 'a\n' .. field, ARGV[i + 1])
          redis.call('HINCRBY', key, 'u\n' .. field, ARGV[i + 2])
          local last = tonumber(redis.call('HGET', key, 't\n' .. field) or '0')
          if tonumber(ARGV[i + 3]) > last then redis.call('HSET', key, 't\n' .. field, ARGV[i + 3]) end
        end
        return 0
        """;

    private const string TakeScript = """
        local taken = redis.call('HGETALL', KEYS[1])
        redis.call('DEL', KEYS[1])
        return taken
        """;

    public Task WriteAsync(RepositoryKey repository, IReadOnlyList<PullCountDelta> deltas, CancellationToken cancellationToken) =>
        redis.RunAsync(async database =>
        {
            var arguments = new List<RedisValue>(deltas.Count * 4);
            foreach (var delta in deltas)
            {
                arguments.Add($"{delta.Repository.Registry}\n{delta.Repository.Name}\n{delta.Tag}");
                arguments.Add(delta.Anonymous);
                arguments.Add(delta.Authenticated);
                arguments.Add(delta.LastPulled.ToUnixTimeMilliseconds());
            }
            return await database.ScriptEvaluateAsync(AddScript, [PendingKey], [.. arguments]);
        });

    /// <summary>Moves Redis's totals into the database when this node is the interval's mover, or always on a graceful stop.</summary>
    public async Task CompleteFlushAsync(bool final, CancellationToken cancellationToken)
    {
        var taken = await redis.RunAsync(async database =>
        {
            // Held for most of an interval, so that one node moves per interval; a stopping node moves what is there regardless.
            if (!final && !await database.StringSetAsync(MoverKey, "1", options.Value.FlushInterval * 0.9, When.NotExists)) return [];
            return (RedisValue[])(await database.ScriptEvaluateAsync(TakeScript, [PendingKey]))!;
        });
        var failed = 0;
        foreach (var deltas in Parse(taken).GroupBy(d => d.Repository))
        {
            try
            {
                await store.AddAsync(deltas.Key, [.. deltas], cancellationToken);
            }
            catch (Exception error)
            {
                counter.Restore(deltas);
                if (failed++ == 0) LogFailed(logger, error);
            }
        }
    }

    /// <summary>The hash's fields (<c>a|u|t\nregistry\nrepository\ntag</c>) and values, as one delta per repository or tag.</summary>
    internal static IEnumerable<PullCountDelta> Parse(RedisValue[] taken)
    {
        var tallies = new Dictionary<(string Registry, string Repository, string Tag), (long Anonymous, long Authenticated, long Last)>();
        for (var i = 0; i + 1 < taken.Length; i += 2)
        {
            var parts = ((string)taken[i]!).Split('\n', 4);
            if (parts.Length != 4) continue;
            var key = (parts[1], parts[2], parts[3]);
            var value = (long)taken[i + 1];
            tallies.TryGetValue(key, out var tally);
            tallies[key] = parts[0] switch
            {
                "a" => tally with { Anonymous = value },
                "u" => tally with { Authenticated = value },
                _ => tally with { Last = value },
            };
        }
        return tallies.Select(pair => new PullCountDelta(new RepositoryKey(pair.Key.Registry, pair.Key.Repository),
            pair.Key.Tag.Length == 0 ? null : pair.Key.Tag, pair.Value.Anonymous, pair.Value.Authenticated, DateTimeOffset.FromUnixTimeMilliseconds(pair.Value.Last)));
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Pull counts moved from Redis could not be written to the database; they are kept for the next flush")]
    private static partial void LogFailed(ILogger logger, Exception error);
}
