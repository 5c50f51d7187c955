using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Berth.Core.Maintenance;

public static class MaintenanceServiceExtensions
{
    /// <summary>Garbage collection and the integrity check over whichever providers are registered. The host binds the options.</summary>
    public static IServiceCollection AddBerthMaintenance(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<GarbageCollectionOptions>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GarbageCollectionOptions>, GarbageCollectionOptionsValidator>());
        services.TryAddSingleton<GarbageCollector>();
        services.TryAddSingleton<IntegrityChecker>();
        return services;
    }
}
