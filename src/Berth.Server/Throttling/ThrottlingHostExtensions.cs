namespace Berth.Server.Throttling;

public static class ThrottlingHostExtensions
{
    /// <summary>Binds <c>Berth:Throttling</c>, validated at start-up, and adds the policy with its default (in-memory) counter store.</summary>
    public static IServiceCollection AddBerthThrottling(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ThrottlingOptions>()
            .Bind(configuration.GetSection(ThrottlingOptions.Section))
            .ValidateOnStart();
        return services.AddBerthThrottlingPolicy();
    }
}
