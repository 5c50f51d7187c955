namespace Berth.Server.Requests;

/// <summary>
/// A registry request understood once: the registry the Host header addresses, the parsed route, the operation the
/// table gives for it, and, once the access step has admitted it, the caller. Held as a request feature
/// (<see cref="RegistryRequests.Get"/>), so every later step reads this rather than the path or untyped items.
/// </summary>
public sealed class RegistryRequest(Registry registry, RegistryRoute route, RegistryOperation operation)
{
    public Registry Registry { get; } = registry;

    public RegistryRoute Route { get; } = route;

    public RegistryOperation Operation { get; } = operation;

    /// <summary>The repository the route names (an empty name for the base endpoint and the catalogs).</summary>
    public RepositoryKey Repository { get; } = new(registry.Name, route.Repository);

    /// <summary>The reference, digest, tag or upload session of the route, or empty.</summary>
    public string Argument => Route.Argument;

    /// <summary>The admitted caller; null until the access step has run.</summary>
    public RegistryPrincipal? Caller { get; set; }

    /// <summary>
    /// Whether anyone may pull the route's repository without credentials: anonymous pull is on and covers it. Only
    /// such content may be marked cacheable by shared caches.
    /// </summary>
    public bool IsPublic => Registry.AnonymousPullEnabled && AnonymousAccess.For(Registry.AnonymousPullRepositories).AllowsRepository(Route.Repository, RepositoryActions.Pull);

    /// <summary>The admitted caller; for handlers, which run only after the access step.</summary>
    public RegistryPrincipal RequiredCaller => Caller ?? throw new InvalidOperationException("the access step has not admitted this request");
}

public static class RegistryRequests
{
    /// <summary>The request's registry feature, or null for a request that is not a registry operation (or not yet resolved).</summary>
    public static RegistryRequest? Get(HttpContext context) => context.Features.Get<RegistryRequest>();

    public static void Set(HttpContext context, RegistryRequest request) => context.Features.Set(request);

    /// <summary>The request as a webhook event's <c>request</c> names it: a fresh id, the host the client addressed, the method and user agent.</summary>
    public static Core.Webhooks.EventRequest ForEvents(HttpContext context) =>
        new(Guid.NewGuid().ToString(), context.Request.Host.Value ?? "", context.Request.Method, context.Request.Headers.UserAgent.ToString());
}
