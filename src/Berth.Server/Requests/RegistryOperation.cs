namespace Berth.Server.Requests;

/// <summary>Serves one registry operation once the access step has admitted the caller.</summary>
public delegate Task RegistryHandler(HttpContext context, RegistryRequest request);

/// <summary>
/// One row of the table of registry operations (<c>Endpoints/RegistryOperations.cs</c>): a resource and its methods,
/// the handler, the access it needs, the budget it spends and the group metrics count it under. Everything downstream
/// of the request's resolution (access, throttling, metrics, audit, error shapes) reads the row, never the path.
/// </summary>
public sealed record RegistryOperation(
    RegistryResource Resource,
    IReadOnlyList<string> Methods,
    Func<RegistryRoute, IReadOnlyList<AccessScope>> Requires,
    ThrottleCategory? Throttle,
    string MetricsGroup,
    RegistryHandler Handler)
{
    /// <summary>How logs and tests name the row: its methods and resource.</summary>
    public string Name => $"{string.Join('|', Methods)} {Resource}";

    public bool Serves(string method) => Methods.Contains(method, StringComparer.OrdinalIgnoreCase);
}
