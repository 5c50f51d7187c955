using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Berth.Server.Configuration;

namespace Berth.Server.Hosting;

/// <summary>
/// Behind a load balancer that terminates TLS, a node sees plain HTTP from the balancer's address. For the addresses
/// listed in <c>Berth:TrustedProxies</c> (IP addresses or CIDR networks) Berth believes <c>X-Forwarded-Proto</c>, so the
/// token realm it names says https, and <c>X-Forwarded-For</c>, so per-address throttling sees each client rather than
/// one balancer. <c>Host</c> is never taken from a header other than Host: the balancer passes it through.
/// Nothing is trusted by default, since anyone could send these headers.
/// </summary>
public static class TrustedProxies
{
    public static ForwardedHeadersOptions? CreateOptions(BerthOptions options)
    {
        if (options.TrustedProxies is not { Length: > 0 } entries) return null;
        var forwarded = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            // Walk back through every trusted hop (a balancer behind a CDN); the first untrusted address is the client.
            ForwardLimit = null,
        };
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        foreach (var entry in entries.Select(e => e.Trim()))
        {
            if (IPAddress.TryParse(entry, out var address)) forwarded.KnownProxies.Add(address);
            else if (System.Net.IPNetwork.TryParse(entry, out var network)) forwarded.KnownIPNetworks.Add(network);
            else throw new InvalidOperationException($"Berth:TrustedProxies entry \"{entry}\" is neither an IP address nor a CIDR network (for example 10.0.0.5 or 10.0.0.0/24).");
        }
        return forwarded;
    }

    /// <summary>Applies <see cref="CreateOptions"/>; first in the pipeline, so that logging, throttling and the realm all see the client.</summary>
    public static void UseTrustedProxies(this WebApplication app)
    {
        if (CreateOptions(app.Services.GetRequiredService<BerthOptions>()) is { } forwarded) app.UseForwardedHeaders(forwarded);
    }
}
