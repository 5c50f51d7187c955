using System.Net;
using System.Net.Sockets;

namespace Berth.Core.Webhooks;

/// <summary>
/// Refuses webhook destinations on loopback, private, link-local (and other non-public) addresses unless
/// <see cref="WebhookOptions.AllowedDestinations"/> lists the <c>host:port</c>. Checked when a webhook is saved (for
/// a clear error) and again when each request connects, against every address the name resolves to at that moment,
/// and the connection goes to an address that was checked, so a name re-pointed after the check (DNS rebinding) gains nothing.
/// </summary>
public sealed class WebhookDestinationGuard
{
    private readonly HashSet<(string Host, int Port)> _allowed;

    public WebhookDestinationGuard(IOptions<WebhookOptions> options)
    {
        _allowed = [];
        foreach (var entry in options.Value.AllowedDestinations)
        {
            if (TryParseDestination(entry, out var host, out var port)) _allowed.Add((host, port));
        }
    }

    /// <summary><c>host:port</c>, <c>[v6]:port</c>; the host lower-cased and without brackets.</summary>
    public static bool TryParseDestination(string entry, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = entry.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(entry.AsSpan(colon + 1), out port) || port is < 1 or > 65535) return false;
        host = Normalize(entry[..colon]);
        return host.Length > 0 && Uri.CheckHostName(host) != UriHostNameType.Unknown;
    }

    public bool IsListed(string host, int port) => _allowed.Contains((Normalize(host), port));

    /// <summary>Why the address may not be a destination (a short phrase), or null when it is a public address.</summary>
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
            >= 224 => "a multicast or reserved address",
            _ => null,
        };
    }

    /// <summary>
    /// At save time: refuses a URI that is not absolute http(s), or whose host is (or now resolves to) a refused
    /// address. A name that does not resolve yet is accepted; each delivery checks again.
    /// </summary>
    public async Task EnsureAllowedAsync(Uri uri, CancellationToken cancellationToken)
    {
        if (IsListed(uri.Host, uri.Port)) return;
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(Normalize(uri.Host), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(uri.DnsSafeHost, cancellationToken);
        }
        catch (SocketException)
        {
            return;
        }
        Check(uri.Host, uri.Port, addresses);
    }

    /// <summary>At connect time: every address the name resolves to now, all of them allowed, or a refusal.</summary>
    public async Task<IPAddress[]> ResolveAllowedAsync(string host, int port, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(Normalize(host), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        if (!IsListed(host, port)) Check(host, port, addresses);
        return addresses;
    }

    private static void Check(string host, int port, IPAddress[] addresses)
    {
        foreach (var address in addresses)
        {
            if (WhyRefused(address) is { } reason)
                throw new WebhookException(WebhookErrorCode.DestinationRefused,
                    $"The webhook destination {host}:{port} is {reason} ({address}); Berth refuses loopback, private and link-local destinations " +
                    $"unless {WebhookOptions.Section}:AllowedDestinations lists \"{host}:{port}\".");
        }
    }

    private static string Normalize(string host) => host.Trim('[', ']').ToLowerInvariant();
}
