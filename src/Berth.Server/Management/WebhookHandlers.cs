using System.Globalization;
using Berth.Core.Webhooks;

namespace Berth.Server.Management;

/// <summary>
/// <c>registries/webhooks</c> as ACR answers them (reference acr-lifecycle §2): the webhook's service URI and custom
/// headers are write-only secrets, returned by <c>getCallbackConfig</c> alone; <c>ping</c> queues a ping event and
/// <c>listEvents</c> pages through the recorded delivery attempts, newest first.
/// </summary>
internal static class WebhookHandlers
{
    public const string Type = "Microsoft.ContainerRegistry/registries/webhooks";
    private const int EventsPerPage = 50;

    private delegate Task WebhookHandler(HttpContext context, Registry registry, string resourceGroup, string name);

    public static void MapRoutes(IEndpointRouteBuilder arm, string registryRoute)
    {
        var collection = registryRoute + "/webhooks";
        arm.MapGet(collection, async (HttpContext c, string subscriptionId, string resourceGroup, string name) =>
        {
            var registry = await ArmScope.FindRegistryAsync(c, subscriptionId, resourceGroup, name);
            var webhooks = await Webhooks(c).ListAsync(registry.Name, c.RequestAborted);
            await ArmResults.WriteJsonAsync(c, ArmResults.List(webhooks.Select(w => (JsonNode)Json(registry, w))));
        });
        var routes = new (string Method, string Suffix, WebhookHandler Handler)[]
        {
            (HttpMethods.Get, "", GetAsync),
            (HttpMethods.Put, "", PutAsync),
            (HttpMethods.Patch, "", PatchAsync),
            (HttpMethods.Delete, "", DeleteAsync),
            (HttpMethods.Post, "/ping", PingAsync),
            (HttpMethods.Post, "/getCallbackConfig", GetCallbackConfigAsync),
            (HttpMethods.Post, "/listEvents", ListEventsAsync),
            // The SDKs follow listEvents' nextLink with GET.
            (HttpMethods.Get, "/listEvents", ListEventsAsync),
        };
        foreach (var (method, suffix, handler) in routes)
        {
            arm.MapMethods(collection + "/{webhookName}" + suffix, [method],
                async (HttpContext c, string subscriptionId, string resourceGroup, string name, string webhookName) =>
                {
                    var registry = await ArmScope.FindRegistryAsync(c, subscriptionId, resourceGroup, name);
                    try
                    {
                        await handler(c, registry, resourceGroup, webhookName);
                    }
                    catch (WebhookException error)
                    {
                        throw error.Code switch
                        {
                            WebhookErrorCode.NotFound => NotFound(registry, resourceGroup, webhookName),
                            WebhookErrorCode.QuotaExceeded => ArmException.Conflict(error.Message, "QuotaExceeded"),
                            WebhookErrorCode.DestinationRefused => ArmException.BadRequest(error.Message, "WebhookDestinationRefused"),
                            _ => ArmException.InvalidParameter(error.Message),
                        };
                    }
                });
        }
    }

    private static async Task GetAsync(HttpContext context, Registry registry, string resourceGroup, string name)
    {
        var webhook = await Webhooks(context).GetOrNullAsync(registry.Name, name, context.RequestAborted) ?? throw NotFound(registry, resourceGroup, name);
        await ArmResults.WriteJsonAsync(context, Json(registry, webhook));
    }

    /// <summary>ACR's WebhookCreateParameters: <c>location</c>, <c>properties.serviceUri</c> and <c>properties.actions</c> are required.</summary>
    private static async Task PutAsync(HttpContext context, Registry registry, string resourceGroup, string name)
    {
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var location = ArmRequest.GetString(body, "location") ?? throw ArmException.InvalidParameter("The property 'location' is required.");
        var properties = ArmRequest.GetObject(body, "properties") ?? throw ArmException.InvalidParameter("The property 'properties' is required.");
        var definition = new WebhookDefinition(
            location,
            ReadStrings(body, "tags") ?? new Dictionary<string, string>(),
            ArmRequest.GetString(properties, "serviceUri") ?? throw ArmException.InvalidParameter("The property 'properties.serviceUri' is required."),
            ReadHeaders(properties) ?? new Dictionary<string, string>(),
            ReadActions(properties) ?? throw ArmException.InvalidParameter("The property 'properties.actions' is required."),
            ArmRequest.GetString(properties, "scope") ?? "",
            ArmRequest.GetStatus(properties) ?? true);
        var (webhook, created) = await Webhooks(context).PutAsync(registry, name, definition, context.RequestAborted);
        await ArmResults.WriteJsonAsync(context, Json(registry, webhook), created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    /// <summary>ACR's WebhookUpdateParameters: only the fields given change (<c>az acr webhook update</c> sends no GET first).</summary>
    private static async Task PatchAsync(HttpContext context, Registry registry, string resourceGroup, string name)
    {
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var properties = ArmRequest.GetObject(body, "properties");
        var patch = new WebhookPatch(ArmRequest.GetString(properties, "serviceUri"), ReadHeaders(properties), ReadActions(properties),
            ArmRequest.GetString(properties, "scope"), ArmRequest.GetStatus(properties), ReadStrings(body, "tags"));
        var webhook = await Webhooks(context).UpdateAsync(registry, name, patch, context.RequestAborted);
        await ArmResults.WriteJsonAsync(context, Json(registry, webhook));
    }

    /// <summary>200 when something was deleted, 204 when there was nothing to delete, as ARM answers.</summary>
    private static async Task DeleteAsync(HttpContext context, Registry registry, string resourceGroup, string name) =>
        context.Response.StatusCode = await Webhooks(context).DeleteAsync(registry.Name, name, context.RequestAborted)
            ? StatusCodes.Status200OK
            : StatusCodes.Status204NoContent;

    private static async Task PingAsync(HttpContext context, Registry registry, string resourceGroup, string name) =>
        await ArmResults.WriteJsonAsync(context, new JsonObject { ["id"] = await Webhooks(context).PingAsync(registry.Name, name, context.RequestAborted) });

    private static async Task GetCallbackConfigAsync(HttpContext context, Registry registry, string resourceGroup, string name)
    {
        var callback = await Webhooks(context).GetCallbackOrNullAsync(registry.Name, name, context.RequestAborted) ?? throw NotFound(registry, resourceGroup, name);
        await ArmResults.WriteJsonAsync(context, new JsonObject
        {
            ["serviceUri"] = callback.ServiceUri.OriginalString,
            ["customHeaders"] = Strings(callback.CustomHeaders),
        });
    }

    /// <summary>A page of attempts; <c>nextLink</c> carries the last one shown as <c>$skipToken</c>.</summary>
    private static async Task ListEventsAsync(HttpContext context, Registry registry, string resourceGroup, string name)
    {
        var after = ParseSkipToken(context.Request.Query["$skipToken"].ToString());
        var attempts = await Webhooks(context).ListAttemptsAsync(registry.Name, name, EventsPerPage + 1, after, context.RequestAborted);
        var page = attempts.Take(EventsPerPage).ToList();
        var body = ArmResults.List(page.Select(EventJson));
        if (attempts.Count > EventsPerPage)
        {
            var last = page[^1];
            var token = $"{last.AttemptedAt.ToUnixTimeMilliseconds()}.{last.Attempt}.{last.DeliveryId}";
            var request = context.Request;
            var apiVersion = request.Query["api-version"].ToString();
            body["nextLink"] = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}?api-version={Uri.EscapeDataString(apiVersion)}&$skipToken={Uri.EscapeDataString(token)}";
        }
        await ArmResults.WriteJsonAsync(context, body);
    }

    private static WebhookAttemptCursor? ParseSkipToken(string token)
    {
        if (token.Length == 0) return null;
        var parts = token.Split('.', 3);
        if (parts.Length != 3 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var at)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var attempt))
            throw ArmException.InvalidParameter($"The $skipToken '{token}' is invalid; use the nextLink of the previous page.");
        return new WebhookAttemptCursor(DateTimeOffset.FromUnixTimeMilliseconds(at), parts[2], attempt);
    }

    // ---- JSON ---------------------------------------------------------------------------------------------

    private static JsonObject Json(Registry registry, Webhook webhook) => new()
    {
        ["id"] = $"{ArmRegistry.Id(registry)}/webhooks/{webhook.Name}",
        ["name"] = webhook.Name,
        ["type"] = Type,
        ["location"] = webhook.Location,
        ["tags"] = Strings(webhook.Tags),
        ["properties"] = new JsonObject
        {
            ["status"] = webhook.Enabled ? "enabled" : "disabled",
            ["scope"] = webhook.Scope,
            ["actions"] = new JsonArray(webhook.Actions.Select(a => (JsonNode)JsonValue.Create(a)).ToArray()),
            ["provisioningState"] = "Succeeded",
        },
    };

    /// <summary>ACR's Event: the request Berth sent (payload, standard headers, the destination's origin) and what the receiver answered.</summary>
    private static JsonNode EventJson(WebhookAttempt attempt) => new JsonObject
    {
        ["id"] = attempt.DeliveryId,
        ["eventRequestMessage"] = new JsonObject
        {
            ["content"] = JsonNode.Parse(attempt.Payload),
            ["headers"] = Strings(attempt.RequestHeaders),
            ["method"] = "POST",
            ["requestUri"] = attempt.RequestUri,
            ["version"] = "1.1",
        },
        ["eventResponseMessage"] = new JsonObject
        {
            ["content"] = attempt.ResponseContent,
            ["headers"] = Strings(attempt.ResponseHeaders),
            ["reasonPhrase"] = attempt.ReasonPhrase,
            ["statusCode"] = attempt.StatusCode == 0 ? null : attempt.StatusCode.ToString(CultureInfo.InvariantCulture),
            ["version"] = "1.1",
        },
    };

    private static JsonObject Strings(IReadOnlyDictionary<string, string> values) =>
        new(values.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)JsonValue.Create(pair.Value))));

    // ---- request parts ------------------------------------------------------------------------------------

    private static Dictionary<string, string>? ReadStrings(JsonObject? parent, string name)
    {
        var values = ArmRequest.GetObject(parent, name);
        if (values is null) return null;
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in values)
        {
            result[key] = value is JsonValue text && text.TryGetValue<string>(out var s)
                ? s
                : throw ArmException.InvalidParameter($"Every value of '{name}' must be a string ('{key}' is not).");
        }
        return result;
    }

    /// <summary><c>customHeaders</c>; <c>{"{}": ""}</c> is what <c>az acr webhook update --headers {}</c> sends to clear them.</summary>
    private static Dictionary<string, string>? ReadHeaders(JsonObject? properties)
    {
        var headers = ReadStrings(properties, "customHeaders");
        return headers is { Count: 1 } && headers.TryGetValue("{}", out var empty) && empty.Length == 0 ? [] : headers;
    }

    private static List<string>? ReadActions(JsonObject? properties) =>
        ArmRequest.GetArray(properties, "actions")?.Select(item => item is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : throw ArmException.InvalidParameter("Every entry of 'properties.actions' must be a string such as \"push\".")).ToList();

    private static ArmException NotFound(Registry registry, string resourceGroup, string name) =>
        ArmException.ChildResourceNotFound(Type, registry.Name, name, resourceGroup);

    private static WebhookService Webhooks(HttpContext context) => context.RequestServices.GetRequiredService<WebhookService>();
}
