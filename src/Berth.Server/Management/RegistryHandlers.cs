using System.Text.RegularExpressions;
using Berth.Server.Hosting;
using Berth.Server.Configuration;

namespace Berth.Server.Management;

/// <summary>
/// <c>Microsoft.ContainerRegistry/registries</c> (reference §4.1). Long-running operations complete before the
/// response: PUT and PATCH answer 200/201 with <c>provisioningState: Succeeded</c> and no polling headers, which
/// az's and the SDKs' pollers accept as finished.
/// </summary>
internal static partial class RegistryHandlers
{
    /// <summary>Warnings about a change that was made (e.g. tokens no longer restricting pulls); az and berth show response headers with --debug, berth prints them.</summary>
    public const string WarningHeader = "x-ms-berth-warning";

    public static async Task GetAsync(HttpContext context, string subscriptionId, string resourceGroup, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, name);
        await ArmResults.WriteJsonAsync(context, await ToJsonAsync(context, registry));
    }

    public static async Task ListBySubscriptionAsync(HttpContext context, string subscriptionId)
    {
        ArmScope.EnsureSubscription(context, subscriptionId);
        await WriteListAsync(context, r => true);
    }

    public static async Task ListByResourceGroupAsync(HttpContext context, string subscriptionId, string resourceGroup)
    {
        ArmScope.EnsureSubscription(context, subscriptionId);
        ArmScope.EnsureResourceGroupName(resourceGroup);
        await WriteListAsync(context, r => string.Equals(r.ResourceGroup, resourceGroup, StringComparison.OrdinalIgnoreCase));
    }

    public static async Task PutAsync(HttpContext context, string subscriptionId, string resourceGroup, string name)
    {
        ArmScope.EnsureSubscription(context, subscriptionId);
        ArmScope.EnsureResourceGroupName(resourceGroup);
        var services = context.RequestServices;
        var existing = await services.GetRequiredService<RegistryDirectory>().GetOrNullAsync(name, context.RequestAborted);
        if (existing is not null && !string.Equals(existing.ResourceGroup, resourceGroup, StringComparison.OrdinalIgnoreCase))
            throw ArmException.Conflict($"The registry DNS name {existing.LoginServer} is already in use. You can check if the name is already claimed using the checkNameAvailability API.", "AlreadyInUse");
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var changes = RegistryChanges.Parse(body!, isPut: true, existing);
        if (existing is not null)
        {
            if (!string.Equals(existing.Location, changes.Location, StringComparison.OrdinalIgnoreCase))
                throw ArmException.Conflict($"The resource '{existing.Name}' already exists in location '{existing.Location}' in resource group '{existing.ResourceGroup}'. A resource with the same name cannot be created in location '{changes.Location}'. Please select a new resource name.", "InvalidResourceLocation");
            await UpdateAsync(context, existing, changes, StatusCodes.Status200OK);
            return;
        }

        var options = services.GetRequiredService<BerthOptions>();
        if (!Registry.IsValidName(name))
            throw ArmException.InvalidParameter($"Registry name '{name}' is invalid: registry names may contain only alpha numeric characters and must be between 5 and 50 characters.");
        var caller = context.Caller();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var registry = new Registry(name.ToLowerInvariant(), options.LoginServerFor(name), changes.Sku!.Value, changes.AnonymousPullEnabled ?? false,
            options.DefaultSubscriptionId, resourceGroup, changes.Location!, now, 1,
            changes.ApplyToExtras(null, caller.Actor, now, now, created: true),
            changes.AnonymousPullRepositories is { } patterns ? AnonymousAccess.Normalize(patterns) : null);
        Registry created;
        try
        {
            created = await services.GetRequiredService<RegistryService>().CreateAsync(registry, context.RequestAborted);
        }
        catch (RegistryException error) when (error.Code == RegistryErrorCode.AlreadyExists)
        {
            throw ArmException.Conflict($"The registry DNS name {registry.LoginServer} is already in use. You can check if the name is already claimed using the checkNameAvailability API.", "AlreadyInUse");
        }
        if (changes.AdminUserEnabled == true)
            await services.GetRequiredService<IdentityService>().SetAdminUserEnabledAsync(created.Name, true, context.RequestAborted);
        await ArmResults.WriteJsonAsync(context, await ToJsonAsync(context, created), StatusCodes.Status201Created);
    }

    public static async Task PatchAsync(HttpContext context, string subscriptionId, string resourceGroup, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, name);
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        if (ArmRequest.GetString(body, "location") is { } location && !string.Equals(location, registry.Location, StringComparison.OrdinalIgnoreCase))
            throw ArmException.BadRequest("The property 'location' cannot be changed.", "InvalidParameter");
        var changes = RegistryChanges.Parse(body!, isPut: false, registry);
        await UpdateAsync(context, registry, changes, StatusCodes.Status200OK);
    }

    public static async Task DeleteAsync(HttpContext context, string subscriptionId, string resourceGroup, string name)
    {
        ArmScope.EnsureSubscription(context, subscriptionId);
        var services = context.RequestServices;
        var registry = await services.GetRequiredService<RegistryDirectory>().GetOrNullAsync(name, context.RequestAborted);
        if (registry is null || !string.Equals(registry.ResourceGroup, resourceGroup, StringComparison.OrdinalIgnoreCase))
        {
            // ARM: deleting what does not exist succeeds with 204.
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        var options = services.GetRequiredService<BerthOptions>();
        if (string.Equals(registry.Name, options.DefaultRegistry, StringComparison.OrdinalIgnoreCase))
            throw ArmException.Conflict($"Registry '{registry.Name}' is this server's default registry (Berth:DefaultRegistry) and answers requests for unknown hosts; it cannot be deleted.", "OperationNotAllowed");
        await services.GetRequiredService<RegistryService>().DeleteAsync(registry.Name, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    public static async Task ListCredentialsAsync(HttpContext context, string subscriptionId, string resourceGroup, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, name);
        var credentials = await context.RequestServices.GetRequiredService<IdentityService>().GetAdminCredentialsOrNullAsync(registry.Name, context.RequestAborted)
            ?? throw ArmException.BadRequest($"The admin user is disabled for registry '{registry.Name}'. Enable it first (adminUserEnabled: true).", "AdminUserDisabled");
        await ArmResults.WriteJsonAsync(context, CredentialsJson(credentials));
    }

    public static async Task RegenerateCredentialAsync(HttpContext context, string subscriptionId, string resourceGroup, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, name);
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var passwordName = ArmRequest.GetString(body, "name")
            ?? throw ArmException.InvalidParameter("The property 'name' is required: use \"password\" or \"password2\".");
        if (!AdminPasswordNames.IsValid(passwordName))
            throw ArmException.InvalidParameter($"The password name '{passwordName}' is invalid: use \"password\" or \"password2\".");
        var credentials = await context.RequestServices.GetRequiredService<IdentityService>().RegenerateAdminPasswordAsync(registry.Name, passwordName, context.RequestAborted);
        await ArmResults.WriteJsonAsync(context, CredentialsJson(credentials));
    }

    public static async Task CheckNameAvailabilityAsync(HttpContext context, string subscriptionId)
    {
        ArmScope.EnsureSubscription(context, subscriptionId);
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var name = ArmRequest.GetString(body, "name") ?? throw ArmException.InvalidParameter("The property 'name' is required.");
        var type = ArmRequest.GetString(body, "type") ?? ArmRegistry.Type;
        if (!string.Equals(type, ArmRegistry.Type, StringComparison.OrdinalIgnoreCase))
            throw ArmException.InvalidParameter($"The resource type '{type}' is invalid: only '{ArmRegistry.Type}' can be checked.");
        JsonObject result;
        if (!Registry.IsValidName(name))
            result = new JsonObject { ["nameAvailable"] = false, ["reason"] = "Invalid", ["message"] = "Registry names may contain only alpha numeric characters and must be between 5 and 50 characters" };
        else if (await context.RequestServices.GetRequiredService<RegistryDirectory>().GetOrNullAsync(name, context.RequestAborted) is not null)
            result = new JsonObject { ["nameAvailable"] = false, ["reason"] = "AlreadyExists", ["message"] = $"The registry {name} is already in use." };
        else
            result = new JsonObject { ["nameAvailable"] = true };
        await ArmResults.WriteJsonAsync(context, result);
    }

    public static async Task ListUsagesAsync(HttpContext context, string subscriptionId, string resourceGroup, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, name);
        var identities = context.RequestServices.GetRequiredService<IdentityService>();
        var limits = IdentityLimits.For(registry.Sku);
        var (storage, webhooks) = registry.Sku switch
        {
            RegistrySku.Basic => (10L << 30, 2),
            RegistrySku.Standard => (100L << 30, 10),
            _ => (500L << 30, 500),
        };
        var tokens = (await identities.ListTokensAsync(registry.Name, context.RequestAborted)).Count;
        var scopeMaps = (await identities.ListScopeMapsAsync(registry.Name, context.RequestAborted)).Count(m => m.Type == ScopeMapType.UserDefined);
        var size = await context.RequestServices.GetRequiredService<IMetadataStore>().GetRegistrySizeAsync(registry.Name, context.RequestAborted);
        static JsonObject Usage(string name, long limit, long current, string unit) =>
            new() { ["name"] = name, ["limit"] = limit, ["currentValue"] = current, ["unit"] = unit };
        await ArmResults.WriteJsonAsync(context, ArmResults.List(
        [
            // The included storage of the tier is the limit ACR reports; it is not enforced.
            Usage("Size", storage, size, "Bytes"),
            Usage("Webhooks", webhooks, 0, "Count"),
            Usage("ScopeMaps", limits.ScopeMaps, scopeMaps, "Count"),
            Usage("Tokens", limits.Tokens, tokens, "Count"),
        ]));
    }

    /// <summary>Berth's extension: who changed which setting, when, from what to what; newest first. <c>$top</c> limits the count (default 100).</summary>
    public static async Task ActivityLogAsync(HttpContext context, string subscriptionId, string resourceGroup, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, name);
        var top = 100;
        if (context.Request.Query["$top"].ToString() is { Length: > 0 } topText && (!int.TryParse(topText, out top) || top is < 1 or > 1000))
            throw ArmException.InvalidParameter($"The value '{topText}' of '$top' is invalid: use a number from 1 to 1000.");
        var entries = await context.RequestServices.GetRequiredService<RegistryService>().ListActivityAsync(registry.Name, top, context.RequestAborted);
        await ArmResults.WriteJsonAsync(context, ArmResults.List(entries.Select(e => (JsonNode)new JsonObject
        {
            ["registry"] = registry.Name,
            ["timestamp"] = e.At.UtcDateTime.ToString("O"),
            ["actor"] = e.Actor,
            ["setting"] = e.Setting,
            ["oldValue"] = e.OldValue,
            ["newValue"] = e.NewValue,
        })));
    }

    /// <summary><c>GET /subscriptions/{sub}[/resourceGroups/{rg}]/resources</c> with <c>$filter</c> on resourceType, name and resourceGroup.</summary>
    public static async Task ListGenericResourcesAsync(HttpContext context, string subscriptionId, string? resourceGroup)
    {
        ArmScope.EnsureSubscription(context, subscriptionId);
        var filter = ParseFilter(context.Request.Query["$filter"].ToString());
        var registries = await context.RequestServices.GetRequiredService<RegistryService>().ListAsync(context.RequestAborted);
        var matching = registries.Where(r =>
            (resourceGroup is null || string.Equals(r.ResourceGroup, resourceGroup, StringComparison.OrdinalIgnoreCase))
            && filter.All(clause => clause.Key switch
            {
                "resourcetype" => string.Equals(clause.Value, ArmRegistry.Type, StringComparison.OrdinalIgnoreCase),
                "name" => string.Equals(clause.Value, r.Name, StringComparison.OrdinalIgnoreCase),
                "resourcegroup" => string.Equals(clause.Value, r.ResourceGroup, StringComparison.OrdinalIgnoreCase),
                _ => false,
            }));
        await ArmResults.WriteJsonAsync(context, ArmResults.List(matching.Select(r => (JsonNode)ArmRegistry.ToGenericResource(r))));
    }

    [GeneratedRegex(@"^\s*(?<key>resourceType|name|resourceGroup)\s+eq\s+'(?<value>[^']*)'\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex FilterClause();

    /// <summary>The subset of OData ARM supports that az uses: <c>field eq 'value'</c> clauses joined by <c>and</c>.</summary>
    private static IReadOnlyList<KeyValuePair<string, string>> ParseFilter(string filter)
    {
        if (string.IsNullOrWhiteSpace(filter)) return [];
        var clauses = new List<KeyValuePair<string, string>>();
        foreach (var part in Regex.Split(filter, @"\s+and\s+", RegexOptions.IgnoreCase))
        {
            var match = FilterClause().Match(part);
            if (!match.Success)
                throw ArmException.BadRequest($"The $filter '{filter}' is not supported: use resourceType, name or resourceGroup with 'eq', joined by 'and'.", "InvalidFilterInQueryString");
            clauses.Add(new(match.Groups["key"].Value.ToLowerInvariant(), match.Groups["value"].Value));
        }
        return clauses;
    }

    private static async Task UpdateAsync(HttpContext context, Registry registry, RegistryChanges changes, int status)
    {
        var services = context.RequestServices;
        var caller = context.Caller();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var patch = new RegistryPatch(changes.Sku, changes.AnonymousPullEnabled,
            changes.ApplyToExtras(registry.ArmExtrasJson, caller.Actor, now, registry.CreatedAt, created: false), changes.AnonymousPullRepositories);
        RegistryUpdateResult result;
        try
        {
            result = await services.GetRequiredService<RegistryService>().UpdateAsync(registry.Name, patch, caller.Actor, context.RequestAborted);
        }
        catch (RegistryException error)
        {
            throw ArmException.From(error);
        }
        if (changes.AdminUserEnabled is { } adminEnabled)
            await services.GetRequiredService<IdentityService>().SetAdminUserEnabledAsync(registry.Name, adminEnabled, context.RequestAborted);
        foreach (var warning in result.Warnings)
            context.Response.Headers.Append(WarningHeader, warning);
        await ArmResults.WriteJsonAsync(context, await ToJsonAsync(context, result.Registry), status);
    }

    private static async Task WriteListAsync(HttpContext context, Func<Registry, bool> predicate)
    {
        var registries = await context.RequestServices.GetRequiredService<RegistryService>().ListAsync(context.RequestAborted);
        var items = new List<JsonNode>();
        foreach (var registry in registries.Where(predicate))
            items.Add(await ToJsonAsync(context, registry));
        await ArmResults.WriteJsonAsync(context, ArmResults.List(items));
    }

    private static async Task<JsonObject> ToJsonAsync(HttpContext context, Registry registry)
    {
        var admin = await context.RequestServices.GetRequiredService<IdentityService>().GetAdminUserAsync(registry.Name, context.RequestAborted);
        return ArmRegistry.ToJson(registry, admin.Enabled);
    }

    private static JsonObject CredentialsJson(AdminCredentials credentials) => new()
    {
        ["username"] = credentials.Username,
        ["passwords"] = new JsonArray(
            new JsonObject { ["name"] = AdminPasswordNames.Password, ["value"] = credentials.Password },
            new JsonObject { ["name"] = AdminPasswordNames.Password2, ["value"] = credentials.Password2 }),
    };
}
