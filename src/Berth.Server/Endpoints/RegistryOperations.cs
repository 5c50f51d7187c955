using Berth.Server.AcrApi;
using Berth.Server.DataPlane;
using Berth.Server.Requests;

namespace Berth.Server.Endpoints;

/// <summary>
/// Every registry operation, on <c>/v2</c> and <c>/acr/v1</c> alike, one row per resource and method (reference §1.2
/// for the scopes): the handler, the access it needs, the budget it spends and its metrics group. Adding an endpoint is
/// adding a row. The access step, the throttle, metrics and audit read the row the request resolved to.
/// </summary>
public static class RegistryOperations
{
    private static readonly string[] Read = [HttpMethods.Get, HttpMethods.Head];
    private static readonly string[] Get = [HttpMethods.Get];
    private static readonly string[] Put = [HttpMethods.Put];
    private static readonly string[] Post = [HttpMethods.Post];
    private static readonly string[] Patch = [HttpMethods.Patch];
    private static readonly string[] Delete = [HttpMethods.Delete];

    private static IReadOnlyList<AccessScope> Nothing(RegistryRoute route) => [];
    private static IReadOnlyList<AccessScope> Catalog(RegistryRoute route) => [AccessScope.Catalog];
    private static IReadOnlyList<AccessScope> Pull(RegistryRoute route) => [AccessScope.Repository(route.Repository, ScopeNames.Pull)];
    private static IReadOnlyList<AccessScope> PullPush(RegistryRoute route) => [AccessScope.Repository(route.Repository, ScopeNames.Pull, ScopeNames.Push)];
    private static IReadOnlyList<AccessScope> Remove(RegistryRoute route) => [AccessScope.Repository(route.Repository, ScopeNames.Delete)];
    private static IReadOnlyList<AccessScope> MetadataRead(RegistryRoute route) => [AccessScope.Repository(route.Repository, ScopeNames.MetadataRead)];
    private static IReadOnlyList<AccessScope> MetadataWrite(RegistryRoute route) => [AccessScope.Repository(route.Repository, ScopeNames.MetadataWrite)];
    private static IReadOnlyList<AccessScope> DeletedCatalog(RegistryRoute route) => [AccessScope.DeletedCatalog];
    private static IReadOnlyList<AccessScope> DeletedRead(RegistryRoute route) => [AccessScope.Repository(route.Repository, ScopeNames.DeletedRead)];
    private static IReadOnlyList<AccessScope> DeletedRestore(RegistryRoute route) =>
        [AccessScope.Repository(route.Repository, ScopeNames.DeletedRead, ScopeNames.DeletedRestore)];

    // An upload session is one write, spent when it starts: its chunks, status checks and completion are the same
    // operation (and bandwidth, not a count, is what they cost), so its steps spend nothing.
    public static IReadOnlyList<RegistryOperation> All { get; } =
    [
        new(RegistryResource.Base, Read, Nothing, ThrottleCategory.Read, "v2_base", (context, _) => DiscoveryHandlers.BaseAsync(context)),
        new(RegistryResource.Catalog, Read, Catalog, ThrottleCategory.Read, "catalog", DiscoveryHandlers.CatalogAsync),
        new(RegistryResource.Tags, Read, MetadataRead, ThrottleCategory.Read, "tags", (context, r) => DiscoveryHandlers.TagsAsync(context, r.Repository)),
        new(RegistryResource.Referrers, Read, Pull, ThrottleCategory.Referrers, "referrers", (context, r) => DiscoveryHandlers.ReferrersAsync(context, r.Repository, r.Argument)),
        new(RegistryResource.Manifest, Read, Pull, ThrottleCategory.Read, "manifest", ManifestHandlers.GetAsync),
        new(RegistryResource.Manifest, Put, PullPush, ThrottleCategory.Write, "manifest", (context, r) => ManifestHandlers.PutAsync(context, r.Repository, r.Argument)),
        new(RegistryResource.Manifest, Delete, Remove, ThrottleCategory.Delete, "manifest", ManifestHandlers.DeleteAsync),
        new(RegistryResource.Blob, Read, Pull, ThrottleCategory.Read, "blob", BlobHandlers.GetAsync),
        new(RegistryResource.Blob, Delete, Remove, ThrottleCategory.Delete, "blob", (context, r) => BlobHandlers.DeleteAsync(context, r.Repository, r.Argument)),
        // A mount's source needs pull too; the handler challenges for it (or quietly uploads instead) itself.
        new(RegistryResource.UploadStart, Post, PullPush, ThrottleCategory.Write, "upload", UploadHandlers.StartAsync),
        new(RegistryResource.UploadSession, Get, PullPush, null, "upload", (context, r) => UploadHandlers.StatusAsync(context, r.Repository, r.Argument)),
        new(RegistryResource.UploadSession, Patch, PullPush, null, "upload", (context, r) => UploadHandlers.PatchAsync(context, r.Repository, r.Argument)),
        new(RegistryResource.UploadSession, Put, PullPush, null, "upload", (context, r) => UploadHandlers.PutAsync(context, r.Repository, r.Argument)),
        new(RegistryResource.UploadSession, Delete, PullPush, null, "upload", (context, r) => UploadHandlers.CancelAsync(context, r.Repository, r.Argument)),

        new(RegistryResource.AcrCatalog, Get, Catalog, ThrottleCategory.Read, "acr", DiscoveryHandlers.CatalogAsync),
        new(RegistryResource.AcrRepository, Get, MetadataRead, ThrottleCategory.Read, "acr", AcrApiHandlers.GetRepositoryAsync),
        new(RegistryResource.AcrRepository, Patch, MetadataWrite, ThrottleCategory.Write, "acr", AcrApiHandlers.UpdateAttributesAsync),
        new(RegistryResource.AcrRepository, Delete, Remove, ThrottleCategory.Delete, "acr", AcrApiHandlers.DeleteRepositoryAsync),
        new(RegistryResource.AcrTags, Get, MetadataRead, ThrottleCategory.Read, "acr", AcrApiHandlers.ListTagsAsync),
        new(RegistryResource.AcrTag, Get, MetadataRead, ThrottleCategory.Read, "acr", AcrApiHandlers.GetTagAsync),
        new(RegistryResource.AcrTag, Patch, MetadataWrite, ThrottleCategory.Write, "acr", AcrApiHandlers.UpdateAttributesAsync),
        new(RegistryResource.AcrTag, Delete, Remove, ThrottleCategory.Delete, "acr", AcrApiHandlers.DeleteTagAsync),
        new(RegistryResource.AcrManifests, Get, MetadataRead, ThrottleCategory.Read, "acr", AcrApiHandlers.ListManifestsAsync),
        new(RegistryResource.AcrManifest, Get, MetadataRead, ThrottleCategory.Read, "acr", AcrApiHandlers.GetManifestAsync),
        new(RegistryResource.AcrManifest, Patch, MetadataWrite, ThrottleCategory.Write, "acr", AcrApiHandlers.UpdateAttributesAsync),
        new(RegistryResource.AcrManifest, Delete, Remove, ThrottleCategory.Delete, "acr", AcrApiHandlers.DeleteManifestAsync),

        // Soft-deleted content (az acr repository list-deleted, manifest list-deleted, list-deleted-tags, restore).
        new(RegistryResource.AcrDeletedCatalog, Get, DeletedCatalog, ThrottleCategory.Read, "acr_deleted", DeletedContentHandlers.ListRepositoriesAsync),
        new(RegistryResource.AcrDeletedManifests, Get, DeletedRead, ThrottleCategory.Read, "acr_deleted", DeletedContentHandlers.ListManifestsAsync),
        new(RegistryResource.AcrDeletedTags, Get, DeletedRead, ThrottleCategory.Read, "acr_deleted", DeletedContentHandlers.ListTagsAsync),
        new(RegistryResource.AcrDeletedManifest, Post, DeletedRestore, ThrottleCategory.Write, "acr_deleted", DeletedContentHandlers.RestoreAsync),
    ];

    /// <summary>
    /// The row serving <paramref name="method"/> on the route's resource. A method no row serves is answered 405: on
    /// <c>/v2</c> only after the caller has passed the access step of the resource's first row (so that an anonymous probe
    /// learns nothing of a repository), on <c>/acr/v1</c> at once.
    /// </summary>
    public static RegistryOperation Find(RegistryRoute route, string method)
    {
        RegistryOperation? first = null;
        foreach (var operation in All)
        {
            if (operation.Resource != route.Resource) continue;
            if (operation.Serves(method)) return operation;
            first ??= operation;
        }
        if (first is null || IsAcrApi(route.Resource)) throw Unsupported(method);
        return first with { Methods = [method], Throttle = UnsupportedThrottle(first, method), Handler = (_, _) => throw Unsupported(method) };
    }

    private static bool IsAcrApi(RegistryResource resource) => resource >= RegistryResource.AcrCatalog;

    /// <summary>What an unsupported method spends: as a write, a delete or a read would, except inside an upload.</summary>
    private static ThrottleCategory? UnsupportedThrottle(RegistryOperation first, string method) => first.Resource switch
    {
        RegistryResource.UploadSession => null,
        RegistryResource.UploadStart => ThrottleCategory.Write,
        RegistryResource.Referrers => ThrottleCategory.Referrers,
        _ when HttpMethods.IsGet(method) || HttpMethods.IsHead(method) => ThrottleCategory.Read,
        _ when HttpMethods.IsDelete(method) => ThrottleCategory.Delete,
        _ => ThrottleCategory.Write,
    };

    private static OciException Unsupported(string method) => new(OciErrorCode.Unsupported, $"{method} is not supported on this endpoint", status: 405);
}
