using Berth.Core.Identity.Credentials;
using Berth.Core.Identity.Tokens;
using System.Text.Json.Nodes;

namespace Berth.Core.Management;

/// <summary>A newly created principal with its secret in clear: the only moment the secret exists outside its hash.</summary>
public sealed record NewServicePrincipal(ServicePrincipal Principal, string ClientSecret);

/// <summary>
/// Sign-in for the management plane: checks service-principal credentials, issues management tokens and turns a
/// presented token back into a <see cref="ManagementCaller"/>. Every way of signing in (the ADFS-style
/// client-credentials endpoint today; a loopback managed-identity endpoint later) ends in <see cref="IssueToken"/>,
/// and every request is checked by <see cref="AuthenticateAsync"/>, so a new sign-in path adds no new trust rules.
/// </summary>
public sealed class ManagementSignIn(
    IServicePrincipalStore store,
    ManagementTokenService tokens,
    TimeProvider time,
    IOptions<ManagementOptions> options)
{
    public const string OwnerDisplayName = "berth-owner";

    /// <summary>The resource az asks for when none is given: Azure's own ARM audience.</summary>
    public const string DefaultResource = "https://management.core.windows.net/";

    public string TenantId => options.Value.TenantId;

    /// <summary>Whether the loopback managed-identity endpoint is on (<see cref="ManagementOptions.ManagedIdentityEnabled"/>).</summary>
    public bool ManagedIdentityEnabled => options.Value.ManagedIdentityEnabled;

    /// <summary>
    /// Creates the owner principal if no owner exists yet. Returns it with its secret when it was created now, and
    /// null when an owner already existed (its secret is unknown here: only the hash is stored).
    /// </summary>
    public async Task<NewServicePrincipal?> EnsureOwnerAsync(CancellationToken cancellationToken)
    {
        var existing = await store.ListAsync(cancellationToken);
        if (existing.Any(p => p.Role == ManagementRole.Owner))
            return null;
        var now = time.GetUtcNow();
        var secret = PasswordGenerator.Generate();
        var principal = new ServicePrincipal(Guid.NewGuid().ToString(), OwnerDisplayName, ManagementRole.Owner,
            PasswordHasher.Hash(secret), now, now);
        return await store.CreateAsync(principal, cancellationToken) ? new NewServicePrincipal(principal, secret) : null;
    }

    /// <summary>Gives the principal a new secret; tokens issued with the old one stop working at once.</summary>
    public async Task<string> RotateSecretAsync(string clientId, CancellationToken cancellationToken)
    {
        var secret = PasswordGenerator.Generate();
        if (!await store.UpdateSecretAsync(clientId, PasswordHasher.Hash(secret), time.GetUtcNow(), cancellationToken))
            throw new InvalidOperationException($"no service principal with client id {clientId}");
        return secret;
    }

    /// <summary>Client credentials (<c>client_id</c> + <c>client_secret</c>); null when either is wrong, without saying which.</summary>
    public async Task<ServicePrincipal?> AuthenticateClientAsync(string clientId, string clientSecret, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(clientId) || string.IsNullOrEmpty(clientSecret) || clientId.Length > 100)
            return null;
        var principal = await store.GetOrNullAsync(clientId, cancellationToken);
        return principal is not null && PasswordHasher.Verify(clientSecret, principal.SecretHash) ? principal : null;
    }

    /// <summary>The owner principal, for sign-in paths that vouch for the caller by other means (a loopback managed-identity endpoint).</summary>
    public async Task<ServicePrincipal?> GetOwnerOrNullAsync(CancellationToken cancellationToken) =>
        (await store.ListAsync(cancellationToken)).FirstOrDefault(p => p.Role == ManagementRole.Owner);

    /// <summary>The keys that verify this server's management tokens, as a JWKS document's <c>keys</c> entries.</summary>
    public JsonObject PublicJsonWebKey() => tokens.PublicJsonWebKey();

    public IssuedToken IssueToken(ServicePrincipal principal, string audience) => tokens.Issue(principal, audience);

    /// <summary>
    /// A presented management token: valid signature and lifetime, and its principal still exists with the same
    /// secret generation (so deleting a principal or rotating its secret ends its tokens).
    /// </summary>
    public async Task<ManagementCaller?> AuthenticateAsync(string accessToken, CancellationToken cancellationToken)
    {
        if (tokens.ValidateOrNull(accessToken) is not { } claims)
            return null;
        var principal = await store.GetOrNullAsync(claims.ClientId, cancellationToken);
        if (principal is null || principal.SecretCreatedAt.ToUnixTimeMilliseconds() != claims.SecretCreatedAt.ToUnixTimeMilliseconds())
            return null;
        return new ManagementCaller(principal.ClientId, principal.DisplayName, principal.Role, claims.TenantId);
    }

    /// <summary>
    /// The audience for a token request: <c>resource</c> (ADAL, managed identity) or the first <c>.../.default</c>
    /// of <c>scope</c> (MSAL: resource <c>https://x/</c> is sent as scope <c>https://x//.default</c>).
    /// </summary>
    public static string ResolveAudience(string? resource, string? scope)
    {
        if (!string.IsNullOrWhiteSpace(resource))
            return resource.Trim();
        foreach (var item in (scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (item.EndsWith("/.default", StringComparison.Ordinal))
                return item[..^"/.default".Length] is { Length: > 0 } audience ? (audience.EndsWith('/') ? audience : audience + "/") : DefaultResource;
        }
        return DefaultResource;
    }
}
