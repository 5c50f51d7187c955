using Berth.Core.Identity;
using Berth.Server.DataPlane;

namespace Berth.Server.Access;

/// <summary>
/// What each data-plane request needs, in one table (reference §1.2). The authorization check, the challenge's
/// <c>scope</c> and the error's <c>detail</c> all come from here; no handler checks permissions itself.
/// </summary>
public static class DataPlaneAccess
{
    /// <summary>The access a request needs; empty for <c>GET /v2/</c>, which only needs a valid identity.</summary>
    public static IReadOnlyList<AccessScope> Required(DataPlaneRoute route, string method)
    {
        var name = route.Repository;
        return route.Resource switch
        {
            DataPlaneResource.Base => [],
            DataPlaneResource.Catalog => [AccessScope.Catalog],
            DataPlaneResource.Tags => [AccessScope.Repository(name, ScopeNames.MetadataRead)],
            DataPlaneResource.Referrers => [AccessScope.Repository(name, ScopeNames.Pull)],
            DataPlaneResource.Manifest or DataPlaneResource.Blob when HttpMethods.IsDelete(method) => [AccessScope.Repository(name, ScopeNames.Delete)],
            DataPlaneResource.Manifest when HttpMethods.IsPut(method) => [AccessScope.Repository(name, ScopeNames.Pull, ScopeNames.Push)],
            DataPlaneResource.Manifest or DataPlaneResource.Blob => [AccessScope.Repository(name, ScopeNames.Pull)],
            // A mount's source needs pull too; UploadHandlers asks for it (or, when it was refused, uploads instead).
            DataPlaneResource.Upload => [AccessScope.Repository(name, ScopeNames.Pull, ScopeNames.Push)],
            _ => [AccessScope.Repository(name, ScopeNames.Pull)],
        };
    }
}
