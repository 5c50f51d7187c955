namespace Berth.Core.ArtifactCache;

/// <summary>The <c>Berth:ArtifactCache</c> configuration section.</summary>
public sealed class ArtifactCacheOptions
{
    public const string Section = "Berth:ArtifactCache";

    /// <summary>
    /// How long a cached tag is served without asking upstream whether it moved. After that, the next pull of the tag
    /// asks upstream (a HEAD, which Docker Hub does not count against its pull limit) and follows the tag if it moved.
    /// ACR's cache shows a re-pushed upstream tag within about five minutes; the default is the same.
    /// </summary>
    public TimeSpan TagRefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Upstreams (<c>host:port</c>) that may be reached over plain HTTP and may sit on loopback, private or link-local
    /// addresses. Every other upstream must be HTTPS on a public address: an upstream is a request the server makes on a
    /// user's behalf, and must not reach into the network it runs in unless its operator said so.
    /// </summary>
    public List<string> AllowHttpUpstreams { get; set; } = [];

    /// <summary>How long an upstream may take to answer a request's headers (a blob's body may then take as long as it needs).</summary>
    public TimeSpan UpstreamTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an upstream that answered 429 without <c>Retry-After</c> is left alone.</summary>
    public TimeSpan ThrottledBackOff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a node keeps a registry's cache rules before reading them again (changes made through this node apply at once).</summary>
    public TimeSpan RuleCacheLifetime { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Bad artifact cache settings stop the process at start-up with a message naming the setting.</summary>
internal sealed class ArtifactCacheOptionsValidator : IValidateOptions<ArtifactCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, ArtifactCacheOptions options)
    {
        if (options.TagRefreshInterval < TimeSpan.Zero || options.TagRefreshInterval > TimeSpan.FromDays(7))
            return ValidateOptionsResult.Fail($"Berth:ArtifactCache:TagRefreshInterval ({options.TagRefreshInterval}) must lie between 00:00:00 and 7.00:00:00 (for example 00:05:00).");
        if (options.UpstreamTimeout <= TimeSpan.Zero)
            return ValidateOptionsResult.Fail($"Berth:ArtifactCache:UpstreamTimeout ({options.UpstreamTimeout}) must be positive (for example 00:00:30).");
        foreach (var entry in options.AllowHttpUpstreams)
        {
            if (!Upstream.UpstreamEndpoint.TryParseHostPort(entry, out _, out var port) || port is null)
                return ValidateOptionsResult.Fail($"Berth:ArtifactCache:AllowHttpUpstreams entry \"{entry}\" must be host:port (for example 127.0.0.1:5001).");
        }
        return ValidateOptionsResult.Success;
    }
}
