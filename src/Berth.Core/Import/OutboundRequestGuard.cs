using System.Net;
using System.Net.Sockets;

namespace Berth.Core.Import;

/// <summary>A server-side request the guard refused, with a message that names the setting that would allow it.</summary>
public sealed class OutboundRequestRefusedException(string message) : Exception(message);

/// <summary>
/// Where Berth may send requests it makes on a user's behalf (an import source today). A user who can aim Berth at any
/// address could make it reach what only the server can (its own loopback services, the cloud's metadata address at
/// 169.254.169.254, the private network), so loopback, private, shared, link-local, multicast and unspecified
/// addresses are refused unless <paramref name="allowedDestinations"/> (or <paramref name="allowedHttpDestinations"/>) lists
/// the destination, and plain HTTP is refused unless <paramref name="allowedHttpDestinations"/> lists it. Entries are <c>host:port</c> (as written in the URL, or the
/// address it resolves to), or a bare host for every port. The check runs when a connection is made, on the address
/// actually dialled, so a name that resolves differently later (DNS rebinding) or a redirect gains nothing.
/// </summary>
public sealed class OutboundRequestGuard(IEnumerable<string> allowedDestinations, IEnumerable<string> allowedHttpDestinations)
{
    private readonly HashSet<string> _allowed = Normalize(allowedDestinations);
    private readonly HashSet<string> _allowedHttp = Normalize(allowedHttpDestinations);

    /// <summary>The settings the refusals name, so an operator knows what to change.</summary>
    public string AllowedDestinationsSetting { get; init; } = "Berth:Import:AllowedSources";
    public string AllowedHttpSetting { get; init; } = AllowHttpUpstreamsSetting;

    /// <summary>The one list of upstreams that may be reached over plain HTTP, shared by import and the artifact cache.</summary>
    public const string AllowHttpUpstreamsSetting = "Berth:ArtifactCache:AllowHttpUpstreams";

    /// <summary>Whether plain HTTP may be used to reach <paramref name="host"/>:<paramref name="port"/>.</summary>
    public bool AllowsHttp(string host, int port) => Listed(_allowedHttp, host, port);

    /// <summary>
    /// The address to connect to for <paramref name="host"/>:<paramref name="port"/> over <paramref name="scheme"/>:
    /// the first one the rules allow; refuses with the reason otherwise.
    /// </summary>
    public async Task<IPAddress> ResolveAsync(string scheme, string host, int port, CancellationToken cancellationToken)
    {
        var authority = Authority(host, port);
        if (scheme == Uri.UriSchemeHttp && !AllowsHttp(host, port))
            throw new OutboundRequestRefusedException(
                $"plain HTTP to {authority} is refused; use HTTPS, or list \"{authority}\" in {AllowedHttpSetting} to allow it");

        IPAddress[] addresses;
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try { addresses = await Dns.GetHostAddressesAsync(host, cancellationToken); }
            catch (SocketException error) { throw new OutboundRequestRefusedException($"the host {host} could not be resolved: {error.Message}"); }
        }
        foreach (var address in addresses)
        {
            // An upstream listed for plain HTTP was named by the operator too, so it may sit on such an address as well
            // (the artifact cache gives the list that meaning).
            if (!IsRestricted(address) || Listed(_allowed, host, port) || Listed(_allowed, address.ToString(), port) || AllowsHttp(host, port)) return address;
        }
        var shown = addresses.Length == 0 ? "no address" : string.Join(", ", addresses.Select(a => a.ToString()));
        throw new OutboundRequestRefusedException(
            $"{authority} resolves to {shown}, a loopback, private or link-local destination, which is refused; list \"{authority}\" in {AllowedDestinationsSetting} to allow it");
    }

    /// <summary>
    /// An HTTP handler whose every connection (redirects and token realms included) goes through <see cref="ResolveAsync"/>.
    /// It never uses a proxy from the environment: the guard must see the real destination.
    /// </summary>
    public SocketsHttpHandler CreateHandler() => new()
    {
        UseProxy = false,
        AllowAutoRedirect = true,
        MaxAutomaticRedirections = 5,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(30),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var scheme = context.InitialRequestMessage.RequestUri?.Scheme ?? Uri.UriSchemeHttps;
            var address = await ResolveAsync(scheme, context.DnsEndPoint.Host, context.DnsEndPoint.Port, cancellationToken);
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>Loopback, private (RFC 1918, unique local), shared (RFC 6598), link-local, multicast, unspecified or broadcast.</summary>
    public static bool IsRestricted(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
            return true;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast;
        }
        var b = address.GetAddressBytes();
        return b[0] == 0 || b[0] == 10 || b[0] == 127
            || (b[0] == 172 && (b[1] & 0xF0) == 16)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && (b[1] & 0xC0) == 64)
            || b[0] >= 224;
    }

    private static string Authority(string host, int port) =>
        (host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host).ToLowerInvariant() + ":" + port;

    private static bool Listed(HashSet<string> entries, string host, int port)
    {
        var authority = Authority(host, port);
        return entries.Contains(authority) || entries.Contains(authority[..authority.LastIndexOf(':')]);
    }

    private static HashSet<string> Normalize(IEnumerable<string> entries) =>
        new(entries.Where(e => !string.IsNullOrWhiteSpace(e)).Select(e => e.Trim().ToLowerInvariant()), StringComparer.Ordinal);
}
