using System.Net;
using System.Net.Sockets;

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

    /// <summary>
    /// Whether an address is one a request on a user's behalf may reach without being listed: not loopback, private
    /// (RFC 1918, unique-local), shared (RFC 6598), link-local, unspecified or multicast.
    /// </summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.None)) return false;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes6 = address.GetAddressBytes();
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || (bytes6[0] & 0xfe) == 0xfc);
        }
        var b = address.GetAddressBytes();
        return !(b[0] == 10 || b[0] == 127 || b[0] == 0 || b[0] >= 224
            || (b[0] == 172 && (b[1] & 0xf0) == 16)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && (b[1] & 0xc0) == 64));
    }
}
