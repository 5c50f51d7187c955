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
