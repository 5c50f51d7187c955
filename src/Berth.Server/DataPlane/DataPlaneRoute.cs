using System.Text.RegularExpressions;

namespace Berth.Server.DataPlane;

public enum DataPlaneResource { Base, Catalog, Tags, Manifest, Blob, Upload, Referrers }

/// <summary>
/// A parsed <c>/v2/...</c> path. Repository names contain slashes, so the resource is found from the end of the
/// path: <c>&lt;name&gt;/manifests/&lt;reference&gt;</c>, <c>&lt;name&gt;/blobs/uploads/[id]</c>, and so on.
/// </summary>
public sealed partial record DataPlaneRoute(DataPlaneResource Resource, string Repository, string Argument)
{
    [GeneratedRegex(@"^(?<name>.+)/(?:(?<kind>manifests|blobs|referrers)/(?<arg>[^/]+)|blobs/uploads/(?<upload>[^/]*)|tags/list)$", RegexOptions.CultureInvariant)]
    private static partial Regex ResourcePattern();

    /// <summary>Parses the part of the path after <c>/v2/</c>; null when it names no data-plane resource.</summary>
    public static DataPlaneRoute? Parse(string path)
    {
        if (path.Length == 0) return new DataPlaneRoute(DataPlaneResource.Base, "", "");
        if (path == "_catalog") return new DataPlaneRoute(DataPlaneResource.Catalog, "", "");
        var match = ResourcePattern().Match(path);
        if (!match.Success) return null;
        var name = match.Groups["name"].Value;
        if (match.Groups["upload"].Success) return new DataPlaneRoute(DataPlaneResource.Upload, name, match.Groups["upload"].Value);
        if (!match.Groups["kind"].Success) return new DataPlaneRoute(DataPlaneResource.Tags, name, "");
        var resource = match.Groups["kind"].Value switch
        {
            "manifests" => DataPlaneResource.Manifest,
            "blobs" => DataPlaneResource.Blob,
            _ => DataPlaneResource.Referrers,
        };
        return new DataPlaneRoute(resource, name, match.Groups["arg"].Value);
    }
}
