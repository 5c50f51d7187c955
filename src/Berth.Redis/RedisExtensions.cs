using Berth.Core.Caching;
using Berth.Core.PullCounts;
using Berth.Core.Throttling;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Redis;

public static class RedisExtensions
{
    /// <summary>
    /// Shares throttling buckets, cache generations and pull counts with the other nodes through Redis. Registered before the
    /// in-memory defaults (which are added with TryAdd), so these win. Throws at start-up when the settings are invalid.
    /// </summary>
    public static IServiceCollection AddBerthRedis(this IServiceCollection services, RedisOptions options)
    {
        // Constructed here, so bad settings stop start-up; it connects on first use.
        var connection = new RedisConnection(options);
        services.AddSingleton(_ => connection);
        services.AddSingleton<IThrottleCounterStore, RedisThrottleCounterStore>();
        services.AddSingleton<ISharedGenerationStore, RedisGenerationStore>();
        services.AddSingleton<IPullCountSink, RedisPullCountSink>();
        return services;
    }
}
