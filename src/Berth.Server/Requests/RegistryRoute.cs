using System.Text.RegularExpressions;

namespace Berth.Server.Requests;

/// <summary>What a registry request addresses: the resources of <c>/v2</c> (OCI Distribution) and <c>/acr/v1</c> (ACR's repository API).</summary>
public enum RegistryResource
{
    Base,
    Catalog,
    Tags,
    Manifest,
    Blob,

    /// <summary><c>POST /v2/&lt;name&gt;/blobs/uploads/</c>: a new upload, a monolithic one or a mount.</summary>
    UploadStart,

    /// <summary><c>/v2/&lt;name&gt;/blobs/uploads/&lt;session&gt;</c>: the steps of one upload.</summary>
    UploadSession,
    Referrers,
    AcrCatalog,
    AcrRepository,
    AcrTags,
    AcrTag,
    AcrManifests,
    AcrManifest,

    /// <summary><c>/acr/v1/_deleted/_catalog</c>: repositories holding soft-deleted content.</summary>
    AcrDeletedCatalog,

    /// <summary><c>/acr/v1/_deleted/&lt;name&gt;/_manifests</c>.</summary>
    AcrDeletedManifests,

    /// <summary><c>/acr/v1/_deleted/&lt;name&gt;/_tags</c>.</summary>
    AcrDeletedTags,

    /// <summary><c>/acr/v1/_deleted/&lt;name&gt;/_manifests/&lt;digest&gt;</c>: POST restores it.</summary>
    AcrDeletedManifest,
}

/// <summary>
/// A parsed registry path: the one place a <c>/v2/...</c> or <c>/acr/v1/...</c> path is taken apart. Repository names
/// contain slashes, so the resource is found from the end of the path (<c>&lt;name&gt;/manifests/&lt;reference&gt;</c>,
/// <c>&lt;name&gt;/_tags/&lt;tag&gt;</c>, ...). <see cref="Argument"/> is the reference, digest, tag or upload session, or empty.
/// </summary>
public sealed partial record RegistryRoute(RegistryResource Resource, string Repository, string Argument)
{
    public const string DataPlanePrefix = "/v2";
    public const string AcrApiPrefix = "/acr/v1";

    [GeneratedRegex(@"^(?<name>.+)/(?:(?<kind>manifests|blobs|referrers)/(?<arg>[^/]+)|blobs/uploads/(?<upload>[^/]*)|tags/list)$", RegexOptions.CultureInvariant)]
    private static partial Regex DataPlanePattern();

    [GeneratedRegex(@"^(?<name>.+?)(?:/(?<kind>_tags|_manifests)(?:/(?<key>[^/]+))?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex AcrApiPattern();

    /// <summary>Whether the route names a repository (every resource but the base endpoint and the catalogs).</summary>
    public bool HasRepository => Resource is not (RegistryResource.Base or RegistryResource.Catalog or RegistryResource.AcrCatalog or RegistryResource.AcrDeletedCatalog);

    /// <summary>The route of a request path; null when the path is under neither API or names no resource of it.</summary>
    public static RegistryRoute? Parse(PathString path)
    {
        if (path.StartsWithSegments(DataPlanePrefix, out var rest)) return ParseDataPlane(Trim(rest));
        if (path.StartsWithSegments(AcrApiPrefix, out rest)) return ParseAcrApi(Trim(rest));
        return null;
    }

    private static string Trim(PathString rest) => rest.HasValue && rest.Value!.Length > 1 ? rest.Value[1..] : "";

    private static RegistryRoute? ParseDataPlane(string path)
    {
        if (path.Length == 0) return new RegistryRoute(RegistryResource.Base, "", "");
        if (path == "_catalog") return new RegistryRoute(RegistryResource.Catalog, "", "");
        var match = DataPlanePattern().Match(path);
        if (!match.Success) return null;
        var name = match.Groups["name"].Value;
        if (match.Groups["upload"].Success)
        {
            var session = match.Groups["upload"].Value;
            return new RegistryRoute(session.Length == 0 ? RegistryResource.UploadStart : RegistryResource.UploadSession, name, session);
        }
        if (!match.Groups["kind"].Success) return new RegistryRoute(RegistryResource.Tags, name, "");
        var resource = match.Groups["kind"].Value switch
        {
            "manifests" => RegistryResource.Manifest,
            "blobs" => RegistryResource.Blob,
            _ => RegistryResource.Referrers,
        };
        return new RegistryRoute(resource, name, match.Groups["arg"].Value);
    }

    /// <summary>Soft-deleted content lives under <c>/acr/v1/_deleted/</c>; no repository name starts with an underscore.</summary>
    private const string DeletedPrefix = "_deleted/";

    [GeneratedRegex(@"^(?<name>.+?)/(?<kind>_tags|_manifests)(?:/(?<key>[^/]+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex DeletedPattern();

    private static RegistryRoute? ParseDeleted(string path)
    {
        if (path == "_catalog") return new RegistryRoute(RegistryResource.AcrDeletedCatalog, "", "");
        var match = DeletedPattern().Match(path);
        if (!match.Success) return null;
        var key = match.Groups["key"].Success ? match.Groups["key"].Value : "";
        var resource = (match.Groups["kind"].Value, key.Length > 0) switch
        {
            ("_tags", false) => RegistryResource.AcrDeletedTags,
            ("_manifests", false) => RegistryResource.AcrDeletedManifests,
            ("_manifests", true) => RegistryResource.AcrDeletedManifest,
            _ => (RegistryResource?)null,
        };
        return resource is { } found ? new RegistryRoute(found, match.Groups["name"].Value, key) : null;
    }

    private static RegistryRoute? ParseAcrApi(string path)
    {
        if (path == "_catalog") return new RegistryRoute(RegistryResource.AcrCatalog, "", "");
        if (path.StartsWith(DeletedPrefix, StringComparison.Ordinal)) return ParseDeleted(path[DeletedPrefix.Length..]);
        var match = AcrApiPattern().Match(path);
        if (!match.Success) return null;
        var key = match.Groups["key"].Success ? match.Groups["key"].Value : "";
        var resource = (match.Groups["kind"].Value, key.Length > 0) switch
        {
            ("_tags", false) => RegistryResource.AcrTags,
            ("_tags", true) => RegistryResource.AcrTag,
            ("_manifests", false) => RegistryResource.AcrManifests,
            ("_manifests", true) => RegistryResource.AcrManifest,
            _ => RegistryResource.AcrRepository,
        };
        return new RegistryRoute(resource, match.Groups["name"].Value, key);
    }
}
