using System.Net;
using System.Net.Sockets;

namespace Berth.Core.Outbound;

/// <summary>A server-side request the guard refused, with a message that names the setting that would allow it.</summary>
public sealed class OutboundRequestRefusedException(string message) : Exception(message);

/// <summary>
/// Where Berth may send the requests it makes on a user's behalf: webhooks, artifact cache upstreams and import sources
/// each hold one guard, built from their own settings. A user who can aim Berth at any address could make it reach what
/// only the server can (its own loopback services, the cloud's metadata address at 169.254.169.254, the private
/// network), so loopback, private, shared, link-local, multicast and unspecified addresses are refused unless the
/// configuration lists the destination. Entries are <c>host:port</c> (as written in the URL, or the address it resolves
/// to), or a bare host for every port. The check runs when a connection is made, on the addresses actually dialled, so
/// a name that resolves differently later (DNS rebinding), a redirect or a token realm gains nothing.
/// </summary>
public sealed class DestinationGuard
{
    /// <summary>The one list of upstreams that may be reached over plain HTTP, shared by import and the artifact cache.</summary>
    public const string AllowHttpUpstreamsSetting = "Berth:ArtifactCache:AllowHttpUpstreams";

    private readonly HashSet<string> _allowed;
    private readonly HashSet<string>? _allowedHttp;
    private readonly string _allowedSetting;

    /// <param name="allowedDestinations">Destinations that may sit on restricted addresses.</param>
    /// <param name="allowedHttpDestinations">
    /// The only destinations plain HTTP may reach (and, being named by the operator, they may sit on restricted addresses
    /// too); null when plain HTTP may go wherever HTTPS may, as a webhook's may.
    /// </param>
    /// <param name="allowedDestinationsSetting">The setting that lists <paramref name="allowedDestinations"/>, named in refusals.</param>
    public DestinationGuard(IEnumerable<string> allowedDestinations, IEnumerable<string>? allowedHttpDestinations, string allowedDestinationsSetting)
    {
        _allowed = Normalize(allowedDestinations);
        _allowedHttp = allowedHttpDestinations is null ? null : Normalize(allowedHttpDestinations);
        _allowedSetting = allowedDestinationsSetting;
    }

    /// <summary>Whether plain HTTP may be used to reach <paramref name="host"/>:<paramref name="port"/>.</summary>
    public bool AllowsHttp(string host, int port) => _allowedHttp is null || Listed(_allowedHttp, host, port);

    /// <summary>
    /// The addresses a connection to <paramref name="host"/>:<paramref name="port"/> over <paramref name="scheme"/> may
    /// use, resolved now; refuses with the reason and the setting to change when there is none. A name that does not
    /// resolve throws the resolver's <see cref="SocketException"/>.
    /// </summary>
    public async Task<IPAddress[]> ResolveAsync(string scheme, string host, int port, CancellationToken cancellationToken)
    {
        host = host.Trim('[', ']');
        var authority = Authority(host, port);
        if (scheme == Uri.UriSchemeHttp && !AllowsHttp(host, port))
            throw new OutboundRequestRefusedException(
                $"plain HTTP to {authority} is refused; use HTTPS, or list \"{authority}\" in {AllowHttpUpstreamsSetting} to allow it");

        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var listed = Listed(_allowed, host, port) || (_allowedHttp is not null && Listed(_allowedHttp, host, port));
        var allowed = addresses.Where(a => listed || WhyRefused(a) is null || Listed(_allowed, a.ToString(), port)).ToArray();
        if (allowed.Length > 0) return allowed;
        var first = addresses.FirstOrDefault();
        var what = first is null ? "resolves to no address"
            : literal is not null ? $"is {WhyRefused(first)}"
            : $"resolves to {string.Join(", ", addresses.Select(a => a.ToString()))}, {WhyRefused(first)}";
        throw new OutboundRequestRefusedException(
            $"{authority} {what}: Berth refuses loopback, private and link-local destinations unless configuration lists them; list \"{authority}\" in {_allowedSetting} to allow it");
    }

    /// <summary>
    /// An HTTP handler whose every connection goes through <see cref="ResolveAsync"/>. It never uses a proxy from the
    /// environment (the guard must see the real destination) and follows redirects only when asked to.
    /// </summary>
    public SocketsHttpHandler CreateHandler(bool followRedirects) => new()
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = followRedirects,
        MaxAutomaticRedirections = 5,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(30),
        ConnectCallback = ConnectAsync,
    };

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var scheme = context.InitialRequestMessage.RequestUri?.Scheme ?? Uri.UriSchemeHttps;
        var addresses = await ResolveAsync(scheme, context.DnsEndPoint.Host, context.DnsEndPoint.Port, cancellationToken);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Why a request on a user's behalf may not reach the address (a short phrase), or null when it is public.</summary>
    public static string? WhyRefused(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address)) return "a loopback address";
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return "an unspecified address";
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.IsIPv6LinkLocal) return "a link-local address";
            if (address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal) return "a private address";
            if (address.IsIPv6Multicast) return "a multicast address";
            return null;
        }
        var b = address.GetAddressBytes();
        return b[0] switch
        {
            10 => "a private address",
            172 when b[1] is >= 16 and <= 31 => "a private address",
            192 when b[1] == 168 => "a private address",
            169 when b[1] == 254 => "a link-local address",
            100 when b[1] is >= 64 and <= 127 => "a shared (carrier-grade NAT) address",
            0 => "an unspecified address",
            >= 224 => "a multicast, broadcast or reserved address",
            _ => null,
        };
    }

    private static string Authority(string host, int port) =>
        (host.Contains(':') ? $"[{host}]" : host).ToLowerInvariant() + ":" + port;

    private static bool Listed(HashSet<string> entries, string host, int port)
    {
        var authority = Authority(host.Trim('[', ']'), port);
        return entries.Contains(authority) || entries.Contains(authority[..authority.LastIndexOf(':')]);
    }

    private static HashSet<string> Normalize(IEnumerable<string> entries) =>
        new(entries.Where(e => !string.IsNullOrWhiteSpace(e)).Select(e => e.Trim().ToLowerInvariant()), StringComparer.Ordinal);
}
