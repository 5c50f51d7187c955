using Berth.Core.Identity.Credentials;
using Berth.Core.Identity.Tokens;

namespace Berth.Core.Identity;

public static class IdentityServiceExtensions
{
    /// <summary>
    /// Registers identity management, authentication and the token service. An <see cref="IIdentityStore"/>
    /// must be registered by a metadata provider (e.g. <c>AddSqliteIdentityStore</c>). Options are validated at
    /// start-up, so a missing key directory stops the host with a clear message.
    /// </summary>
    public static IServiceCollection AddBerthIdentity(this IServiceCollection services, Action<IdentityOptions>? configure = null) => services
        .AddOptionsValidatedOnStart(configure, options => options.Validate())
        .TryAddSingletonsAndClock(typeof(SigningKey), typeof(SecretProtector), typeof(VerificationCache), typeof(RegistryTokenService),
            typeof(IdentityService), typeof(AuthenticationService));
}
