using Berth.Core.Throttling;
using Berth.Server.DataPlane;

namespace Berth.Server.Throttling;

/// <summary>Which budget a request spends. Reads are GET and HEAD; an upload is part of a push whatever its method.</summary>
public static class ThrottleClassifier
{
    public static ThrottleCategory ForDataPlane(DataPlaneRoute route, string method) => ForDataPlane(route.Resource, method);

    public static ThrottleCategory ForDataPlane(DataPlaneResource resource, string method) => resource switch
    {
        DataPlaneResource.Referrers => ThrottleCategory.Referrers,
        DataPlaneResource.Upload => ThrottleCategory.Write,
        _ when HttpMethods.IsGet(method) || HttpMethods.IsHead(method) => ThrottleCategory.Read,
        _ when HttpMethods.IsDelete(method) => ThrottleCategory.Delete,
        _ => ThrottleCategory.Write,
    };

    /// <summary>
    /// The category of an authorized request from its path alone, without allocating: the access-control hook sees
    /// the request, not the parsed route. Only the resource kinds that change the category are told apart; like
    /// <see cref="DataPlaneRoute.Parse"/>, the resource is read from the end of the path because names contain slashes.
    /// </summary>
    public static ThrottleCategory ForRequest(string method, ReadOnlySpan<char> path) => ForDataPlane(ResourceOf(path), method);

    private static DataPlaneResource ResourceOf(ReadOnlySpan<char> path)
    {
        // <name>/referrers/<digest>, <name>/blobs/uploads/ and <name>/blobs/uploads/<id>
        var last = path.LastIndexOf('/');
        if (last <= 0) return DataPlaneResource.Base;
        var rest = path[..last];
        var secondLast = rest.LastIndexOf('/');
        var segment = rest[(secondLast + 1)..];
        if (segment.SequenceEqual("referrers")) return DataPlaneResource.Referrers;
        if (segment.SequenceEqual("uploads") && secondLast > 0 && rest[..secondLast].EndsWith("/blobs")) return DataPlaneResource.Upload;
        return DataPlaneResource.Manifest;
    }
}
