using Berth.Core.ArtifactCache;
using Berth.Redis;

namespace Berth.Server.Configuration;

/// <summary>The <c>Berth</c> configuration section.</summary>
public sealed class BerthOptions
{
    public const string Section = "Berth";

    /// <summary>Where blobs, the database and keys live. Relative paths are resolved against the working directory.</summary>
    public string DataPath { get; set; } = "data";

    /// <summary>
    /// How long <c>berth serve</c> waits at start-up for the metadata database and Redis to answer before it gives up
    /// with one line: long enough for services started at the same time (a compose file, a restarted cluster).
    /// </summary>
    public TimeSpan StartupWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Where the keys live that every node serving the same registries must share: the registry token signing key, the
    /// key that encrypts admin passwords in the database, and the management token signing key. Empty means
    /// <c>&lt;data&gt;/keys</c>. Several nodes point this at one folder (a shared mount or identical copies of its
    /// files); the keys are not kept in the database, so a copy of the database alone reveals no password and signs no token.
    /// </summary>
    public string? KeyPath { get; set; }

    /// <summary>
    /// Load balancers whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed (IP addresses or CIDR
    /// networks, e.g. <c>--Berth:TrustedProxies:0=10.0.0.5</c>); empty trusts none. Applied by the hosting pipeline.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    /// <summary>The registry that answers requests whose Host matches no registry's login server.</summary>
    public string DefaultRegistry { get; set; } = "myregistry";

    /// <summary>
    /// A registry's login server is its lower-case name, a dot and this suffix (ACR: azurecr.io). The default keeps a
    /// TLS wildcard (*.acr.localhost) possible, which a bare *.localhost is not. At start the suffix in force is
    /// derived from this and the listen addresses (<see cref="SuffixForListeners"/>), and every registry's login
    /// server follows it, so the login server a client is given always reaches this server.
    /// </summary>
    public string LoginServerSuffix { get; set; } = "acr.localhost";

    /// <summary>Where the default registry sits in the ARM hierarchy the management plane shows.</summary>
    public string DefaultSubscriptionId { get; set; } = "00000000-0000-0000-0000-000000000000";
    public string DefaultResourceGroup { get; set; } = "berth";
    public string DefaultLocation { get; set; } = "local";

    /// <summary>
    /// The host name the Azure CLI and SDKs use for the management plane (ARM) and, with <see cref="SignInHostName"/>,
    /// what the local TLS certificate covers and the az set-up lines name. Management is routed by path, so any host
    /// that reaches the server works; these are the names Berth tells clients to use.
    /// </summary>
    public string ManagementHostName { get; set; } = "management.localhost";

    /// <summary>The host of the ADFS-style sign-in authority (<c>https://&lt;host&gt;/adfs</c>).</summary>
    public string SignInHostName { get; set; } = "login.localhost";

    /// <summary><c>host:port</c> → <c>host</c>; a bare host or <c>[v6]</c> stays as it is.</summary>
    public static string HostWithoutPort(string hostAndPort)
    {
        var value = hostAndPort.Trim();
        if (value.StartsWith('['))
        {
            var end = value.IndexOf(']');
            return end > 0 ? value[1..end] : value;
        }
        var colon = value.LastIndexOf(':');
        return colon > 0 && value.IndexOf(':') == colon ? value[..colon] : value;
    }

    /// <summary>
    /// The suffix login servers get on a server listening on <paramref name="listenUrls"/>. az and the Azure SDKs use a
    /// registry's login server verbatim and only over HTTPS, so it must carry the HTTPS port when that is not 443:
    /// a suffix given with a port is used as given (a load balancer or port mapping may sit in front; <c>:443</c> is
    /// dropped), otherwise the port of the first https listen address is appended. Without an https address the
    /// suffix stays bare: plain-HTTP clients reach the server by its address (<c>127.0.0.1:5000</c>).
    /// </summary>
    public static string SuffixForListeners(string configuredSuffix, IEnumerable<string> listenUrls)
    {
        var suffix = configuredSuffix.Trim().TrimStart('.');
        var host = HostWithoutPort(suffix);
        if (host != suffix)
        {
            return suffix.EndsWith(":443", StringComparison.Ordinal) ? host : suffix;
        }
        var httpsPort = listenUrls
            .SelectMany(u => u.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(u => u.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal))
            .Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps ? uri.Port : (int?)null)
            .FirstOrDefault(p => p is not null);
        return httpsPort is null or 443 or 0 ? suffix : $"{suffix}:{httpsPort}";
    }

    /// <summary>Which metadata provider to use (<c>Berth:Database:Type</c>, <c>Berth:Database:ConnectionString</c>).</summary>
    public DatabaseOptions Database { get; set; } = new();

    /// <summary>Which blob storage provider to use (<c>Berth:Storage:Type</c>).</summary>
    public StorageOptions Storage { get; set; } = new();

    /// <summary>Redis shared by several nodes, for throttling and cache invalidation (<c>Berth:Redis:Configuration</c>, <c>Berth:Redis:KeyPrefix</c>); unset, both stay in memory.</summary>
    public RedisOptions Redis { get; set; } = new();

    /// <summary>Where <c>importImage</c> may fetch from beyond the public internet (<c>Berth:Import:AllowedSources</c>).</summary>
    public ImportOptions Import { get; set; } = new();

    /// <summary>The artifact cache's upstream settings; <c>AllowHttpUpstreams</c> also governs import sources.</summary>
    public Core.ArtifactCache.ArtifactCacheOptions ArtifactCache { get; set; } = new();

    public string LoginServerFor(string registryName) => $"{registryName.ToLowerInvariant()}.{LoginServerSuffix}";

    public string ResolvedDataPath => Path.GetFullPath(DataPath, Directory.GetCurrentDirectory());

    public string ResolvedKeyPath => string.IsNullOrWhiteSpace(KeyPath)
        ? Path.Combine(ResolvedDataPath, "keys")
        : Path.GetFullPath(KeyPath, Directory.GetCurrentDirectory());
}
