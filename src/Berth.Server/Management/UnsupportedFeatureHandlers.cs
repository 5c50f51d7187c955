namespace Berth.Server.Management;

/// <summary>
/// ACR child resources Berth does not implement: replications, tasks, connected registries, private endpoint
/// connections and agent pools. Berth answers as a registry that has none, so <c>az acr replication list</c> and its
/// siblings print an empty list instead of failing, and refuses to create one with ARM's <c>FeatureNotSupported</c>.
/// Tasks and agent pools sit under the registry only in the 2019-06-01-preview api-version; the routes are by path.
/// </summary>
internal static class UnsupportedFeatureHandlers
{
    public const string FeatureNotSupported = "FeatureNotSupported";

    private static readonly (string Collection, string Feature)[] Features =
    [
        ("replications", "geo-replication"),
        ("tasks", "ACR Tasks"),
        ("connectedRegistries", "connected registries"),
        ("privateEndpointConnections", "private endpoints"),
        ("agentPools", "agent pools"),
    ];

    public static void MapRoutes(IEndpointRouteBuilder arm, string registryRoute)
    {
        foreach (var (collection, feature) in Features)
        {
            var route = $"{registryRoute}/{collection}";
            arm.MapGet(route, (HttpContext c, string subscriptionId, string resourceGroup, string name) =>
                ListAsync(c, subscriptionId, resourceGroup, name));
            arm.MapGet(route + "/{itemName}", (HttpContext c, string subscriptionId, string resourceGroup, string name, string itemName) =>
                GetAsync(c, subscriptionId, resourceGroup, name, collection, itemName));
            arm.MapMethods(route + "/{itemName}", [HttpMethods.Put, HttpMethods.Patch, HttpMethods.Post],
                (HttpContext c, string subscriptionId, string resourceGroup, string name, string itemName) =>
                    RefuseAsync(c, subscriptionId, resourceGroup, name, collection, feature));
        }
    }

    private static async Task ListAsync(HttpContext context, string subscriptionId, string resourceGroup, string name)
    {
        await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, name);
        await ArmResults.WriteJsonAsync(context, ArmResults.List([]));
    }

    private static async Task GetAsync(HttpContext context, string subscriptionId, string resourceGroup, string name, string collection, string itemName)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, name);
        throw ArmException.ChildResourceNotFound($"{ArmRegistry.Type}/{collection}", registry.Name, itemName, resourceGroup);
    }

    private static async Task RefuseAsync(HttpContext context, string subscriptionId, string resourceGroup, string name, string collection, string feature)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, name);
        throw ArmException.BadRequest(
            $"Berth does not support {feature}: registry '{registry.Name}' has no {collection} and none can be created.", FeatureNotSupported);
    }
}
