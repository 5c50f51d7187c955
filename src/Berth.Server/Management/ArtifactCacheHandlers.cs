using Berth.Core.ArtifactCache;

namespace Berth.Server.Management;

/// <summary>
/// <c>registries/cacheRules</c> and <c>registries/credentialSets</c> (acr-lifecycle §1), in ACR's shapes. PUT finishes
/// at once (201 created or 200 replaced, <c>provisioningState</c> Succeeded), which ARM's long-running-operation clients
/// accept as done; DELETE answers 200, or 204 when there was nothing to delete.
/// ACR keeps a credential set's secrets in Key Vault and takes their secret URIs; Berth keeps them itself, encrypted at
/// rest, and takes them as write-only <c>authCredentials[].username</c> and <c>.password</c>. The secret identifiers it
/// shows name where Berth keeps them (<c>berth:credentialSets/{name}/username</c>), never the values.
/// </summary>
internal static class ArtifactCacheHandlers
{
    public const string CacheRuleType = "Microsoft.ContainerRegistry/registries/cacheRules";
    public const string CredentialSetType = "Microsoft.ContainerRegistry/registries/credentialSets";
    private const string CredentialName = "Credential1";

    public static void MapRoutes(IEndpointRouteBuilder arm, string registryRoute)
    {
        Map(arm, registryRoute + "/cacheRules", ListRulesAsync, GetRuleAsync, PutRuleAsync, PatchRuleAsync, DeleteRuleAsync);
        Map(arm, registryRoute + "/credentialSets", ListSetsAsync, GetSetAsync, PutSetAsync, PatchSetAsync, DeleteSetAsync);
    }

    private delegate Task ItemHandler(HttpContext context, Registry registry, string name);

    private static void Map(IEndpointRouteBuilder arm, string route, Func<HttpContext, Registry, Task> list,
        ItemHandler get, ItemHandler put, ItemHandler patch, ItemHandler delete)
    {
        // Every handler binds route values besides the context, so none is taken for a plain RequestDelegate (which would skip the filters).
        arm.MapGet(route, async (HttpContext c, string subscriptionId, string resourceGroup, string name) =>
            await list(c, await ArmScope.FindRegistryAsync(c, subscriptionId, resourceGroup, name)));
        foreach (var (method, handler) in new[] { (HttpMethods.Get, get), (HttpMethods.Put, put), (HttpMethods.Patch, patch), (HttpMethods.Delete, delete) })
        {
            arm.MapMethods(route + "/{itemName}", [method], async (HttpContext c, string subscriptionId, string resourceGroup, string name, string itemName) =>
                await handler(c, await ArmScope.FindRegistryAsync(c, subscriptionId, resourceGroup, name), itemName));
        }
    }

    // ---- cache rules ------------------------------------------------------------------------------------------

    private static async Task ListRulesAsync(HttpContext context, Registry registry) =>
        await ArmResults.WriteJsonAsync(context, ArmResults.List(
            (await Cache(context).ListRulesAsync(registry.Name, context.RequestAborted)).Select(r => (JsonNode)RuleJson(registry, r))));

    private static async Task GetRuleAsync(HttpContext context, Registry registry, string name) =>
        await ArmResults.WriteJsonAsync(context, RuleJson(registry, await FindRuleAsync(context, registry, name)));

    private static async Task PutRuleAsync(HttpContext context, Registry registry, string name)
    {
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var properties = ArmRequest.GetObject(body, "properties") ?? throw ArmException.InvalidParameter("The property 'properties' is required.");
        var source = ArmRequest.GetString(properties, "sourceRepository") ?? throw ArmException.InvalidParameter("The property 'properties.sourceRepository' is required.");
        var target = ArmRequest.GetString(properties, "targetRepository") ?? throw ArmException.InvalidParameter("The property 'properties.targetRepository' is required.");
        var credentialSet = CredentialSetName(registry, ArmRequest.GetString(properties, "credentialSetResourceId"));
        var (rule, created) = await Cache(context).PutRuleAsync(registry.Name, name, source, target, credentialSet, context.RequestAborted);
        await ArmResults.WriteJsonAsync(context, RuleJson(registry, rule), created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    /// <summary>ACR's PATCH changes only <c>properties.credentialSetResourceId</c>: an id sets it, null removes it.</summary>
    private static async Task PatchRuleAsync(HttpContext context, Registry registry, string name)
    {
        await FindRuleAsync(context, registry, name);
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var credentialSet = CredentialSetName(registry, ArmRequest.GetString(ArmRequest.GetObject(body, "properties"), "credentialSetResourceId"));
        var rule = await Cache(context).UpdateRuleCredentialSetAsync(registry.Name, name, credentialSet, context.RequestAborted);
        await ArmResults.WriteJsonAsync(context, RuleJson(registry, rule));
    }

    private static async Task DeleteRuleAsync(HttpContext context, Registry registry, string name) =>
        context.Response.StatusCode = await Cache(context).DeleteRuleAsync(registry.Name, name, context.RequestAborted)
            ? StatusCodes.Status200OK : StatusCodes.Status204NoContent;

    private static async Task<CacheRule> FindRuleAsync(HttpContext context, Registry registry, string name) =>
        await Cache(context).GetRuleOrNullAsync(registry.Name, name, context.RequestAborted)
            ?? throw ArmException.ChildResourceNotFound(CacheRuleType, registry.Name, name, registry.ResourceGroup);

    private static JsonObject RuleJson(Registry registry, CacheRule rule) => new()
    {
        ["id"] = $"{ArmRegistry.Id(registry)}/cacheRules/{rule.Name}",
        ["name"] = rule.Name,
        ["type"] = CacheRuleType,
        ["properties"] = new JsonObject
        {
            ["credentialSetResourceId"] = rule.CredentialSet is null ? null : CredentialSetId(registry, rule.CredentialSet),
            ["sourceRepository"] = rule.SourceRepository,
            ["targetRepository"] = rule.TargetRepository,
            ["creationDate"] = rule.CreatedAt.UtcDateTime.ToString("O"),
            ["provisioningState"] = "Succeeded",
            // Berth extension: the latest upstream failure of a pull through the rule (null once one succeeds).
            ["lastError"] = rule.LastError,
            ["lastErrorTime"] = rule.LastErrorAt?.UtcDateTime.ToString("O"),
        },
    };

    // ---- credential sets --------------------------------------------------------------------------------------

    private static async Task ListSetsAsync(HttpContext context, Registry registry) =>
        await ArmResults.WriteJsonAsync(context, ArmResults.List(
            (await Cache(context).ListCredentialSetsAsync(registry.Name, context.RequestAborted)).Select(s => (JsonNode)SetJson(context, registry, s))));

    private static async Task GetSetAsync(HttpContext context, Registry registry, string name) =>
        await ArmResults.WriteJsonAsync(context, SetJson(context, registry, await FindSetAsync(context, registry, name)));

    private static async Task PutSetAsync(HttpContext context, Registry registry, string name)
    {
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var properties = ArmRequest.GetObject(body, "properties") ?? throw ArmException.InvalidParameter("The property 'properties' is required.");
        var loginServer = ArmRequest.GetString(properties, "loginServer") ?? throw ArmException.InvalidParameter("The property 'properties.loginServer' is required.");
        var (username, password) = ReadSecrets(properties, name);
        var (set, created) = await Cache(context).PutCredentialSetAsync(registry.Name, name, new CredentialSetWrite(loginServer, username, password), context.RequestAborted);
        await ArmResults.WriteJsonAsync(context, SetJson(context, registry, set), created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    /// <summary>az's update GETs the set and PATCHes <c>authCredentials</c>: secrets given replace the stored ones, the rest stay.</summary>
    private static async Task PatchSetAsync(HttpContext context, Registry registry, string name)
    {
        var existing = await FindSetAsync(context, registry, name);
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var properties = ArmRequest.GetObject(body, "properties");
        var loginServer = ArmRequest.GetString(properties, "loginServer") ?? existing.LoginServer;
        var (username, password) = ReadSecrets(properties, existing.Name);
        var (set, _) = await Cache(context).PutCredentialSetAsync(registry.Name, name, new CredentialSetWrite(loginServer, username, password), context.RequestAborted);
        await ArmResults.WriteJsonAsync(context, SetJson(context, registry, set));
    }

    private static async Task DeleteSetAsync(HttpContext context, Registry registry, string name) =>
        context.Response.StatusCode = await Cache(context).DeleteCredentialSetAsync(registry.Name, name, context.RequestAborted)
            ? StatusCodes.Status200OK : StatusCodes.Status204NoContent;

    private static async Task<CredentialSet> FindSetAsync(HttpContext context, Registry registry, string name) =>
        await Cache(context).GetCredentialSetOrNullAsync(registry.Name, name, context.RequestAborted)
            ?? throw ArmException.ChildResourceNotFound(CredentialSetType, registry.Name, name, registry.ResourceGroup);

    /// <summary>
    /// The username and password of <c>authCredentials[0]</c>, write-only. Secret identifiers are accepted only as Berth
    /// shows them (what a GET-then-PATCH sends back, meaning "keep"); Key Vault URIs are refused, as Berth cannot read them.
    /// </summary>
    private static (string? Username, string? Password) ReadSecrets(JsonObject? properties, string setName)
    {
        var credentials = ArmRequest.GetArray(properties, "authCredentials");
        if (credentials is null || credentials.Count == 0) return (null, null);
        if (credentials.Count > 1 || credentials[0] is not JsonObject credential)
            throw ArmException.InvalidParameter("'properties.authCredentials' takes one entry: {\"name\":\"Credential1\",\"username\":\"...\",\"password\":\"...\"}.");
        foreach (var (field, part) in new[] { ("usernameSecretIdentifier", "username"), ("passwordSecretIdentifier", "password") })
        {
            if (ArmRequest.GetString(credential, field) is { } identifier && !string.Equals(identifier, SecretIdentifier(setName, part), StringComparison.OrdinalIgnoreCase))
            {
                throw ArmException.InvalidParameter(
                    $"Berth keeps upstream secrets itself, encrypted at rest, instead of in Key Vault: send '{part}' in authCredentials[0] instead of the secret identifier '{identifier}'.");
            }
        }
        return (ArmRequest.GetString(credential, "username"), ArmRequest.GetString(credential, "password"));
    }

    private static JsonObject SetJson(HttpContext context, Registry registry, CredentialSet set) => new()
    {
        ["id"] = CredentialSetId(registry, set.Name),
        ["name"] = set.Name,
        ["type"] = CredentialSetType,
        ["identity"] = new JsonObject
        {
            ["type"] = "SystemAssigned",
            ["principalId"] = set.PrincipalId,
            ["tenantId"] = context.RequestServices.GetRequiredService<Configuration.BerthOptions>().DefaultSubscriptionId,
        },
        ["properties"] = new JsonObject
        {
            ["loginServer"] = set.LoginServer,
            ["authCredentials"] = new JsonArray(new JsonObject
            {
                ["name"] = CredentialName,
                ["usernameSecretIdentifier"] = SecretIdentifier(set.Name, "username"),
                ["passwordSecretIdentifier"] = SecretIdentifier(set.Name, "password"),
                ["credentialHealth"] = set.LastError is null
                    ? new JsonObject { ["status"] = "Healthy" }
                    : new JsonObject { ["status"] = "Unhealthy", ["errorCode"] = "UpstreamAuthenticationFailed", ["errorMessage"] = set.LastError },
            }),
            ["creationDate"] = set.CreatedAt.UtcDateTime.ToString("O"),
            ["provisioningState"] = "Succeeded",
        },
    };

    private static string SecretIdentifier(string setName, string part) => $"berth:credentialSets/{setName}/{part}";

    private static string CredentialSetId(Registry registry, string name) => $"{ArmRegistry.Id(registry)}/credentialSets/{name}";

    /// <summary>A credential set reference: this registry's full resource id (any resource-group spelling) or, leniently, the bare name.</summary>
    private static string? CredentialSetName(Registry registry, string? id)
    {
        if (id is null) return null;
        if (!id.Contains('/')) return id;
        var marker = $"/providers/{ArmRegistry.Type}/{registry.Name}/credentialSets/";
        var at = id.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
        if (at < 0 || id.Length == at + marker.Length || id.IndexOf('/', at + marker.Length) >= 0)
            throw ArmException.InvalidParameter($"'{id}' is not the id of a credential set of registry '{registry.Name}'.");
        return id[(at + marker.Length)..];
    }

    private static ArtifactCacheService Cache(HttpContext context) => context.RequestServices.GetRequiredService<ArtifactCacheService>();
}
