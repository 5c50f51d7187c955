namespace Berth.Server.Configuration;

/// <summary>The <c>Berth:Import</c> section.</summary>
public sealed class ImportOptions
{
    /// <summary>
    /// Import sources on loopback, private or link-local addresses that are allowed anyway (<c>host:port</c>, or a bare
    /// host for every port), e.g. <c>--Berth:Import:AllowedSources:0=registry.internal:5000</c>. Everything else on such
    /// addresses is refused: an import is a request the server makes wherever its caller points it.
    /// </summary>
    public string[] AllowedSources { get; set; } = [];
}

/// <summary>The <c>Berth:ArtifactCache</c> section.</summary>
public sealed class ArtifactCacheOptions
{
    /// <summary>
    /// Upstream registries that may be reached over plain HTTP (<c>host:port</c>), and may sit on loopback, private or
    /// link-local addresses; every other upstream (and import source) is reached over HTTPS only. One list for the
    /// artifact cache and import, as both fetch from registries.
    /// </summary>
    public string[] AllowHttpUpstreams { get; set; } = [];
}
