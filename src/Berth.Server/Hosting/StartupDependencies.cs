using Berth.Redis;
using Berth.Server.Configuration;

namespace Berth.Server.Hosting;

/// <summary>
/// Before a node starts serving, waits for the shared services it cannot start without: the metadata database
/// (opening it applies migrations) and Redis when one is configured. A node started together with them (a compose
/// file, a cluster coming back) then waits instead of exiting at once. Each failed attempt is one warning line; after
/// <see cref="BerthOptions.StartupWait"/> the last failure is thrown, for <c>berth serve</c> to print as one line.
/// Failures that will not pass by themselves (a wrong PostgreSQL password, a missing database, a malformed setting)
/// are thrown at once. A node on shared services without Redis gets a warning first (see
/// <see cref="BerthProviders.SharedWithoutRedisWarning"/>).
/// </summary>
public static class StartupDependencies
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    public static async Task WaitAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var options = services.GetRequiredService<BerthOptions>();
        var wait = options.StartupWait;
        var time = services.GetRequiredService<TimeProvider>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StartupDependencies));
        if (BerthProviders.SharedWithoutRedisWarning(options) is { } warning) logger.LogWarning("{Warning}", warning);
        var deadline = time.GetUtcNow() + wait;
        while (true)
        {
            try
            {
                await CheckAsync(services, cancellationToken);
                return;
            }
            catch (ProviderUnavailableException unavailable) when (time.GetUtcNow() < deadline)
            {
                logger.LogWarning("Waiting for {Provider} (until {Deadline:HH:mm:ss}): {Message}", unavailable.Provider, deadline.ToLocalTime(), unavailable.Message);
                // The last attempt is made at the deadline, so the node waits the whole time it was given.
                var remaining = deadline - time.GetUtcNow();
                await Task.Delay(TimeSpan.FromTicks(Math.Clamp(remaining.Ticks, 0, RetryDelay.Ticks)), time, cancellationToken);
            }
        }
    }

    private static async Task CheckAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        // A singleton whose construction failed is not kept: the next attempt opens the database afresh.
        var metadata = services.GetRequiredService<IMetadataStore>();
        if (!await metadata.IsReadyAsync(cancellationToken))
            throw new ProviderUnavailableException("the metadata database", "it does not answer");
        if (services.GetService<RedisConnection>() is { } redis) await redis.RunAsync(database => database.PingAsync());
    }
}
