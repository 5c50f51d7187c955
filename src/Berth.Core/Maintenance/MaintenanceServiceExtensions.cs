namespace Berth.Core.Maintenance;

public static class MaintenanceServiceExtensions
{
    /// <summary>Garbage collection and the integrity check over whichever providers are registered. The host binds the options.</summary>
    public static IServiceCollection AddBerthMaintenance(this IServiceCollection services)
    {
        services.AddOptions<GarbageCollectionOptions>();
        return services.TryAddOptionsValidator<GarbageCollectionOptions, GarbageCollectionOptionsValidator>()
            .TryAddSingletonsAndClock(typeof(GarbageCollector), typeof(IntegrityChecker));
    }
}
