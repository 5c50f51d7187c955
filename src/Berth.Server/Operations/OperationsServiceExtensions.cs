using Berth.Core.Maintenance;
using Berth.Core.PullCounts;

namespace Berth.Server.Operations;

public static class OperationsServiceExtensions
{
    /// <summary>
    /// Metrics, garbage collection (options from <c>Berth:GarbageCollection</c>, validated at start) and its schedule, fsck,
    /// pull counts (<c>Berth:PullCounts</c>) with their flush, and the delivery of webhook events.
    /// </summary>
    public static IServiceCollection AddBerthOperations(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<BerthMetrics>();
        services.AddBerthMaintenance();
        services.AddOptions<GarbageCollectionOptions>().Bind(configuration.GetSection(GarbageCollectionOptions.Section)).ValidateOnStart();
        services.AddHostedService<GarbageCollectionScheduler>();
        services.AddBerthPullCounts();
        services.AddOptions<PullCountOptions>().Bind(configuration.GetSection(PullCountOptions.Section)).ValidateOnStart();
        services.AddHostedService<PullCountScheduler>();
        services.AddHostedService<WebhookDispatchScheduler>();
        return services;
    }
}
