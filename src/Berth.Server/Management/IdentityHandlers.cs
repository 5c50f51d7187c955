using System.Text.Json.Nodes;
using Berth.Core.Identity;
using Berth.Core.Registries;

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

    // ---- scope maps ---------------------------------------------------------------------------------------

    public static async Task ListScopeMapsAsync(HttpContext context, string subscriptionId, string resourceGroup, string registryName)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var maps = await Identities(context).ListScopeMapsAsync(registry.Name, context.RequestAborted);
        await ArmResults.WriteJsonAsync(context, ArmResults.List(maps.Select(m => (JsonNode)ScopeMapJson(registry, m))));
    }

    public static async Task GetScopeMapAsync(HttpContext context, string subscriptionId, string resourceGroup, string registryName, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var map = await Identities(context).GetScopeMapOrNullAsync(registry.Name, name, context.RequestAborted)
            ?? throw ArmException.ResourceNotFound(ScopeMapType, $"{registry.Name}/{name}", resourceGroup);
        await ArmResults.WriteJsonAsync(context, ScopeMapJson(registry, map));
    }

    public static async Task PutScopeMapAsync(HttpContext context, string subscriptionId, string resourceGroup, string registryName, string name)
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

    public static async Task PatchScopeMapAsync(HttpContext context, string subscriptionId, string resourceGroup, string registryName, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var properties = ArmRequest.GetObject(body, "properties");
        var description = ArmRequest.GetString(properties, "description");
        var actions = ReadActions(properties);
        var identities = Identities(context);
        if (!SystemScopeMaps.IsSystemName(name) && await identities.GetScopeMapOrNullAsync(registry.Name, name, context.RequestAborted) is null)
            throw ArmException.ResourceNotFound(ScopeMapType, $"{registry.Name}/{name}", resourceGroup);
        var map = await Guard(() => identities.UpdateScopeMapAsync(registry.Name, registry.Sku, name, description, actions, context.RequestAborted));
        await ArmResults.WriteJsonAsync(context, ScopeMapJson(registry, map));
    }

    public static async Task DeleteScopeMapAsync(HttpContext context, string subscriptionId, string resourceGroup, string registryName, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var deleted = await Guard(() => Identities(context).DeleteScopeMapAsync(registry.Name, name, context.RequestAborted));
        context.Response.StatusCode = deleted ? StatusCodes.Status200OK : StatusCodes.Status204NoContent;
    }

    // ---- tokens -------------------------------------------------------------------------------------------

    public static async Task ListTokensAsync(HttpContext context, string subscriptionId, string resourceGroup, string registryName)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var tokens = await Identities(context).ListTokensAsync(registry.Name, context.RequestAborted);
        await ArmResults.WriteJsonAsync(context, ArmResults.List(tokens.Select(t => (JsonNode)TokenJson(registry, t))));
    }

    public static async Task GetTokenAsync(HttpContext context, string subscriptionId, string resourceGroup, string registryName, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var token = await Identities(context).GetTokenOrNullAsync(registry.Name, name, context.RequestAborted)
            ?? throw ArmException.ResourceNotFound(TokenType, $"{registry.Name}/{name}", resourceGroup);
        await ArmResults.WriteJsonAsync(context, TokenJson(registry, token));
    }

    public static async Task PutTokenAsync(HttpContext context, string subscriptionId, string resourceGroup, string registryName, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var properties = ArmRequest.GetObject(body, "properties")
            ?? throw ArmException.InvalidParameter("The property 'properties' is required.");
        var scopeMapId = ArmRequest.GetString(properties, "scopeMapId")
            ?? throw ArmException.InvalidParameter("The property 'properties.scopeMapId' is required.");
        var scopeMap = ScopeMapName(registry, scopeMapId);
        var enabled = ReadStatus(properties) ?? true;
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

    public static async Task PatchTokenAsync(HttpContext context, string subscriptionId, string resourceGroup, string registryName, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var properties = ArmRequest.GetObject(body, "properties");
        var scopeMapId = ArmRequest.GetString(properties, "scopeMapId");
        var scopeMap = scopeMapId is null ? null : ScopeMapName(registry, scopeMapId);
        var update = new TokenUpdate(scopeMap, ReadStatus(properties), ReadPasswordNames(properties));
        var identities = Identities(context);
        if (await identities.GetTokenOrNullAsync(registry.Name, name, context.RequestAborted) is null)
            throw ArmException.ResourceNotFound(TokenType, $"{registry.Name}/{name}", resourceGroup);
        if (scopeMap is not null)
            await RequireScopeMapAsync(identities, registry, scopeMap, context.RequestAborted);
        var token = await Guard(() => identities.UpdateTokenAsync(registry.Name, name, update, context.RequestAborted));
        await ArmResults.WriteJsonAsync(context, TokenJson(registry, token));
    }

    public static async Task DeleteTokenAsync(HttpContext context, string subscriptionId, string resourceGroup, string registryName, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, registryName);
        var deleted = await Identities(context).DeleteTokenAsync(registry.Name, name, context.RequestAborted);
        context.Response.StatusCode = deleted ? StatusCodes.Status200OK : StatusCodes.Status204NoContent;
    }

    /// <summary><c>POST .../generateCredentials {"tokenId", "name"?, "expiry"?}</c>: both passwords when no name is given.</summary>
    public static async Task GenerateCredentialsAsync(HttpContext context, string subscriptionId, string resourceGroup, string registryName)
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
            throw ArmException.ResourceNotFound(TokenType, $"{registry.Name}/{tokenName}", resourceGroup);
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

    private static bool? ReadStatus(JsonObject? properties) =>
        ArmRequest.GetEnum(properties, "status", "enabled", "disabled") switch
        {
            null => null,
            var status => status == "enabled",
        };

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
