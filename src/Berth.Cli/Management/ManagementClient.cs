using System.Net.Http.Headers;

namespace Berth.Cli.Management;

/// <summary>
/// The ARM-shaped management API as az uses it: a bearer token from the server's ADFS-style token endpoint
/// (client credentials), the subscription, resource-group resolution through the generic resources list, and
/// ARM errors turned into az's one-line <c>ERROR: (Code) message</c>.
/// </summary>
public sealed class ManagementClient
{
    public const string RegistryApiVersion = "2022-02-01-preview";
    public const string TokenApiVersion = "2020-11-01-preview";
    /// <summary>What az 2.46+ sends for <c>acr cache</c> and <c>acr credential-set</c>.</summary>
    public const string CacheApiVersion = "2023-01-01-preview";
    public const string ResourcesApiVersion = "2021-04-01";
    public const string SubscriptionsApiVersion = "2019-11-01";
    public const string RegistryType = "Microsoft.ContainerRegistry/registries";

    private readonly CommandContext _context;
    private ServerConnection? _connection;
    private string? _token;
    private string? _subscriptionId;

    public ManagementClient(CommandContext context) => _context = context;

    public ServerConnection Connection => _connection ??= ServerLocator.Locate(_context);

    public async Task<string> GetTokenAsync()
    {
        if (_token is not null)
        {
            return _token;
        }
        var connection = Connection;
        if (connection.AccessToken is not null)
        {
            return _token = connection.AccessToken;
        }
        var resource = connection.Resource ?? connection.Endpoint.ToString();
        using var request = new HttpRequestMessage(HttpMethod.Post, connection.TokenEndpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = connection.ClientId!,
                ["client_secret"] = connection.ClientSecret!,
                // As az sends it: the resource plus "/.default" (a trailing slash gives the double slash az produces).
                ["scope"] = resource + "/.default",
                ["resource"] = resource,
            }),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await HttpLog.SendAsync(_context, request);
        var body = await ReadJsonAsync(response);
        if (!response.IsSuccessStatusCode)
        {
            var code = ServerLocator.FirstString(body, "error") ?? ((int)response.StatusCode).ToString();
            var description = ServerLocator.FirstString(body, "error_description", "message") ?? response.ReasonPhrase ?? "";
            throw new CliException($"Sign-in to {connection.TokenEndpoint} failed: {description}".TrimEnd(' ', ':'), code);
        }
        return _token = ServerLocator.FirstString(body, "access_token")
            ?? throw new CliException($"The token endpoint {connection.TokenEndpoint} returned no access_token.");
    }

    public async Task<string> GetSubscriptionIdAsync()
    {
        if (_subscriptionId is not null)
        {
            return _subscriptionId;
        }
        var wanted = _context.Subscription ?? _context.Environment.Variable("BERTH_SUBSCRIPTION");
        var list = await SendAsync(HttpMethod.Get, "subscriptions", SubscriptionsApiVersion);
        var subscriptions = (list?["value"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        JsonObject? match = wanted is null
            ? subscriptions.FirstOrDefault(s => ServerLocator.FirstString(s, "state") is null or "Enabled") ?? subscriptions.FirstOrDefault()
            : subscriptions.FirstOrDefault(s =>
                string.Equals(ServerLocator.FirstString(s, "subscriptionId"), wanted, StringComparison.OrdinalIgnoreCase) ||
                string.Equals(ServerLocator.FirstString(s, "displayName"), wanted, StringComparison.OrdinalIgnoreCase));
        if (match is null)
        {
            if (wanted is not null && Guid.TryParse(wanted, out _))
            {
                return _subscriptionId = wanted;
            }
            throw new CliException(wanted is null
                ? "The server lists no subscription."
                : $"Subscription '{wanted}' not found. Check the spelling and casing and try again.");
        }
        return _subscriptionId = ServerLocator.FirstString(match, "subscriptionId")
            ?? ServerLocator.FirstString(match, "id")?.Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
            ?? throw new CliException("The server's subscription has no subscriptionId.");
    }

    /// <summary>az's path when -g is omitted: the generic resources list filtered to registries, matched case-insensitively.</summary>
    public async Task<string> ResolveResourceGroupAsync(string registryName)
    {
        var subscription = await GetSubscriptionIdAsync();
        var filter = Uri.EscapeDataString($"resourceType eq '{RegistryType}'");
        var list = await SendAsync(HttpMethod.Get, $"subscriptions/{subscription}/resources?$filter={filter}", ResourcesApiVersion);
        var matches = (list?["value"] as JsonArray)?.OfType<JsonObject>()
            .Where(r => string.Equals(ServerLocator.FirstString(r, "name"), registryName, StringComparison.OrdinalIgnoreCase))
            .Where(r => ServerLocator.FirstString(r, "type") is null or RegistryType || string.Equals(ServerLocator.FirstString(r, "type"), RegistryType, StringComparison.OrdinalIgnoreCase))
            .ToList() ?? [];
        if (matches.Count == 0)
        {
            throw new CliException(
                $"The resource with name '{registryName}' and type '{RegistryType}' could not be found in subscription '{subscription}'.",
                "ResourceNotFound", CliException.NotFoundExitCode);
        }
        if (matches.Count > 1)
        {
            throw new CliException($"More than one resources with type '{RegistryType}' are found with name '{registryName}'.");
        }
        var id = ServerLocator.FirstString(matches[0], "id") ?? "";
        return Output.ArmShapes.ResourceGroupOf(id)
            ?? throw new CliException($"The resources list gave registry '{registryName}' an id without a resource group: '{id}'.");
    }

    public async Task<string> RegistryPathAsync(string registryName, string? resourceGroup)
    {
        var subscription = await GetSubscriptionIdAsync();
        resourceGroup ??= await ResolveResourceGroupAsync(registryName);
        return $"subscriptions/{subscription}/resourceGroups/{Uri.EscapeDataString(resourceGroup)}/providers/{RegistryType}/{Uri.EscapeDataString(registryName)}";
    }

    /// <summary>One ARM call. Non-2xx answers become a CliException carrying the ARM error code; 404 exits with 3 as az does.</summary>
    public async Task<JsonNode?> SendAsync(HttpMethod method, string path, string apiVersion, JsonNode? body = null)
    {
        using var request = await CreateRequestAsync(method, path, apiVersion, body);
        using var response = await HttpLog.SendAsync(_context, request);
        var json = await ReadJsonAsync(response);
        if (response.IsSuccessStatusCode)
        {
            return json;
        }
        throw ArmError(response.StatusCode, json, response.ReasonPhrase);
    }

    /// <summary>
    /// An ARM long-running operation as the Azure SDK's poller runs it: the request, then (on 202 with
    /// <c>Azure-AsyncOperation</c>) GETs of that status resource, waiting <c>Retry-After</c> between them, until its status
    /// is final. A failed or cancelled operation becomes a CliException with its error. With <paramref name="wait"/> false
    /// it returns once the operation is accepted.
    /// </summary>
    public async Task<JsonNode?> SendLongRunningAsync(HttpMethod method, string path, string apiVersion, JsonNode? body, bool wait)
    {
        using var request = await CreateRequestAsync(method, path, apiVersion, body);
        using var response = await HttpLog.SendAsync(_context, request);
        var json = await ReadJsonAsync(response);
        if (!response.IsSuccessStatusCode) throw ArmError(response.StatusCode, json, response.ReasonPhrase);
        if (response.StatusCode != HttpStatusCode.Accepted || !wait) return json;
        var statusUrl = response.Headers.TryGetValues("Azure-AsyncOperation", out var values) ? values.First() : null;
        if (statusUrl is null) throw new CliException("The server accepted the operation but gave no Azure-AsyncOperation URL to follow.");
        var delay = RetryAfter(response);
        while (true)
        {
            await Task.Delay(delay, _context.CancellationToken);
            using var poll = new HttpRequestMessage(HttpMethod.Get, new Uri(Connection.Endpoint, statusUrl));
            poll.Headers.Authorization = request.Headers.Authorization;
            using var status = await HttpLog.SendAsync(_context, poll);
            var operation = await ReadJsonAsync(status);
            if (!status.IsSuccessStatusCode) throw ArmError(status.StatusCode, operation, status.ReasonPhrase);
            switch (ServerLocator.FirstString(operation, "status"))
            {
                case "Succeeded":
                    return operation;
                case "Failed" or "Canceled":
                    throw ArmError(HttpStatusCode.BadRequest, operation, null);
            }
            delay = RetryAfter(status);
        }
    }

    private async Task<HttpRequestMessage> CreateRequestAsync(HttpMethod method, string path, string apiVersion, JsonNode? body)
    {
        var token = await GetTokenAsync();
        var separator = path.Contains('?') ? '&' : '?';
        var request = new HttpRequestMessage(method, new Uri(Connection.Endpoint, $"{path}{separator}api-version={apiVersion}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.TryAddWithoutValidation("x-ms-client-request-id", Guid.NewGuid().ToString());
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }
        return request;
    }

    /// <summary>The server's Retry-After, within 1 to 30 seconds (the SDK's default is 30).</summary>
    private static TimeSpan RetryAfter(HttpResponseMessage response) =>
        TimeSpan.FromSeconds(Math.Clamp(response.Headers.RetryAfter?.Delta?.TotalSeconds ?? 30, 1, 30));

    public static CliException ArmError(HttpStatusCode status, JsonNode? body, string? reason)
    {
        var error = body?["error"] as JsonObject ?? body as JsonObject;
        var code = ServerLocator.FirstString(error, "code");
        var message = ServerLocator.FirstString(error, "message")
            ?? (status == HttpStatusCode.Unauthorized ? "The management token was rejected. Check the client id and secret." : null)
            ?? $"Operation returned an invalid status code '{reason ?? ((int)status).ToString()}'";
        var exitCode = status == HttpStatusCode.NotFound ? CliException.NotFoundExitCode : CliException.GeneralExitCode;
        return new CliException(message, code, exitCode);
    }

    public static async Task<JsonNode?> ReadJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return response.IsSuccessStatusCode
                ? throw new CliException($"The server answered {(int)response.StatusCode} with a body that is not JSON.")
                : new JsonObject { ["error"] = new JsonObject { ["message"] = text.Length > 300 ? text[..300] : text.Trim() } };
        }
    }
}
