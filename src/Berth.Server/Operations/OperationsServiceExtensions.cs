using Berth.Core.Maintenance;

namespace Berth.Server.Operations;

public static class OperationsServiceExtensions
{
    /// <summary>Metrics, garbage collection (options from <c>Berth:GarbageCollection</c>, validated at start) and its schedule, and fsck.</summary>
    public static IServiceCollection AddBerthOperations(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMetrics();
        services.AddSingleton<BerthMetrics>();
        services.AddBerthMaintenance();
        services.AddOptions<GarbageCollectionOptions>().Bind(configuration.GetSection(GarbageCollectionOptions.Section)).ValidateOnStart();
        services.AddHostedService<GarbageCollectionScheduler>();
        return services;
    }
}
