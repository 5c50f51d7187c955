namespace Berth.Cli.DataPlane;

/// <summary>
/// A registry's data plane as the CLI reaches it. <see cref="LoginServer"/> is the name clients use (the key in
/// the auth files, the <c>Host</c> the server routes by); <see cref="ConnectTo"/> is where the bytes go. Login
/// servers such as <c>myregistry.acr.localhost</c> do not resolve on a default Linux resolver, so when the server's
/// endpoint is known the CLI connects there and names the registry in the <c>Host</c> header: one Berth process
/// serves every registry, routed by Host. A <c>host:port</c> given as the registry name is used as it is.
/// </summary>
public sealed record RegistryTarget(string LoginServer, Uri ConnectTo, string? RegistryName, bool ManagementAvailable)
{
    /// <summary>True when <paramref name="name"/> is an address (<c>127.0.0.1:5000</c>, <c>localhost:5000</c>, <c>[::1]:5000</c>) rather than a registry name.</summary>
    public static bool IsAddress(string name) => name.Contains(':') || IPAddress.TryParse(name, out _) || name.Equals("localhost", StringComparison.OrdinalIgnoreCase);

    public static async Task<RegistryTarget> ResolveAsync(CommandContext context, string name, bool credentialsGiven, string? suffixOption = null)
    {
        var (endpoint, suffix) = ServerLocator.LocateEndpointOnly(context);
        if (IsAddress(name))
        {
            var scheme = endpoint is not null && string.Equals(endpoint.Authority, name, StringComparison.OrdinalIgnoreCase) ? endpoint.Scheme : "http";
            return new RegistryTarget(name.ToLowerInvariant(), new Uri($"{scheme}://{name}/"), null, false);
        }
        if (name.IndexOf('.') is var dot and > 0)
        {
            context.Warn($"The login server endpoint suffix '{name[dot..]}' is automatically omitted.");
            name = name[..dot];
        }

        ServerConnection? connection = null;
        try
        {
            connection = context.Management.Connection;
        }
        catch (CliException error) when (credentialsGiven || endpoint is not null)
        {
            // az falls back to "<name><suffix>" when it cannot ask ARM; with -u/-p that is all a data-plane command needs.
            context.DebugLine($"No management access ({error.Message}); using the login server built from the name.");
        }
        if (connection is not null)
        {
            var path = await context.Management.RegistryPathAsync(name, null);
            var registry = await context.Management.SendAsync(HttpMethod.Get, path, ManagementClient.RegistryApiVersion);
            var loginServer = ServerLocator.FirstString(registry?["properties"], "loginServer")
                ?? throw new CliException($"The registry '{name}' has no loginServer.");
            return new RegistryTarget(loginServer, connection.Endpoint, name, true);
        }
        var builtSuffix = (suffixOption ?? suffix ?? "acr.localhost").TrimStart('.');
        var built = $"{name.ToLowerInvariant()}.{builtSuffix}";
        return new RegistryTarget(built, endpoint ?? new Uri($"https://{built}/"), name, false);
    }

    /// <summary>The Host header to send: the login server whenever the connection goes elsewhere.</summary>
    public string? HostHeader => string.Equals(ConnectTo.Authority, LoginServer, StringComparison.OrdinalIgnoreCase) ? null : LoginServer;
}
