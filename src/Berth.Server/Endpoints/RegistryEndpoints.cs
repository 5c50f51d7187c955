using Berth.Server.Access;
using Berth.Server.DataPlane;
using Berth.Server.Requests;

namespace Berth.Server.Endpoints;

/// <summary>
/// <c>/v2</c> (OCI Distribution v1.1) and <c>/acr/v1</c> (ACR's repository API). One catch-all route each (repository
/// names contain slashes, which endpoint routing cannot match in the middle of a template); every request is resolved
/// once into a <see cref="RegistryRequest"/> (registry, route, operation), admitted by the one access step, and served by
/// its operation's handler.
/// </summary>
public static class RegistryEndpoints
{
    public static IEndpointRouteBuilder MapRegistryApis(this IEndpointRouteBuilder app)
    {
        // "/v2" and "/v2/" both reach this route (routing ignores a trailing slash); both are the base endpoint.
        app.Map(RegistryRoute.DataPlanePrefix + "/{**path}", HandleAsync).WithMetadata(DataPlaneResults.Group("v2_other"));
        app.Map(RegistryRoute.AcrApiPrefix + "/{**path}", HandleAsync).WithMetadata(DataPlaneResults.Group("acr"));
        return app;
    }

    private static Task HandleAsync(HttpContext context) => DataPlaneResults.RunAsync(context, async () =>
    {
        var route = RegistryRoute.Parse(context.Request.Path)
            ?? throw new OciException(OciErrorCode.NameUnknown, "no such registry endpoint", status: 404);
        var registry = await context.RequestServices.GetRequiredService<RegistryResolver>().ResolveAsync(context);
        if (route.HasRepository) Names.EnsureRepository(route.Repository);
        route = await PullThroughRequests.MapMirrorRequestAsync(context, registry, route);
        var request = new RegistryRequest(registry, route, RegistryOperations.Find(route, context.Request.Method));
        RegistryRequests.Set(context, request);
        if (!await AccessStep.AdmitAsync(context, request)) return;
        await request.Operation.Handler(context, request);
    });
}
