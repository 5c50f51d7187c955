using Berth.Core.Identity;
using Berth.Core.Registries;
using Berth.Server.Throttling;

namespace Berth.Server.Access;

/// <summary>
/// The one authorization decision point of the data plane: authenticates the request, checks the access its
/// endpoint declared, and answers ACR's 401 challenge when either fails.
/// </summary>
public static class AccessControl
{
    private const string PrincipalKey = "Berth.Principal";

    /// <summary>The caller if it may make this request; otherwise the 401 has been written and the result is null.</summary>
    public static async Task<RegistryPrincipal?> AuthorizeAsync(HttpContext context, Registry registry, IReadOnlyList<AccessScope> required)
    {
        // A password costs one of the address's failed attempts up front, given back below when it is right.
        if (RequestThrottle.IsBasic(context.Request) && !await RequestThrottle.ReserveCredentialAttemptAsync(context, registry)) return null;
        var result = await RequestAuthentication.AuthenticateOrNullAsync(context, registry);
        if (result is null)
        {
            await Challenges.WriteAsync(context, registry.LoginServer, required, insufficientScope: false);
            return null;
        }
        if (result.Principal is not { } principal)
        {
            Operations.Audit.DataPlaneAuthenticationFailed(context, registry.Name, result.Failure);
            // A rejected password has paid with its reservation. A rejected bearer token is no guess (tokens are
            // signed) but the normal sign of an expired one, so it is not counted.
            await Challenges.WriteAsync(context, registry.LoginServer, required, insufficientScope: false, RequestAuthentication.RejectedMessage(registry, result));
            return null;
        }
        await RequestThrottle.RefundCredentialAttemptAsync(context, registry);
        foreach (var scope in required)
        {
            if (!principal.Permissions.Allows(scope))
            {
                await Challenges.WriteAsync(context, registry.LoginServer, required, insufficientScope: true);
                return null;
            }
        }
        // Throttled after authorization, when the identity (or the anonymous client's address) is known.
        if (!await RequestThrottle.AdmitAsync(context, registry, principal)) return null;
        context.Items[PrincipalKey] = principal;
        return principal;
    }

    /// <summary>The caller <see cref="AuthorizeAsync"/> admitted; null before that.</summary>
    public static RegistryPrincipal? Caller(HttpContext context) =>
        context.Items.TryGetValue(PrincipalKey, out var principal) ? (RegistryPrincipal)principal! : null;

    /// <summary>
    /// Whether the authorized caller also holds <paramref name="scope"/>, for optional extras of a request such as the
    /// source of a cross-repository mount.
    /// </summary>
    public static bool CallerMay(HttpContext context, AccessScope scope) => Caller(context)?.Permissions.Allows(scope) == true;
}
