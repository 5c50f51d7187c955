using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Berth.Core.PullCounts;

public static class PullCountServiceExtensions
{
    /// <summary>The in-memory pull counter and its flush, into the database unless a sink (Redis) is registered first. The host binds the options.</summary>
    public static IServiceCollection AddBerthPullCounts(this IServiceCollection services)
    {
        services.AddOptions<PullCountOptions>();
        services.TryAddSingleton<IPullCountSink, DatabasePullCountSink>();
        return services.TryAddOptionsValidator<PullCountOptions, PullCountOptionsValidator>()
            .TryAddSingletonsAndClock(typeof(PullCounter), typeof(PullCountFlush));
    }
}
