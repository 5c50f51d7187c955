namespace Berth.Server.Management;

/// <summary>
/// The settings a registry PUT or PATCH body asks for, checked completely before anything is changed. Null means
/// "not given" (PATCH leaves it as it is). Properties Berth cannot honour (network isolation, customer-managed keys,
/// dedicated data endpoints, managed identities) are refused rather than stored and silently ignored.
/// </summary>
internal sealed record RegistryChanges(
    string? Location,
    RegistrySku? Sku,
    bool? AnonymousPullEnabled,
    IReadOnlyList<string>? AnonymousPullRepositories,
    bool? AdminUserEnabled,
    JsonObject? Tags,
    JsonObject StoredProperties)
{
    public static RegistryChanges Parse(JsonObject body, bool isPut, Registry? existing)
    {
        var location = ArmRequest.GetString(body, "location");
        if (isPut && string.IsNullOrWhiteSpace(location))
            throw ArmException.BadRequest("The 'location' property is required for this definition.", "LocationRequired");
        if (location is not null && (location.Length > 100 || location.Any(char.IsControl)))
            throw ArmException.InvalidParameter($"The location '{location}' is invalid.");

        RegistrySku? sku = null;
        var skuObject = ArmRequest.GetObject(body, "sku");
        if (skuObject is not null)
        {
            var name = ArmRequest.GetString(skuObject, "name")
                ?? throw ArmException.InvalidParameter("The property 'sku.name' is required: use Basic, Standard or Premium.");
            sku = Enum.GetValues<RegistrySku>().Cast<RegistrySku?>().FirstOrDefault(s => string.Equals(s.ToString(), name, StringComparison.OrdinalIgnoreCase))
                ?? throw ArmException.InvalidParameter($"The SKU '{name}' is invalid: use Basic, Standard or Premium.");
        }
        else if (isPut && existing is null)
        {
            throw ArmException.InvalidParameter("The property 'sku' is required: use {\"name\": \"Basic\"|\"Standard\"|\"Premium\"}.");
        }
        var effectiveSku = sku ?? existing?.Sku ?? RegistrySku.Standard;

        var tags = ArmRequest.GetObject(body, "tags");
        if (tags is not null)
        {
            if (tags.Count > 50)
                throw ArmException.InvalidParameter("A resource may have at most 50 tags.");
            foreach (var (key, value) in tags)
            {
                if (key.Length is 0 or > 512 || value is not JsonValue v || !v.TryGetValue<string>(out var text) || text.Length > 256)
                    throw ArmException.InvalidParameter($"The tag '{key}' is invalid: tag names are 1-512 characters and values are strings of at most 256.");
            }
            tags = (JsonObject)tags.DeepClone();
        }

        if (ArmRequest.GetObject(body, "identity") is { } identity
            && !string.Equals(ArmRequest.GetString(identity, "type") ?? "None", "None", StringComparison.OrdinalIgnoreCase))
            throw ArmException.BadRequest("Managed identities for registries are not supported by Berth.", "FeatureNotSupported");

        var properties = ArmRequest.GetObject(body, "properties");
        var stored = new JsonObject();

        if (ArmRequest.GetEnum(properties, "publicNetworkAccess", "Enabled", "Disabled") is { } publicNetworkAccess)
        {
            if (publicNetworkAccess == "Disabled")
            {
                throw effectiveSku == RegistrySku.Premium
                    ? ArmException.BadRequest("Disabling public network access is not supported by Berth: it has no private endpoints.", "FeatureNotSupported")
                    : ArmException.BadRequest($"Disabling public network access is not supported for the SKU {effectiveSku}.", "DisablingPublicNetworkAccessNotSupported");
            }
            stored["publicNetworkAccess"] = publicNetworkAccess;
        }
        if (ArmRequest.GetEnum(properties, "networkRuleBypassOptions", "AzureServices", "None") is { } bypass)
            stored["networkRuleBypassOptions"] = bypass;
        if (ArmRequest.GetBool(properties, "networkRuleBypassAllowedForTasks") is { } bypassForTasks)
            stored["networkRuleBypassAllowedForTasks"] = bypassForTasks;
        if (ArmRequest.GetEnum(properties, "zoneRedundancy", "Enabled", "Disabled") is { } zoneRedundancy)
        {
            var current = existing is null ? "Disabled" : ArmRequest.GetString(ArmRegistry.ParseExtras(existing.ArmExtrasJson)["properties"] as JsonObject, "zoneRedundancy") ?? "Disabled";
            if (existing is not null && zoneRedundancy != current)
                throw ArmException.BadRequest("The property 'zoneRedundancy' cannot be changed after the registry was created.", "InvalidParameter");
            stored["zoneRedundancy"] = zoneRedundancy;
        }
        if (ArmRequest.GetBool(properties, "dataEndpointEnabled") is { } dataEndpoint)
        {
            if (dataEndpoint)
                throw ArmException.BadRequest("Dedicated data endpoints are not supported by Berth: blobs are served by the login server.", "FeatureNotSupported");
            stored["dataEndpointEnabled"] = false;
        }
        if (ArmRequest.GetEnum(properties, "roleAssignmentMode", "LegacyRegistryPermissions", "AbacRepositoryPermissions") is { } roleAssignmentMode)
            stored["roleAssignmentMode"] = roleAssignmentMode;
        if (ArmRequest.GetObject(properties, "encryption") is { } encryption)
        {
            if (!string.Equals(ArmRequest.GetString(encryption, "status") ?? "disabled", "disabled", StringComparison.OrdinalIgnoreCase))
                throw ArmException.BadRequest("Customer-managed key encryption is not supported by Berth.", "FeatureNotSupported");
            stored["encryption"] = new JsonObject { ["status"] = "disabled" };
        }
        if (ArmRequest.GetObject(properties, "networkRuleSet") is { } networkRuleSet)
        {
            var action = ArmRequest.GetEnum(networkRuleSet, "defaultAction", "Allow", "Deny") ?? "Allow";
            if (action == "Deny" || ArmRequest.GetArray(networkRuleSet, "ipRules") is { Count: > 0 })
                throw ArmException.BadRequest("Network rules are not supported by Berth: every client that reaches the server reaches its registries.", "FeatureNotSupported");
            stored["networkRuleSet"] = new JsonObject { ["defaultAction"] = "Allow", ["ipRules"] = new JsonArray() };
        }
        var lifecycle = existing is null ? LifecyclePolicies.Disabled : LifecyclePolicies.Of(existing);
        if (ArmRequest.GetObject(properties, "policies") is { } policies)
        {
            var merged = new JsonObject();
            foreach (var (key, value) in policies)
            {
                if (value is null) continue;
                if (value is not JsonObject policy)
                    throw ArmException.InvalidParameter($"The policy '{key}' must be a JSON object.");
                if (string.Equals(key, RetentionPolicyKey, StringComparison.OrdinalIgnoreCase))
                {
                    var retention = lifecycle.Retention with
                    {
                        Enabled = ReadStatus(policy, key) ?? lifecycle.Retention.Enabled,
                        Days = ReadDays(policy, "days", key, RetentionPolicy.MinDays, RetentionPolicy.MaxDays) ?? lifecycle.Retention.Days,
                    };
                    lifecycle = lifecycle with { Retention = retention };
                    merged[RetentionPolicyKey] = new JsonObject { ["days"] = retention.Days, ["status"] = Status(retention.Enabled) };
                    continue;
                }
                if (string.Equals(key, SoftDeletePolicyKey, StringComparison.OrdinalIgnoreCase))
                {
                    var softDelete = lifecycle.SoftDelete with
                    {
                        Enabled = ReadStatus(policy, key) ?? lifecycle.SoftDelete.Enabled,
                        RetentionDays = ReadDays(policy, "retentionDays", key, SoftDeletePolicy.MinDays, SoftDeletePolicy.MaxDays) ?? lifecycle.SoftDelete.RetentionDays,
                    };
                    lifecycle = lifecycle with { SoftDelete = softDelete };
                    merged[SoftDeletePolicyKey] = new JsonObject { ["retentionDays"] = softDelete.RetentionDays, ["status"] = Status(softDelete.Enabled) };
                    continue;
                }
                if (UnenforcedPolicies.TryGetValue(key, out var unenforced)
                    && string.Equals(ArmRequest.GetString(policy, "status"), unenforced.Status, StringComparison.OrdinalIgnoreCase))
                    throw ArmException.BadRequest($"{unenforced.Feature} is not supported by Berth: the policy '{key}' cannot be {unenforced.Status}.", "FeatureNotSupported");
                merged[key] = value.DeepClone();
            }
            stored["policies"] = merged;
        }
        EnsureLifecycleAllowed(lifecycle, effectiveSku);

        return new RegistryChanges(location?.Trim(), sku,
            ArmRequest.GetBool(properties, "anonymousPullEnabled"),
            ReadAnonymousPullRepositories(properties),
            ArmRequest.GetBool(properties, "adminUserEnabled"),
            tags, stored);
    }

    /// <summary>
    /// Berth's extension <c>properties.anonymousPullRepositories</c>: the repository patterns anonymous pull is limited to.
    /// Absent leaves the list as it is; <c>null</c>, <c>[]</c> or <c>["*"]</c> mean every repository (ACR's meaning).
    /// </summary>
    private static IReadOnlyList<string>? ReadAnonymousPullRepositories(JsonObject? properties)
    {
        if (properties is null || !properties.TryGetPropertyValue("anonymousPullRepositories", out var node)) return null;
        if (node is null) return [];
        var array = node as JsonArray ?? throw ArmException.InvalidParameter("The property 'anonymousPullRepositories' must be an array of repository patterns.");
        if (array.Count > MaxAnonymousPullRepositories)
            throw ArmException.InvalidParameter($"The property 'anonymousPullRepositories' may hold at most {MaxAnonymousPullRepositories} patterns.");
        var patterns = new List<string>(array.Count);
        foreach (var item in array)
        {
            if (item is not JsonValue value || !value.TryGetValue<string>(out var pattern))
                throw ArmException.InvalidParameter("The property 'anonymousPullRepositories' must be an array of repository patterns (strings).");
            patterns.Add(pattern);
        }
        try
        {
            AnonymousAccess.Normalize(patterns);
        }
        catch (ArgumentException error)
        {
            throw ArmException.InvalidParameter($"The property 'anonymousPullRepositories' holds an invalid pattern: {error.Message}");
        }
        return patterns;
    }

    private const string RetentionPolicyKey = "retentionPolicy";
    private const string SoftDeletePolicyKey = "softDeletePolicy";

    /// <summary>
    /// ACR's rules for the lifecycle policies, checked on the registry as it would be after the change (so a SKU change
    /// is checked too): retention is a Premium feature, and soft delete and retention cannot both be on, since retention
    /// deletes what soft delete would keep.
    /// </summary>
    private static void EnsureLifecycleAllowed(LifecyclePolicies lifecycle, RegistrySku sku)
    {
        if (lifecycle.Retention.Enabled && sku != RegistrySku.Premium)
            throw ArmException.BadRequest($"The retention policy is only supported for registries in the Premium SKU; this registry is {sku}.", "RetentionPolicyNotSupported");
        if (lifecycle.Retention.Enabled && lifecycle.SoftDelete.Enabled)
            throw ArmException.BadRequest(
                "The soft delete policy and the retention policy cannot both be enabled: disable the one before enabling the other.", "PolicyConflict");
    }

    private static string Status(bool enabled) => enabled ? "enabled" : "disabled";

    private static bool? ReadStatus(JsonObject policy, string key) =>
        ArmRequest.GetEnum(policy, "status", "enabled", "disabled") is { } status ? status == "enabled" : null;

    private static int? ReadDays(JsonObject policy, string property, string key, int min, int max)
    {
        var node = policy[property];
        if (node is null) return null;
        if (node is not JsonValue value || !value.TryGetValue<int>(out var days) || days < min || days > max)
            throw ArmException.InvalidParameter($"The property '{key}.{property}' must be a whole number of days from {min} to {max}; '{node.ToJsonString()}' is not.");
        return days;
    }

    /// <summary>As many patterns as a scope map may hold actions; more would only slow every anonymous request down.</summary>
    private const int MaxAnonymousPullRepositories = 500;

    /// <summary>
    /// Policies ACR enforces and Berth does not, with the status that would ask for enforcement: refused, so that a
    /// registry never shows a policy as in force that nothing carries out. The statuses Berth shows by default pass.
    /// </summary>
    private static readonly Dictionary<string, (string Status, string Feature)> UnenforcedPolicies = new(StringComparer.OrdinalIgnoreCase)
    {
        ["quarantinePolicy"] = ("enabled", "Quarantine (images held back until a scanner releases them)"),
        ["trustPolicy"] = ("enabled", "Content trust (Notary v1 signing)"),
        ["azureADAuthenticationAsArmPolicy"] = ("disabled", "Refusing Azure AD tokens with the ARM audience on the data plane"),
    };

    /// <summary>
    /// The registry's stored ARM extras with these changes applied (policies merge by policy name; tags replace). A
    /// lifecycle policy that changes gets <c>lastUpdatedTime</c>; retention switched on records since when it counts.
    /// </summary>
    public string ApplyToExtras(string? currentJson, string actor, DateTimeOffset now, DateTimeOffset createdAt, bool created)
    {
        var extras = ArmRegistry.ParseExtras(currentJson);
        var before = LifecyclePolicies.Read(currentJson);
        var previousPolicies = (extras["properties"] as JsonObject)?["policies"] as JsonObject;
        if (StoredProperties["policies"] is JsonObject changedPolicies)
        {
            foreach (var key in new[] { RetentionPolicyKey, SoftDeletePolicyKey })
            {
                if (changedPolicies[key] is not JsonObject policy) continue;
                var previous = previousPolicies?[key] as JsonObject;
                var unchanged = previous?["lastUpdatedTime"] is not null
                    && policy.All(field => JsonNode.DeepEquals(field.Value, previous[field.Key]));
                policy["lastUpdatedTime"] = unchanged ? previous!["lastUpdatedTime"]!.DeepClone() : now.UtcDateTime.ToString("O");
            }
            if (changedPolicies[RetentionPolicyKey] is JsonObject retention && (string?)retention["status"] == "enabled" && !before.Retention.Enabled)
                extras[LifecyclePolicies.RetentionEnabledSinceKey] = now.UtcDateTime.ToString("O");
        }
        var properties = extras["properties"] as JsonObject ?? new JsonObject();
        foreach (var (key, value) in StoredProperties)
        {
            if (key == "policies" && properties["policies"] is JsonObject existingPolicies && value is JsonObject newPolicies)
            {
                foreach (var (policy, setting) in newPolicies)
                    existingPolicies[policy] = setting?.DeepClone();
                continue;
            }
            properties[key] = value?.DeepClone();
        }
        extras["properties"] = properties;
        if (Tags is not null)
            extras["tags"] = Tags.DeepClone();
        var systemData = extras["systemData"] as JsonObject ?? new JsonObject();
        if (created || !systemData.ContainsKey("createdAt"))
        {
            systemData["createdBy"] = created ? actor : "berth";
            systemData["createdByType"] = "Application";
            systemData["createdAt"] = createdAt.UtcDateTime.ToString("O");
        }
        systemData["lastModifiedBy"] = actor;
        systemData["lastModifiedByType"] = "Application";
        systemData["lastModifiedAt"] = now.UtcDateTime.ToString("O");
        extras["systemData"] = systemData;
        return extras.ToJsonString();
    }
}
