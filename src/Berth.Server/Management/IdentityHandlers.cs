namespace Berth.Server.Management;

/// <summary>
/// <c>registries/tokens</c> and <c>registries/scopeMaps</c> (reference §4.2–4.3) and <c>generateCredentials</c>.
/// Token passwords appear only in the <c>generateCredentials</c> response; a password is deleted by PATCHing
/// <c>credentials.passwords</c> with the names to keep, as az does.
/// </summary>
internal static class IdentityHandlers
{
    public const string TokenType = "Microsoft.ContainerRegistry/registries/tokens";
    public const string ScopeMapType = "Microsoft.ContainerRegistry/registries/scopeMaps";

    /// <summary>
    /// Maps <c>generateCredentials</c> and, for tokens and for scope maps, ARM's five routes: list the collection, and get,
    /// put, patch or delete one item. Every handler binds route values besides the context, so none is taken for a plain
    /// RequestDelegate (which would skip the endpoint filters, and so authentication).
    /// </summary>
    public static void MapRoutes(IEndpointRouteBuilder arm, string registryRoute)
    {
        arm.MapPost(registryRoute + "/generateCredentials", (HttpContext c, string subscriptionId, string resourceGroup, string name) =>
            GenerateCredentialsAsync(c, subscriptionId, resourceGroup, name));
        MapCollection(arm, registryRoute + "/tokens", Tokens, PutTokenAsync, PatchTokenAsync);
        MapCollection(arm, registryRoute + "/scopeMaps", ScopeMaps, PutScopeMapAsync, PatchScopeMapAsync);
    }

    private delegate Task ItemHandler(HttpContext context, string subscriptionId, string resourceGroup, string registryName, string name);

    private static void MapCollection<T>(IEndpointRouteBuilder arm, string route, Collection<T> collection, ItemHandler put, ItemHandler patch)
        where T : class
    {
        arm.MapGet(route, (HttpContext c, string subscriptionId, string resourceGroup, string name) =>
            ListAsync(collection, c, subscriptionId, resourceGroup, name));
        var handlers = new (string Method, ItemHandler Handler)[]
        {
            (HttpMethods.Get, (c, subscriptionId, resourceGroup, registryName, name) => GetAsync(collection, c, subscriptionId, resourceGroup, registryName, name)),
            (HttpMethods.Put, put),
            (HttpMethods.Patch, patch),
            (HttpMethods.Delete, (c, subscriptionId, resourceGroup, registryName, name) => DeleteAsync(collection, c, subscriptionId, resourceGroup, registryName, name)),
        };
        foreach (var (method, handler) in handlers)
        {
            arm.MapMethods(route + "/{itemName}", [method], (HttpContext c, string subscriptionId, string resourceGroup, string name, string itemName) =>
                handler(c, subscriptionId, resourceGroup, name, itemName));
        }
    }

    /// <summary>Tokens or scope maps: how to list, find and show them, for the handlers both collections share.</summary>
    private sealed record Collection<T>(
        string Type,
        Func<IdentityService, string, CancellationToken, Task<IReadOnlyList<T>>> List,
        Func<IdentityService, string, string, CancellationToken, Task<T?>> Find,
        Func<IdentityService, string, string, CancellationToken, Task<bool>> Delete,
        Func<Registry, T, JsonObject> Json) where T : class;

    private static readonly Collection<ScopeMap> ScopeMaps = new(ScopeMapType,
        (identities, registry, cancellationToken) => identities.ListScopeMapsAsync(registry, cancellationToken),
        (identities, registry, name, cancellationToken) => identities.GetScopeMapOrNullAsync(registry, name, cancellationToken),
        (identities, registry, name, cancellationToken) => identities.DeleteScopeMapAsync(registry, name, cancellationToken),
        ScopeMapJson);

    private static readonly Collection<Token> Tokens = new(TokenType,
        (identities, registry, cancellationToken) => identities.ListTokensAsync(registry, cancellationToken),
        (identities, registry, name, cancellationToken) => identities.GetTokenOrNullAsync(registry, name, cancellationToken),
        (identities, registry, name, cancellationToken) => identities.DeleteTokenAsync(registry, name, cancellationToken),
        TokenJson);

    private static async Task ListAsync<T>(Collection<T> collection, HttpContext context, string subscriptionId, string resourceGroup, string registryName)
        where T : class
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var items = await collection.List(Identities(context), registry.Name, context.RequestAborted);
        await ArmResults.WriteJsonAsync(context, ArmResults.List(items.Select(item => (JsonNode)collection.Json(registry, item))));
    }

    private static async Task GetAsync<T>(Collection<T> collection, HttpContext context, string subscriptionId, string resourceGroup, string registryName, string name)
        where T : class
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var item = await collection.Find(Identities(context), registry.Name, name, context.RequestAborted)
            ?? throw ArmException.ChildResourceNotFound(collection.Type, registry.Name, name, resourceGroup);
        await ArmResults.WriteJsonAsync(context, collection.Json(registry, item));
    }

    /// <summary>200 when something was deleted, 204 when there was nothing to delete, as ARM answers.</summary>
    private static async Task DeleteAsync<T>(Collection<T> collection, HttpContext context, string subscriptionId, string resourceGroup, string registryName, string name)
        where T : class
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var deleted = await Guard(() => collection.Delete(Identities(context), registry.Name, name, context.RequestAborted));
        context.Response.StatusCode = deleted ? StatusCodes.Status200OK : StatusCodes.Status204NoContent;
    }

    // ---- scope maps ---------------------------------------------------------------------------------------

    private static async Task PutScopeMapAsync(HttpContext context, string subscriptionId, string resourceGroup, string registryName, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var properties = ArmRequest.GetObject(body, "properties")
            ?? throw ArmException.InvalidParameter("The property 'properties' is required.");
        var description = ArmRequest.GetString(properties, "description");
        var actions = ReadActions(properties) ?? throw ArmException.InvalidParameter("The property 'properties.actions' is required.");
        var identities = Identities(context);
        var existed = await identities.GetScopeMapOrNullAsync(registry.Name, name, context.RequestAborted) is not null;
        var map = await Guard(() => identities.PutScopeMapAsync(registry.Name, registry.Sku, name, description, actions, context.RequestAborted));
        await ArmResults.WriteJsonAsync(context, ScopeMapJson(registry, map), existed ? StatusCodes.Status200OK : StatusCodes.Status201Created);
    }

    private static async Task PatchScopeMapAsync(HttpContext context, string subscriptionId, string resourceGroup, string registryName, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var properties = ArmRequest.GetObject(body, "properties");
        var description = ArmRequest.GetString(properties, "description");
        var actions = ReadActions(properties);
        var identities = Identities(context);
        if (!SystemScopeMaps.IsSystemName(name) && await identities.GetScopeMapOrNullAsync(registry.Name, name, context.RequestAborted) is null)
            throw ArmException.ChildResourceNotFound(ScopeMapType, registry.Name, name, resourceGroup);
        var map = await Guard(() => identities.UpdateScopeMapAsync(registry.Name, registry.Sku, name, description, actions, context.RequestAborted));
        await ArmResults.WriteJsonAsync(context, ScopeMapJson(registry, map));
    }

    // ---- tokens -------------------------------------------------------------------------------------------

    private static async Task PutTokenAsync(HttpContext context, string subscriptionId, string resourceGroup, string registryName, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var properties = ArmRequest.GetObject(body, "properties")
            ?? throw ArmException.InvalidParameter("The property 'properties' is required.");
        var scopeMapId = ArmRequest.GetString(properties, "scopeMapId")
            ?? throw ArmException.InvalidParameter("The property 'properties.scopeMapId' is required.");
        var scopeMap = ScopeMapName(registry, scopeMapId);
        var enabled = ArmRequest.GetStatus(properties) ?? true;
        var keep = ReadPasswordNames(properties);
        var identities = Identities(context);
        await RequireScopeMapAsync(identities, registry, scopeMap, context.RequestAborted);
        var existing = await identities.GetTokenOrNullAsync(registry.Name, name, context.RequestAborted);
        if (existing is null && keep is { Count: > 0 })
            throw ArmException.InvalidParameter("A new token has no passwords to keep: create it without 'credentials', then call generateCredentials.");
        var token = await Guard(() => identities.PutTokenAsync(registry.Name, registry.Sku, name, scopeMap, enabled, context.RequestAborted));
        if (existing is not null && keep is not null)
            token = await Guard(() => identities.UpdateTokenAsync(registry.Name, token.Name, new TokenUpdate(KeepPasswords: keep), context.RequestAborted));
        await ArmResults.WriteJsonAsync(context, TokenJson(registry, token), existing is null ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task PatchTokenAsync(HttpContext context, string subscriptionId, string resourceGroup, string registryName, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var properties = ArmRequest.GetObject(body, "properties");
        var scopeMapId = ArmRequest.GetString(properties, "scopeMapId");
        var scopeMap = scopeMapId is null ? null : ScopeMapName(registry, scopeMapId);
        var update = new TokenUpdate(scopeMap, ArmRequest.GetStatus(properties), ReadPasswordNames(properties));
        var identities = Identities(context);
        if (await identities.GetTokenOrNullAsync(registry.Name, name, context.RequestAborted) is null)
            throw ArmException.ChildResourceNotFound(TokenType, registry.Name, name, resourceGroup);
        if (scopeMap is not null)
            await RequireScopeMapAsync(identities, registry, scopeMap, context.RequestAborted);
        var token = await Guard(() => identities.UpdateTokenAsync(registry.Name, name, update, context.RequestAborted));
        await ArmResults.WriteJsonAsync(context, TokenJson(registry, token));
    }

    /// <summary><c>POST .../generateCredentials {"tokenId", "name"?, "expiry"?}</c>: both passwords when no name is given.</summary>
    private static async Task GenerateCredentialsAsync(HttpContext context, string subscriptionId, string resourceGroup, string registryName)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var tokenId = ArmRequest.GetString(body, "tokenId") ?? throw ArmException.InvalidParameter("The property 'tokenId' is required.");
        var tokenName = ChildName(registry, tokenId, "tokens");
        var passwordName = ArmRequest.GetString(body, "name");
        if (passwordName is not null && !TokenPasswordNames.IsValid(passwordName))
            throw ArmException.InvalidParameter($"The password name '{passwordName}' is invalid: use \"password1\" or \"password2\".");
        var expiry = ArmRequest.GetDate(body, "expiry");
        var identities = Identities(context);
        if (await identities.GetTokenOrNullAsync(registry.Name, tokenName, context.RequestAborted) is null)
            throw ArmException.ChildResourceNotFound(TokenType, registry.Name, tokenName, resourceGroup);
        var generated = await Guard(() => identities.GenerateTokenPasswordsAsync(registry.Name, tokenName, passwordName, expiry, context.RequestAborted));
        await ArmResults.WriteJsonAsync(context, new JsonObject
        {
            ["username"] = generated.Username,
            ["passwords"] = new JsonArray(generated.Passwords.Select(p => (JsonNode)new JsonObject
            {
                ["creationTime"] = p.CreationTime.UtcDateTime.ToString("O"),
                ["expiry"] = p.Expiry?.UtcDateTime.ToString("O"),
                ["name"] = p.Name,
                ["value"] = p.Value,
            }).ToArray()),
        });
    }

    // ---- JSON ---------------------------------------------------------------------------------------------

    private static string ScopeMapId(Registry registry, string name) => $"{ArmRegistry.Id(registry)}/scopeMaps/{name}";

    private static JsonObject ScopeMapJson(Registry registry, ScopeMap map) => new()
    {
        ["id"] = ScopeMapId(registry, map.Name),
        ["name"] = map.Name,
        ["type"] = ScopeMapType,
        ["properties"] = new JsonObject
        {
            ["description"] = map.Description,
            ["type"] = map.Type.ToString(),
            ["creationDate"] = map.CreationDate.UtcDateTime.ToString("O"),
            ["provisioningState"] = "Succeeded",
            ["actions"] = new JsonArray(map.Actions.Select(a => (JsonNode)JsonValue.Create(a)!).ToArray()),
        },
    };

    private static JsonObject TokenJson(Registry registry, Token token) => new()
    {
        ["id"] = $"{ArmRegistry.Id(registry)}/tokens/{token.Name}",
        ["name"] = token.Name,
        ["type"] = TokenType,
        ["properties"] = new JsonObject
        {
            ["creationDate"] = token.CreationDate.UtcDateTime.ToString("O"),
            ["provisioningState"] = "Succeeded",
            ["scopeMapId"] = ScopeMapId(registry, token.ScopeMapName),
            ["status"] = token.Enabled ? "enabled" : "disabled",
            ["credentials"] = new JsonObject
            {
                ["certificates"] = new JsonArray(),
                ["passwords"] = new JsonArray(token.Passwords.Select(p => (JsonNode)new JsonObject
                {
                    ["creationTime"] = p.CreationTime.UtcDateTime.ToString("O"),
                    ["expiry"] = p.Expiry?.UtcDateTime.ToString("O"),
                    ["name"] = p.Name,
                }).ToArray()),
            },
        },
    };

    // ---- request parts ------------------------------------------------------------------------------------

    private static IReadOnlyList<string>? ReadActions(JsonObject? properties)
    {
        var array = ArmRequest.GetArray(properties, "actions");
        if (array is null) return null;
        return array.Select(item => item is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : throw ArmException.InvalidParameter("Every entry of 'properties.actions' must be a string such as \"repositories/hello-world/content/read\".")).ToList();
    }

    /// <summary><c>credentials.passwords</c>: the names of the passwords to keep (values are never accepted).</summary>
    private static IReadOnlyCollection<string>? ReadPasswordNames(JsonObject? properties)
    {
        var passwords = ArmRequest.GetArray(ArmRequest.GetObject(properties, "credentials"), "passwords");
        if (passwords is null) return null;
        var names = new List<string>();
        foreach (var item in passwords)
        {
            var name = item is JsonObject entry ? ArmRequest.GetString(entry, "name") : null;
            if (name is null || !TokenPasswordNames.IsValid(name))
                throw ArmException.InvalidParameter($"Every entry of 'credentials.passwords' needs a 'name' of \"password1\" or \"password2\" (got '{name}').");
            if (item is JsonObject withValue && withValue.ContainsKey("value"))
                throw ArmException.InvalidParameter("Token password values are generated by the server: use generateCredentials.");
            names.Add(name);
        }
        return names;
    }

    /// <summary>A scope map reference: the full resource id (it must be this registry's) or, leniently, the bare name.</summary>
    private static string ScopeMapName(Registry registry, string scopeMapId) => ChildName(registry, scopeMapId, "scopeMaps");

    private static string ChildName(Registry registry, string id, string collection)
    {
        if (!id.Contains('/')) return id;
        var prefix = $"{ArmRegistry.Id(registry)}/{collection}/";
        if (!id.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || id.Length == prefix.Length || id.IndexOf('/', prefix.Length) >= 0)
        {
            // Accept any resource-group spelling: az lower-cases it.
            var marker = $"/providers/{ArmRegistry.Type}/{registry.Name}/{collection}/";
            var at = id.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
            if (at < 0 || id.Length == at + marker.Length || id.IndexOf('/', at + marker.Length) >= 0)
                throw ArmException.InvalidParameter($"'{id}' is not the id of a {collection} resource of registry '{registry.Name}'.");
            return id[(at + marker.Length)..];
        }
        return id[prefix.Length..];
    }

    private static async Task RequireScopeMapAsync(IdentityService identities, Registry registry, string name, CancellationToken cancellationToken)
    {
        if (await identities.GetScopeMapOrNullAsync(registry.Name, name, cancellationToken) is null)
            throw ArmException.InvalidParameter($"The scope map '{name}' does not exist in registry '{registry.Name}'.");
    }

    private static async Task<T> Guard<T>(Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (IdentityException error)
        {
            throw ArmException.From(error);
        }
    }

    private static IdentityService Identities(HttpContext context) => context.RequestServices.GetRequiredService<IdentityService>();
}
