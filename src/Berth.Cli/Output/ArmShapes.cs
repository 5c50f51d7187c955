namespace Berth.Cli.Output;

/// <summary>
/// Turns ARM wire JSON into the objects az prints. az deserializes into SDK models whose <c>properties</c> are
/// flattened, then adds <c>resourceGroup</c>; fields the model knows but the server omitted print as null (or
/// the model's default), and fields the model does not know are merged in at the top. Keeping that shape is
/// what makes the same <c>--query</c> expressions work with berth and az.
/// </summary>
public static class ArmShapes
{
    private static readonly string[] RegistryFields =
    [
        "adminUserEnabled", "anonymousPullEnabled", "anonymousPullRepositories", "creationDate", "dataEndpointEnabled", "dataEndpointHostNames", "encryption",
        "id", "identity", "location", "loginServer", "name", "networkRuleBypassOptions", "networkRuleSet", "policies",
        "privateEndpointConnections", "provisioningState", "publicNetworkAccess", "sku", "status", "systemData", "tags", "type",
        "zoneRedundancy",
    ];

    private static readonly string[] TokenFields =
    [
        "creationDate", "credentials", "id", "name", "provisioningState", "scopeMapId", "status", "systemData", "type",
    ];

    private static readonly string[] ScopeMapFields =
    [
        "actions", "creationDate", "description", "id", "name", "provisioningState", "scopeMapType", "systemData", "type",
    ];

    private static readonly string[] WebhookFields =
    [
        "actions", "id", "location", "name", "provisioningState", "scope", "status", "systemData", "tags", "type",
    ];

    public static readonly TableLayout WebhookTable = TableLayout.Of(
        ("NAME", "name"), ("LOCATION", "location"), ("ACTIONS", "actions"), ("SCOPE", "scope"), ("STATUS", "status"));

    public static readonly TableLayout WebhookConfigTable = TableLayout.Of(("SERVICE URI", "serviceUri"), ("HEADERS", "customHeaders"));

    /// <summary>az's list-events table: the image as <c>repository:tag</c> and the receiver's answer as <c>status reason</c>.</summary>
    public static readonly TableLayout WebhookEventTable = new(
    [
        ("ID", e => Text(e, "id")),
        ("ACTION", e => Text(e, "eventRequestMessage.content.action")),
        ("IMAGE", e => string.Join(':', new[] { Text(e, "eventRequestMessage.content.target.repository"), Text(e, "eventRequestMessage.content.target.tag") }
            .Where(part => part.Length > 0))),
        ("HTTP STATUS", e => $"{Text(e, "eventResponseMessage.statusCode")} {Text(e, "eventResponseMessage.reasonPhrase")}".Trim()),
        ("TIMESTAMP", e => Text(e, "eventRequestMessage.content.timestamp")),
    ]);
    private static readonly string[] CacheRuleFields =
    [
        "creationDate", "credentialSetResourceId", "id", "name", "provisioningState", "sourceRepository", "systemData", "targetRepository", "type",
    ];

    private static readonly string[] CredentialSetFields =
    [
        "authCredentials", "creationDate", "id", "identity", "loginServer", "name", "provisioningState", "systemData", "type",
    ];

    public static readonly TableLayout CacheRuleTable = TableLayout.Of(
        ("NAME", "name"), ("CREATION DATE", "creationDate"), ("SOURCE REPOSITORY", "sourceRepository"), ("TARGET REPOSITORY", "targetRepository"),
        ("LAST ERROR", "lastError"));

    public static readonly TableLayout CredentialSetTable = TableLayout.Of(
        ("NAME", "name"), ("LOGIN SERVER", "loginServer"), ("CREATION DATE", "creationDate"), ("PROVISIONING STATE", "provisioningState"));

    public static JsonObject CacheRule(JsonNode? wire) => Flatten(wire, CacheRuleFields);

    public static JsonObject CredentialSet(JsonNode? wire) => Flatten(wire, CredentialSetFields);

    public static readonly TableLayout RegistryTable = new(
    [
        ("NAME", r => Text(r, "name")),
        ("RESOURCE GROUP", r => Text(r, "resourceGroup")),
        ("LOCATION", r => Text(r, "location")),
        ("SKU", r => Text(r, "sku.name")),
        ("LOGIN SERVER", r => Text(r, "loginServer")),
        ("CREATION DATE", r => Text(r, "creationDate")),
        ("ADMIN ENABLED", r => Text(r, "adminUserEnabled")),
    ]);

    public static readonly TableLayout TokenTable = new(
    [
        ("NAME", t => Text(t, "name")),
        ("SCOPE MAP", t => Text(t, "scopeMapId").Split('/')[^1]),
        ("PASSWORD1 EXPIRY", t => PasswordExpiry(t, "password1")),
        ("PASSWORD2 EXPIRY", t => PasswordExpiry(t, "password2")),
        ("STATUS", t => Text(t, "status")),
        ("PROVISIONING STATE", t => Text(t, "provisioningState")),
        ("RESOURCE GROUP", t => Text(t, "resourceGroup")),
    ]);

    public static readonly TableLayout ScopeMapTable = TableLayout.Of(
        ("NAME", "name"), ("TYPE", "scopeMapType"), ("CREATION DATE", "creationDate"), ("DESCRIPTION", "description"));

    public static readonly TableLayout UsageTable = TableLayout.Of(
        ("NAME", "name"), ("LIMIT", "limit"), ("CURRENT VALUE", "currentValue"), ("UNIT", "unit"));

    public static readonly TableLayout ActivityLogTable = TableLayout.Of(
        ("TIMESTAMP", "timestamp"), ("ACTOR", "actor"), ("SETTING", "setting"), ("OLD VALUE", "oldValue"), ("NEW VALUE", "newValue"));

    public static readonly TableLayout CheckNameTable = TableLayout.Of(
        ("NAME AVAILABLE", "nameAvailable"), ("REASON", "reason"), ("MESSAGE", "message"));

    public static JsonObject Registry(JsonNode? wire)
    {
        var result = Flatten(wire, RegistryFields);
        // The SDK's defaults: a registry the server describes without these switches has them off.
        result["adminUserEnabled"] ??= false;
        result["anonymousPullEnabled"] ??= false;
        // Wire azureADAuthenticationAsArmPolicy becomes the SDK attribute azure_ad_authentication_as_arm_policy, printed in camelCase.
        if (result["policies"] is JsonObject policies && policies.Remove("azureADAuthenticationAsArmPolicy", out var policy))
        {
            policies["azureAdAuthenticationAsArmPolicy"] = policy;
        }
        return result;
    }

    public static JsonObject Token(JsonNode? wire) => Flatten(wire, TokenFields);

    public static JsonObject Webhook(JsonNode? wire) => Flatten(wire, WebhookFields);

    public static JsonObject ScopeMap(JsonNode? wire)
    {
        var copy = wire?.DeepClone() as JsonObject ?? new JsonObject();
        // properties.type would collide with the resource type once flattened; the SDK names it scopeMapType.
        if (copy["properties"] is JsonObject properties && properties.Remove("type", out var kind))
        {
            properties["scopeMapType"] = kind;
        }
        return Flatten(copy, ScopeMapFields);
    }

    /// <summary>Lifts <c>properties.*</c> to the top, fills the model's absent fields with null and adds <c>resourceGroup</c>.</summary>
    public static JsonObject Flatten(JsonNode? wire, IEnumerable<string> modelFields)
    {
        var result = new JsonObject();
        foreach (var field in modelFields)
        {
            result[field] = null;
        }
        if (wire is JsonObject obj)
        {
            foreach (var (key, value) in obj)
            {
                if (key == "properties" && value is JsonObject properties)
                {
                    foreach (var (name, property) in properties)
                    {
                        result[name] = property?.DeepClone();
                    }
                }
                else
                {
                    result[key] = value?.DeepClone();
                }
            }
        }
        if (result["id"]?.GetValue<string>() is { } id && ResourceGroupOf(id) is { } group)
        {
            result["resourceGroup"] = group;
        }
        return result;
    }

    /// <summary>The resource group named in an ARM id, as it is spelled there.</summary>
    public static string? ResourceGroupOf(string id)
    {
        var parts = id.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i + 1 < parts.Length; i++)
        {
            if (parts[i].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase))
            {
                return parts[i + 1];
            }
        }
        return null;
    }

    private static string Text(JsonNode? item, string path) => ResultWriter.Scalar(TableLayout.Lookup(item, path));

    private static string PasswordExpiry(JsonNode? token, string name)
    {
        if (TableLayout.Lookup(token, "credentials.passwords") is not JsonArray passwords)
        {
            return "";
        }
        var password = passwords.OfType<JsonObject>().FirstOrDefault(p => ResultWriter.Scalar(p["name"]) == name);
        return password is null ? "" : ResultWriter.Scalar(password["expiry"]) is { Length: > 0 } expiry ? expiry : "Never";
    }
}
