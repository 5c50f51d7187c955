namespace Berth.Core.Management;

/// <summary>
/// The data plane's hook for management credentials (ACR's <c>/oauth2/exchange</c> takes an AAD token): turns a
/// management access token into a registry principal, and re-checks that principal whenever a registry token
/// issued from it is used. Owners act on a registry as its admin user does, whether or not the admin user is enabled.
/// </summary>
public interface IManagementCredentialExchange
{
    /// <summary>The principal a valid management token stands for on <paramref name="registry"/>; null if the token is not one.</summary>
    Task<RegistryPrincipal?> ExchangeAsync(RegistryContext registry, string accessToken, CancellationToken cancellationToken);

    /// <summary>Whether <paramref name="credential"/> names a management principal (as <see cref="RegistryPrincipal.Credential"/> does after an exchange).</summary>
    bool IsManagementCredential(string? credential);

    /// <summary>Re-checks a principal obtained by <see cref="ExchangeAsync"/>: null once the service principal is gone or its secret was rotated.</summary>
    Task<RegistryPrincipal?> ResolveAsync(RegistryContext registry, string credential, DateTimeOffset? credentialCreatedAt, CancellationToken cancellationToken);
}

internal sealed class ManagementCredentialExchange(ManagementSignIn signIn, IServicePrincipalStore store) : IManagementCredentialExchange
{
    /// <summary>Prefix of <see cref="RegistryPrincipal.Credential"/> for principals obtained from a management token.</summary>
    private const string CredentialPrefix = "sp:";

    public async Task<RegistryPrincipal?> ExchangeAsync(RegistryContext registry, string accessToken, CancellationToken cancellationToken)
    {
        if (await signIn.AuthenticateAsync(accessToken, cancellationToken) is not { } caller)
            return null;
        var principal = await store.GetOrNullAsync(caller.ClientId, cancellationToken);
        return principal is null ? null : ToRegistryPrincipal(registry, principal);
    }

    public bool IsManagementCredential(string? credential) => credential?.StartsWith(CredentialPrefix, StringComparison.Ordinal) == true;

    public async Task<RegistryPrincipal?> ResolveAsync(RegistryContext registry, string credential, DateTimeOffset? credentialCreatedAt, CancellationToken cancellationToken)
    {
        if (!IsManagementCredential(credential) || credentialCreatedAt is not { } created)
            return null;
        var principal = await store.GetOrNullAsync(credential[CredentialPrefix.Length..], cancellationToken);
        if (principal is null || principal.SecretCreatedAt.ToUnixTimeMilliseconds() != created.ToUnixTimeMilliseconds())
            return null;
        return ToRegistryPrincipal(registry, principal);
    }

    private static RegistryPrincipal ToRegistryPrincipal(RegistryContext registry, ServicePrincipal principal) =>
        principal.Role switch
        {
            ManagementRole.Owner => new RegistryPrincipal(registry.Name, PrincipalKind.Admin, registry.Name, Permissions.Admin,
                CredentialPrefix + principal.ClientId, principal.SecretCreatedAt),
            _ => throw new InvalidOperationException($"unknown management role {principal.Role}"),
        };
}
