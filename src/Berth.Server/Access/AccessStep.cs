using Berth.Server.Requests;
using Berth.Server.Throttling;

namespace Berth.Server.Access;

/// <summary>
/// The one access step of every surface that serves registry content: authenticates the request, checks the access its
/// operation declares, and throttles the admitted caller by the operation's category, answering ACR's 401 challenge or
/// the 429 when a step fails. Handlers never check permissions themselves.
/// </summary>
public static class AccessStep
{
    /// <summary>True with <see cref="RegistryRequest.Caller"/> set when the caller may make the request; otherwise the answer has been written.</summary>
    public static async Task<bool> AdmitAsync(HttpContext context, RegistryRequest request)
    {
        var registry = request.Registry;
        var required = request.Operation.Requires(request.Route);
        // A password costs one of the address's failed attempts up front, given back below when it is right.
        if (RequestThrottle.IsBasic(context.Request) && !await RequestThrottle.ReserveCredentialAttemptAsync(context, registry)) return false;
        var result = await RequestAuthentication.AuthenticateOrNullAsync(context, registry);
        if (result is null)
        {
            var message = NotPublicMessageOrNull(registry, required)
                ?? (!registry.AnonymousPullEnabled && Challenges.IsPullOnly(required) ? Challenges.AnonymousPullDisabled(registry.Name, context.Request.Host) : null);
            await Challenges.WriteAsync(context, registry.LoginServer, required, insufficientScope: false, message);
            return false;
        }
        if (result.Principal is not { } principal)
        {
            Operations.Audit.DataPlaneAuthenticationFailed(context, registry.Name, result.Failure);
            // A rejected password has paid with its reservation. A rejected bearer token is no guess (tokens are
            // signed) but the normal sign of an expired one, so it is not counted.
            await Challenges.WriteAsync(context, registry.LoginServer, required, insufficientScope: false, RequestAuthentication.RejectedMessage(registry, result));
            return false;
        }
        await RequestThrottle.RefundCredentialAttemptAsync(context, registry);
        foreach (var scope in required)
        {
            if (!principal.Permissions.Allows(scope))
            {
                await Challenges.WriteAsync(context, registry.LoginServer, required, insufficientScope: true,
                    principal.IsAnonymous ? NotPublicMessageOrNull(registry, required) : null);
                return false;
            }
        }
        // Throttled after authorization, when the identity (or the anonymous client's address) is known.
        if (!await RequestThrottle.AdmitAsync(context, registry, principal, request.Operation.Throttle)) return false;
        request.Caller = principal;
        return true;
    }

    /// <summary>
    /// For an anonymous caller refused a repository that anonymous pull does not cover: says so, rather than ACR's
    /// generic "authentication required", which clients show as a password problem.
    /// </summary>
    private static string? NotPublicMessageOrNull(Registry registry, IReadOnlyList<AccessScope> required)
    {
        if (!registry.AnonymousPullEnabled) return null;
        var rights = registry.ToContext().Public;
        var refused = required.FirstOrDefault(scope => scope.Type == ScopeNames.Repository && !rights.AllowsRepository(scope.Name, RepositoryActions.Pull));
        return refused is null ? null
            : $"repository \"{refused.Name}\" is not public on this registry: anonymous pull covers only some repositories. " +
              "Sign in to pull it (docker login, podman login or az acr login). " + Challenges.AuthenticationRequired;
    }
}
