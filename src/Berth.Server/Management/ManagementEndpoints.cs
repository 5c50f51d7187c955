using Berth.Server.Management.SignIn;

namespace Berth.Server.Management;

/// <summary>
/// The ARM-shaped management plane (reference §4; az-cli-surface §3.2), on the same listener as the data plane and
/// told apart by path. Route templates match case-insensitively (az lower-cases resource groups; the SDKs send
/// <c>resourceGroups</c>), any <c>api-version</c> is accepted, and every route requires a management token.
/// </summary>
public static class ManagementEndpoints
{
    private const string Sub = "/subscriptions/{subscriptionId}";
    private const string Rg = Sub + "/resourceGroups/{resourceGroup}";
    private const string Registries = Rg + "/providers/Microsoft.ContainerRegistry/registries";
    private const string Registry = Registries + "/{name}";

    public static IEndpointRouteBuilder MapManagement(this IEndpointRouteBuilder app)
    {
        app.MapManagementSignIn();

        var arm = app.MapGroup("")
            .WithMetadata(ArmResults.ManagementGroup)
            .AddEndpointFilter(Operations.Audit.RecordManagementChangesAsync)
            .AddEndpointFilter(HandleErrorsAsync)
            .AddEndpointFilter(ManagementAuthentication.RequireCallerAsync);

        // Handlers taking only HttpContext would bind as RequestDelegates, which skip endpoint filters (and so
        // authentication); every route below is a route handler with at least one bound parameter besides the context.
        arm.MapGet("/subscriptions", (HttpContext c, CancellationToken _) => SubscriptionHandlers.ListAsync(c));
        arm.MapGet(Sub, SubscriptionHandlers.GetAsync);
        arm.MapGet(Sub + "/resourceGroups", SubscriptionHandlers.ListResourceGroupsAsync);
        arm.MapGet(Rg, SubscriptionHandlers.GetResourceGroupAsync);
        arm.MapPut(Rg, SubscriptionHandlers.PutResourceGroupAsync);
        arm.MapGet(Sub + "/resources", (HttpContext c, string subscriptionId) => RegistryHandlers.ListGenericResourcesAsync(c, subscriptionId, null));
        arm.MapGet(Rg + "/resources", (HttpContext c, string subscriptionId, string resourceGroup) => RegistryHandlers.ListGenericResourcesAsync(c, subscriptionId, resourceGroup));

        arm.MapGet(Sub + "/providers/Microsoft.ContainerRegistry/registries", RegistryHandlers.ListBySubscriptionAsync);
        arm.MapPost(Sub + "/providers/Microsoft.ContainerRegistry/checkNameAvailability", RegistryHandlers.CheckNameAvailabilityAsync);
        arm.MapGet(Registries, RegistryHandlers.ListByResourceGroupAsync);
        arm.MapGet(Registry, RegistryHandlers.GetAsync);
        arm.MapPut(Registry, RegistryHandlers.PutAsync);
        arm.MapPatch(Registry, RegistryHandlers.PatchAsync);
        arm.MapDelete(Registry, RegistryHandlers.DeleteAsync);
        arm.MapPost(Registry + "/listCredentials", RegistryHandlers.ListCredentialsAsync);
        arm.MapPost(Registry + "/regenerateCredential", RegistryHandlers.RegenerateCredentialAsync);
        arm.MapGet(Registry + "/listUsages", RegistryHandlers.ListUsagesAsync);
        arm.MapGet(Registry + "/activityLog", RegistryHandlers.ActivityLogAsync);
        IdentityHandlers.MapRoutes(arm, Registry);
        WebhookHandlers.MapRoutes(arm, Registry);
        ArtifactCacheHandlers.MapRoutes(arm, Registry);
        UnsupportedFeatureHandlers.MapRoutes(arm, Registry);
        ImportHandlers.MapRoutes(arm, Registry);

        // Berth extensions (not ACR): who can pull a repository, garbage collection and the integrity check.
        arm.MapPost(Registry + "/checkAccess", AccessCheckHandlers.CheckAccessAsync);
        arm.MapPost(Registry + "/garbageCollect", MaintenanceHandlers.GarbageCollectRegistryAsync);
        arm.MapPost(Sub + "/providers/Microsoft.ContainerRegistry/garbageCollect", MaintenanceHandlers.GarbageCollectServerAsync);
        arm.MapPost(Sub + "/providers/Microsoft.ContainerRegistry/checkIntegrity", MaintenanceHandlers.CheckIntegrityAsync);

        // Anything else under the management roots: authenticated first, then ARM's 404 (never the data plane's errors).
        arm.Map("/subscriptions/{**rest}", (HttpContext c, string? rest) => NotFoundAsync(c));
        arm.Map("/providers/{**rest}", (HttpContext c, string? rest) => NotFoundAsync(c));
        return app;
    }

    private static Task NotFoundAsync(HttpContext context) =>
        throw ArmException.NotFound($"No management resource or operation matches '{context.Request.Method} {context.Request.Path}'.", "NotFound");

    /// <summary>Turns refusals into ARM error JSON; a failed request has changed nothing (handlers validate before writing).</summary>
    private static async ValueTask<object?> HandleErrorsAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        try
        {
            return await next(invocation);
        }
        catch (Exception error) when (!context.Response.HasStarted && error is ArmException or RegistryException or IdentityException or BadHttpRequestException)
        {
            var arm = error switch
            {
                ArmException a => a,
                RegistryException r => ArmException.From(r),
                IdentityException i => ArmException.From(i),
                BadHttpRequestException b => new ArmException(b.StatusCode, "BadRequest", b.Message),
                // The filter above admits only these four kinds.
                _ => throw new System.Diagnostics.UnreachableException(error.GetType().Name),
            };
            context.Response.Headers.Remove(RegistryHandlers.WarningHeader);
            await ArmResults.WriteErrorAsync(context, arm.Status, arm.Code, arm.Message);
            // An IResult, not null: the framework would serialize null as a JSON body after ours.
            return Results.Empty;
        }
    }
}
