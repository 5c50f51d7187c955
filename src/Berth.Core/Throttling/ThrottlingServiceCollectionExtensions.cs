using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Berth.Core.Throttling;

public static class ThrottlingServiceCollectionExtensions
{
    /// <summary>
    /// The throttle policy over the in-memory counter store. Every piece is added with TryAdd, so a distributed store
    /// (Redis, for several nodes) or a test clock registered first wins. The host binds <see cref="ThrottlingOptions"/>.
    /// </summary>
    public static IServiceCollection AddBerthThrottlingPolicy(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IThrottleCounterStore, InMemoryThrottleCounterStore>();
        services.TryAddSingleton<ThrottlePolicy>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ThrottlingOptions>, ThrottlingOptionsValidator>());
        return services;
    }
}
