using Berth.Core.Storage;
using Berth.Oci;
using Berth.Server.Access;
using Berth.Server.Hosting;

namespace Berth.Server.DataPlane;

/// <summary>
/// The OCI Distribution v1.1 endpoints under <c>/v2/</c>. One catch-all route parses the path (names contain
/// slashes, which endpoint routing cannot match in the middle of a template) and dispatches on resource and method.
/// </summary>
public static class DataPlaneEndpoints
{
    public static IEndpointRouteBuilder MapDataPlane(this IEndpointRouteBuilder app)
    {
        // "/v2" and "/v2/" both reach this route (routing ignores a trailing slash); both are the base endpoint.
        app.Map("/v2/{**path}", HandleAsync);
        return app;
    }

    private static Task HandleAsync(HttpContext context) => DataPlaneResults.RunAsync(context, async () =>
    {
        var path = context.Request.Path.Value!.Length > "/v2/".Length ? context.Request.Path.Value["/v2/".Length..] : "";
        var route = DataPlaneRoute.Parse(path)
            ?? throw new OciException(OciErrorCode.NameUnknown, "no such registry endpoint", status: 404);
        var resolved = await context.RequestServices.GetRequiredService<RegistryResolver>().ResolveAsync(context);
        var registry = resolved.Name;
        var repository = new RepositoryKey(registry, route.Repository);
        if (route.Resource is not (DataPlaneResource.Base or DataPlaneResource.Catalog)) Names.EnsureRepository(route.Repository);

        var method = context.Request.Method;
        if (await AccessControl.AuthorizeAsync(context, resolved, DataPlaneAccess.Required(route, method)) is null) return;
        var handled = route.Resource switch
        {
            DataPlaneResource.Base when IsRead(method) => WriteBaseAsync(context),
            DataPlaneResource.Catalog when IsRead(method) => DiscoveryHandlers.CatalogAsync(context, registry),
            DataPlaneResource.Tags when IsRead(method) => DiscoveryHandlers.TagsAsync(context, repository),
            DataPlaneResource.Referrers when IsRead(method) => DiscoveryHandlers.ReferrersAsync(context, repository, route.Argument),
            DataPlaneResource.Manifest when IsRead(method) => ManifestHandlers.GetAsync(context, repository, route.Argument),
            DataPlaneResource.Manifest when HttpMethods.IsPut(method) => ManifestHandlers.PutAsync(context, repository, route.Argument),
            DataPlaneResource.Manifest when HttpMethods.IsDelete(method) => ManifestHandlers.DeleteAsync(context, repository, route.Argument),
            DataPlaneResource.Blob when IsRead(method) => BlobHandlers.GetAsync(context, repository, route.Argument),
            DataPlaneResource.Blob when HttpMethods.IsDelete(method) => BlobHandlers.DeleteAsync(context, repository, route.Argument),
            DataPlaneResource.Upload when route.Argument.Length == 0 && HttpMethods.IsPost(method) => UploadHandlers.StartAsync(context, resolved.LoginServer, repository),
            DataPlaneResource.Upload when route.Argument.Length > 0 && HttpMethods.IsGet(method) => UploadHandlers.StatusAsync(context, repository, route.Argument),
            DataPlaneResource.Upload when route.Argument.Length > 0 && HttpMethods.IsPatch(method) => UploadHandlers.PatchAsync(context, repository, route.Argument),
            DataPlaneResource.Upload when route.Argument.Length > 0 && HttpMethods.IsPut(method) => UploadHandlers.PutAsync(context, repository, route.Argument),
            DataPlaneResource.Upload when route.Argument.Length > 0 && HttpMethods.IsDelete(method) => UploadHandlers.CancelAsync(context, repository, route.Argument),
            _ => null,
        };
        if (handled is null)
            throw new OciException(OciErrorCode.Unsupported, $"{method} is not supported on this endpoint", status: 405);
        await handled;
    });

    private static bool IsRead(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method);

    private static Task WriteBaseAsync(HttpContext context) => DataPlaneResults.WriteJsonAsync(context, new { });
}
