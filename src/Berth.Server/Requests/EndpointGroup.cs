namespace Berth.Server.Requests;

/// <summary>Writes a 503 in the error shape of the surface the request reached (OCI errors, ARM errors, OAuth errors).</summary>
public delegate Task UnavailableWriter(HttpContext context, string message);

/// <summary>
/// Endpoint metadata every surface declares once where it maps its routes: the group metrics count its requests under,
/// and how it answers when a provider (database, blob storage, Redis) is down. Cross-cutting steps (metrics, audit,
/// provider-outage responses) read it instead of sniffing path prefixes. Registry operations refine the group per
/// operation (<see cref="RegistryOperation.MetricsGroup"/>).
/// </summary>
public sealed record EndpointGroup(string Name, UnavailableWriter WriteUnavailableAsync)
{
    /// <summary>The group of a request: its registry operation's, else its endpoint's, else <c>other</c> (no endpoint matched).</summary>
    public static string NameOf(HttpContext context) =>
        RegistryRequests.Get(context)?.Operation.MetricsGroup ?? context.GetEndpoint()?.Metadata.GetMetadata<EndpointGroup>()?.Name ?? "other";
}
