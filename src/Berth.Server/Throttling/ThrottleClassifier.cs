using Berth.Core.Throttling;
using Berth.Server.DataPlane;

namespace Berth.Server.Throttling;

/// <summary>
/// Which budget a request spends. Reads are GET and HEAD. An upload session is one write, spent when it starts:
/// its chunks, status checks and completion are the same operation (and bandwidth, not a count, is what they cost).
/// </summary>
public static class ThrottleClassifier
{
    /// <summary>The category, or null for a request inside an upload session, which is not counted again.</summary>
    public static ThrottleCategory? ForDataPlane(DataPlaneRoute route, string method) =>
        route.Resource == DataPlaneResource.Upload && route.Argument.Length > 0 ? null : ForDataPlane(route.Resource, method);

    public static ThrottleCategory ForDataPlane(DataPlaneResource resource, string method) => resource switch
    {
        DataPlaneResource.Referrers => ThrottleCategory.Referrers,
        DataPlaneResource.Upload => ThrottleCategory.Write,
        _ when HttpMethods.IsGet(method) || HttpMethods.IsHead(method) => ThrottleCategory.Read,
        _ when HttpMethods.IsDelete(method) => ThrottleCategory.Delete,
        _ => ThrottleCategory.Write,
    };

    /// <summary>
    /// <see cref="ForDataPlane(DataPlaneRoute, string)"/> from the path alone, without allocating: the access-control
    /// hook sees the request, not the parsed route. Only the resource kinds that change the category are told apart;
    /// like <see cref="DataPlaneRoute.Parse"/>, the resource is read from the end of the path because names contain slashes.
    /// </summary>
    public static ThrottleCategory? ForRequest(string method, ReadOnlySpan<char> path)
    {
        // <name>/referrers/<digest>, <name>/blobs/uploads/ and <name>/blobs/uploads/<session>
        var last = path.LastIndexOf('/');
        if (last <= 0) return ForDataPlane(DataPlaneResource.Base, method);
        var rest = path[..last];
        var secondLast = rest.LastIndexOf('/');
        var segment = rest[(secondLast + 1)..];
        if (segment.SequenceEqual("referrers")) return ThrottleCategory.Referrers;
        if (segment.SequenceEqual("uploads") && secondLast > 0 && rest[..secondLast].EndsWith("/blobs"))
            return last == path.Length - 1 ? ThrottleCategory.Write : null;
        return ForDataPlane(DataPlaneResource.Manifest, method);
    }
}
