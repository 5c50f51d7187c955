using Berth.Core.Identity.Credentials;
using Berth.Core.Identity.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Berth.Core.Identity;

public static class IdentityServiceExtensions
{
    /// <summary>
    /// Registers identity management, authentication and the token service. An <see cref="IIdentityStore"/>
    /// must be registered by a metadata provider (e.g. <c>AddSqliteIdentityStore</c>). Options are validated at
    /// start-up, so a missing key directory stops the host with a clear message.
    /// </summary>
    public static IServiceCollection AddBerthIdentity(this IServiceCollection services, Action<IdentityOptions>? configure = null)
    {
        var builder = services.AddOptions<IdentityOptions>();
        if (configure is not null)
            builder.Configure(configure);
        builder.Validate(o =>
        {
            o.Validate();
            return true;
        }).ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SigningKey>();
        services.TryAddSingleton<SecretProtector>();
        services.TryAddSingleton<VerificationCache>();
        services.TryAddSingleton<RegistryTokenService>();
        services.TryAddSingleton<IdentityService>();
        services.TryAddSingleton<AuthenticationService>();
        return services;
    }
}
