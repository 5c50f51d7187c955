namespace Berth.Server.Management;

/// <summary>
/// The registry resource as ARM shows it (reference §4.1). Berth models the settings it enforces (sku,
/// anonymousPullEnabled, adminUserEnabled) itself; the other writable ARM properties (tags, policies,
/// publicNetworkAccess, ...) are kept verbatim in <see cref="Registry.ArmExtrasJson"/>:
/// <c>{"tags":{},"properties":{},"systemData":{}}</c>.
/// </summary>
internal static class ArmRegistry
{
    public const string Type = "Microsoft.ContainerRegistry/registries";
    public const string Provider = "Microsoft.ContainerRegistry";

    /// <summary>Writable properties stored as given; the order is the order ARM shows them in.</summary>
    public static readonly string[] StoredProperties =
    [
        "networkRuleSet", "policies", "encryption", "dataEndpointEnabled", "publicNetworkAccess", "networkRuleBypassOptions",
        "networkRuleBypassAllowedForTasks", "zoneRedundancy", "roleAssignmentMode",
    ];

    public static string Id(Registry registry) =>
        $"/subscriptions/{registry.SubscriptionId}/resourceGroups/{registry.ResourceGroup}/providers/{Type}/{registry.Name}";

    public static JsonObject ParseExtras(string? json)
    {
        if (string.IsNullOrEmpty(json)) return new JsonObject();
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? new JsonObject();
        }
        catch (System.Text.Json.JsonException)
        {
            return new JsonObject();
        }
    }

    public static JsonObject ToJson(Registry registry, bool adminUserEnabled)
    {
        var extras = ParseExtras(registry.ArmExtrasJson);
        var stored = extras["properties"] as JsonObject ?? new JsonObject();
        var created = registry.CreatedAt.UtcDateTime.ToString("O");
        var systemData = extras["systemData"]?.DeepClone() as JsonObject ?? new JsonObject
        {
            ["createdBy"] = "berth",
            ["createdByType"] = "Application",
            ["createdAt"] = created,
            ["lastModifiedBy"] = "berth",
            ["lastModifiedByType"] = "Application",
            ["lastModifiedAt"] = created,
        };
        var properties = new JsonObject
        {
            ["loginServer"] = registry.LoginServer,
            ["creationDate"] = created,
            ["provisioningState"] = "Succeeded",
            ["adminUserEnabled"] = adminUserEnabled,
        };
        var defaults = Defaults(registry);
        // A registry shows every policy: those never set keep ACR's defaults (az reads policies.softDeletePolicy, for one).
        if (stored["policies"] is JsonObject storedPolicies && defaults["policies"] is JsonObject defaultPolicies)
            foreach (var (policy, setting) in storedPolicies)
                defaultPolicies[policy] = setting?.DeepClone();
        foreach (var name in StoredProperties)
        {
            var value = name == "policies" ? defaults[name]?.DeepClone() : stored[name]?.DeepClone() ?? defaults[name]?.DeepClone();
            if (value is not null || defaults.ContainsKey(name))
                properties[name] = value;
            if (name == "dataEndpointEnabled")
            {
                properties["dataEndpointHostNames"] = new JsonArray();
                properties["privateEndpointConnections"] = new JsonArray();
            }
        }
        properties["anonymousPullEnabled"] = registry.AnonymousPullEnabled;
        // Berth's extension: absent means every repository, as in ACR.
        if (registry.AnonymousPullRepositories is { } patterns)
            properties["anonymousPullRepositories"] = new JsonArray(patterns.Select(p => (JsonNode?)p).ToArray());
        return new JsonObject
        {
            ["id"] = Id(registry),
            ["name"] = registry.Name,
            ["type"] = Type,
            ["location"] = registry.Location,
            ["tags"] = extras["tags"]?.DeepClone() ?? new JsonObject(),
            ["sku"] = new JsonObject { ["name"] = registry.Sku.ToString(), ["tier"] = registry.Sku.ToString() },
            ["systemData"] = systemData,
            ["properties"] = properties,
        };
    }

    /// <summary>The generic resources list's entry (<c>GET /subscriptions/{sub}/resources</c>): az parses the resource group out of <c>id</c>.</summary>
    public static JsonObject ToGenericResource(Registry registry)
    {
        var extras = ParseExtras(registry.ArmExtrasJson);
        return new JsonObject
        {
            ["id"] = Id(registry),
            ["name"] = registry.Name,
            ["type"] = Type,
            ["sku"] = new JsonObject { ["name"] = registry.Sku.ToString(), ["tier"] = registry.Sku.ToString() },
            ["location"] = registry.Location,
            ["tags"] = extras["tags"]?.DeepClone() ?? new JsonObject(),
        };
    }

    /// <summary>What ACR shows for a registry nobody configured further (network rules exist on Premium only).</summary>
    private static JsonObject Defaults(Registry registry)
    {
        var created = registry.CreatedAt.UtcDateTime.ToString("O");
        return new JsonObject
        {
            ["networkRuleSet"] = registry.Sku == RegistrySku.Premium ? new JsonObject { ["defaultAction"] = "Allow", ["ipRules"] = new JsonArray() } : null,
            ["policies"] = new JsonObject
            {
                ["quarantinePolicy"] = new JsonObject { ["status"] = "disabled" },
                ["trustPolicy"] = new JsonObject { ["type"] = "Notary", ["status"] = "disabled" },
                ["retentionPolicy"] = new JsonObject { ["days"] = 7, ["lastUpdatedTime"] = created, ["status"] = "disabled" },
                ["exportPolicy"] = new JsonObject { ["status"] = "enabled" },
                ["azureADAuthenticationAsArmPolicy"] = new JsonObject { ["status"] = "enabled" },
                ["softDeletePolicy"] = new JsonObject { ["retentionDays"] = 7, ["lastUpdatedTime"] = created, ["status"] = "disabled" },
            },
            ["encryption"] = new JsonObject { ["status"] = "disabled" },
            ["dataEndpointEnabled"] = false,
            ["publicNetworkAccess"] = "Enabled",
            ["networkRuleBypassOptions"] = "AzureServices",
            ["zoneRedundancy"] = "Disabled",
        };
    }
}
