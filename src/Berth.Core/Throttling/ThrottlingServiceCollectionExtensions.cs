using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Berth.Core.Throttling;

public static class ThrottlingServiceCollectionExtensions
{
    /// <summary>
    /// The throttle policy over the in-memory counter store. Every piece is added with TryAdd, so a distributed store
    /// (Redis, for several nodes) or a test clock registered first wins. The host binds <see cref="ThrottlingOptions"/>.
    /// </summary>
    public static IServiceCollection AddBerthThrottlingPolicy(this IServiceCollection services)
    {
        services.TryAddSingleton<IThrottleCounterStore, InMemoryThrottleCounterStore>();
        return services.TryAddSingletonsAndClock(typeof(ThrottlePolicy))
            .TryAddOptionsValidator<ThrottlingOptions, ThrottlingOptionsValidator>();
    }
}
