using Berth.Server.Requests;
namespace Berth.Server.DataPlane;

/// <summary>The base endpoint, tags list, catalog and the referrers API.</summary>
internal static class DiscoveryHandlers
{
    /// <summary><c>GET /v2/</c>: an empty object once the caller is known, so clients can check their credentials.</summary>
    public static Task BaseAsync(HttpContext context) => DataPlaneResults.WriteJsonAsync(context, new { });

    public static async Task TagsAsync(HttpContext context, RepositoryKey repository)
    {
        var (limit, last) = Pagination.Read(context.Request);
        // n=0 still answers NAME_UNKNOWN for a missing repository, so the store is asked even then.
        var tags = await Manifests(context).ListTagsAsync(repository, limit == 0 ? 0 : limit + 1, last, context.RequestAborted);
        var page = Pagination.Page(context, tags, limit, $"/v2/{repository.Name}/tags/list");
        await DataPlaneResults.WriteJsonAsync(context, new { name = repository.Name, tags = page });
    }

    /// <summary>The catalog of <c>/v2</c> and <c>/acr/v1</c>: the repositories the caller has any right on.</summary>
    public static async Task CatalogAsync(HttpContext context, RegistryRequest request)
    {
        var (limit, last) = Pagination.Read(context.Request);
        var repositories = limit == 0 ? []
            : await Manifests(context).ListRepositoriesAsync(request.Registry.Name, request.RequiredCaller.Visible, limit + 1, last, context.RequestAborted);
        var page = Pagination.Page(context, repositories, limit, request.Route.Resource == RegistryResource.AcrCatalog ? "/acr/v1/_catalog" : "/v2/_catalog");
        await DataPlaneResults.WriteJsonAsync(context, new { repositories = page });
    }

    public static async Task ReferrersAsync(HttpContext context, RepositoryKey repository, string digestText)
    {
        var subject = Digest.Parse(digestText);
        var artifactType = context.Request.Query["artifactType"].ToString();
        var filter = string.IsNullOrEmpty(artifactType) ? null : artifactType;
        var referrers = await Manifests(context).ListReferrersAsync(repository, subject, filter, context.RequestAborted);
        if (filter is not null) context.Response.Headers["OCI-Filters-Applied"] = "artifactType";

        var index = new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciIndex,
            ["manifests"] = referrers.Select(ToDescriptor).ToList(),
        };
        await DataPlaneResults.WriteJsonAsync(context, index, MediaTypes.OciIndex);
    }

    private static Dictionary<string, object> ToDescriptor(ReferrerRecord referrer)
    {
        var descriptor = new Dictionary<string, object>
        {
            ["mediaType"] = referrer.MediaType,
            ["digest"] = referrer.Digest.ToString(),
            ["size"] = referrer.Size,
        };
        if (referrer.ArtifactType is not null) descriptor["artifactType"] = referrer.ArtifactType;
        if (referrer.AnnotationsJson is not null)
            descriptor["annotations"] = JsonSerializer.Deserialize<Dictionary<string, string>>(referrer.AnnotationsJson)!;
        return descriptor;
    }

    private static ManifestService Manifests(HttpContext context) => context.RequestServices.GetRequiredService<ManifestService>();
}
