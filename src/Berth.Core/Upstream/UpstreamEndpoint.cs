namespace Berth.Core.Upstream;

/// <summary>A registry Berth talks to as a client: its host (with the port, if any) and the scheme it is reached by.</summary>
public sealed record UpstreamEndpoint(string Authority, bool PlainHttp)
{
    public Uri BaseUri => new($"{(PlainHttp ? "http" : "https")}://{Authority}/");

    public override string ToString() => Authority;

    /// <summary>
    /// A registry's login server as users name it, mapped to where its API lives: Docker Hub's images are named
    /// <c>docker.io/...</c> but served by <c>registry-1.docker.io</c>.
    /// </summary>
    public static string ApiAuthority(string loginServer) =>
        string.Equals(loginServer, "docker.io", StringComparison.OrdinalIgnoreCase) || string.Equals(loginServer, "index.docker.io", StringComparison.OrdinalIgnoreCase)
            ? "registry-1.docker.io"
            : loginServer.ToLowerInvariant();

    /// <summary><c>host</c>, <c>host:port</c> or <c>[v6]:port</c>; false when it is none of these.</summary>
    public static bool TryParseHostPort(string value, out string host, out int? port)
    {
        host = "";
        port = null;
        if (string.IsNullOrWhiteSpace(value) || value.Contains('/') || value.Contains('@')) return false;
        if (!Uri.TryCreate($"http://{value}/", UriKind.Absolute, out var uri) || uri.UserInfo.Length > 0) return false;
        host = uri.IdnHost.Trim('[', ']');
        var explicitPort = value.EndsWith($":{uri.Port}", StringComparison.Ordinal);
        port = explicitPort ? uri.Port : null;
        return host.Length > 0;
    }
}
