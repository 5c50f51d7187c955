using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Berth.Core.Management;

public static class ManagementServiceExtensions
{
    /// <summary>
    /// Registers management sign-in and tokens. An <see cref="IServicePrincipalStore"/> must be registered by a
    /// metadata provider (e.g. <c>AddSqliteServicePrincipalStore</c>).
    /// </summary>
    public static IServiceCollection AddBerthManagement(this IServiceCollection services, Action<ManagementOptions>? configure = null)
    {
        services.AddOptionsValidatedOnStart(configure, options => options.Validate())
            .TryAddSingletonsAndClock(typeof(ManagementTokenService), typeof(ManagementSignIn));
        services.TryAddSingleton<IManagementCredentialExchange, ManagementCredentialExchange>();
        return services;
    }
}
