namespace Berth.Cli.Management;

/// <summary>Where the management API is and how to sign in to it.</summary>
public sealed record ServerConnection(Uri Endpoint, Uri TokenEndpoint, string? ClientId, string? ClientSecret, string? AccessToken, string? Resource, string? LoginServerSuffix);

/// <summary>
/// Finds the server with no flags on the machine where it runs: the data folder (<c>--data</c>, <c>$BERTH_DATA</c>,
/// else <c>./data</c>) holds <c>management/endpoint.json</c>, written by <c>berth serve</c> once it listens, and
/// <c>management/owner.json</c>, the owner service principal created on first start. <c>--endpoint</c> (or
/// <c>$BERTH_ENDPOINT</c>) with <c>--client-id/--client-secret</c> (or <c>$BERTH_CLIENT_ID/$BERTH_CLIENT_SECRET</c>)
/// reaches a remote server; <c>$BERTH_ACCESS_TOKEN</c> supplies a management token obtained elsewhere.
/// </summary>
public static class ServerLocator
{
    public static string DataFolder(CommandContext context)
    {
        var env = context.Environment;
        var folder = context.DataOption ?? env.Variable("BERTH_DATA") ?? "data";
        return Path.GetFullPath(folder, env.CurrentDirectory);
    }

    public static ServerConnection Locate(CommandContext context)
    {
        var env = context.Environment;
        var dataFolder = DataFolder(context);
        var managementFolder = Path.Combine(dataFolder, "management");
        var endpointFile = Path.Combine(managementFolder, "endpoint.json");
        var ownerFile = Path.Combine(managementFolder, "owner.json");

        JsonNode? endpointJson = File.Exists(endpointFile) ? ReadJson(endpointFile) : null;
        var endpointText = context.EndpointOption ?? env.Variable("BERTH_ENDPOINT");
        Uri endpoint;
        if (endpointText is not null)
        {
            endpoint = ParseEndpoint(endpointText, "--endpoint");
        }
        else if (endpointJson is not null)
        {
            endpoint = EndpointFrom(endpointJson)
                ?? throw new CliException($"{endpointFile} names no management URL.");
        }
        else
        {
            throw new CliException(
                $"No Berth server found: {endpointFile} does not exist. Start one with 'berth serve' in this folder, " +
                "or pass --data <folder> (or set BERTH_DATA), or --endpoint <url> with --client-id/--client-secret.");
        }

        var clientId = context.ClientIdOption ?? env.Variable("BERTH_CLIENT_ID");
        var clientSecret = context.ClientSecretOption ?? env.Variable("BERTH_CLIENT_SECRET");
        var accessToken = env.Variable("BERTH_ACCESS_TOKEN");
        if (clientId is null && clientSecret is null && accessToken is null && File.Exists(ownerFile))
        {
            JsonNode? owner;
            try
            {
                owner = ReadJson(ownerFile);
            }
            catch (UnauthorizedAccessException)
            {
                throw new CliException($"Cannot read {ownerFile}: it is readable only by the user that runs the server. Run berth as that user, or pass --client-id/--client-secret.");
            }
            clientId = FirstString(owner, "clientId", "client_id", "appId", "username");
            clientSecret = FirstString(owner, "clientSecret", "client_secret", "secret", "password");
        }
        if (accessToken is null && (clientId is null || clientSecret is null))
        {
            throw new CliException(
                $"No management credential: pass --client-id and --client-secret (or set BERTH_CLIENT_ID and BERTH_CLIENT_SECRET), " +
                $"or run berth where it can read {ownerFile}.");
        }

        var tokenEndpoint = FirstString(endpointJson, "tokenEndpoint", "token_endpoint") is { } token && endpointText is null
            ? new Uri(token)
            : new Uri(endpoint, "adfs/oauth2/token");
        var resource = endpointText is null ? FirstString(endpointJson, "resource", "audience") : null;
        var suffix = FirstString(endpointJson, "loginServerSuffix", "acrLoginServer", "loginServerEndpointSuffix") ?? env.Variable("BERTH_LOGIN_SERVER_SUFFIX");
        return new ServerConnection(endpoint, tokenEndpoint, clientId, clientSecret, accessToken, resource, suffix?.TrimStart('.'));
    }

    /// <summary>The data-plane address alone: enough for -u/-p commands and logout, which need no management credential.</summary>
    public static (Uri? Endpoint, string? Suffix) LocateEndpointOnly(CommandContext context)
    {
        var text = context.EndpointOption ?? context.Environment.Variable("BERTH_ENDPOINT");
        var endpointFile = Path.Combine(DataFolder(context), "management", "endpoint.json");
        var json = File.Exists(endpointFile) ? TryReadJson(endpointFile) : null;
        var endpoint = text is not null ? ParseEndpoint(text, "--endpoint") : json is null ? null : EndpointFrom(json);
        var suffix = FirstString(json, "loginServerSuffix", "acrLoginServer", "loginServerEndpointSuffix") ?? context.Environment.Variable("BERTH_LOGIN_SERVER_SUFFIX");
        return (endpoint, suffix?.TrimStart('.'));
    }

    /// <summary>
    /// endpoint.json is the server's to shape; accept its likely spellings: a management URL under a key naming it,
    /// else the first http(s) URL anywhere (a "urls" list included). Wildcard listen addresses become loopback.
    /// </summary>
    public static Uri? EndpointFrom(JsonNode json)
    {
        var preferred = FirstString(json, "managementUrl", "managementEndpoint", "management", "resourceManager", "endpoint", "url");
        var candidates = new List<string>();
        if (preferred is not null)
        {
            candidates.Add(preferred);
        }
        CollectUrls(json, candidates);
        var uris = candidates.SelectMany(c => c.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(c => Uri.TryCreate(c, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? Loopback(uri) : null)
            .OfType<Uri>()
            .ToList();
        // Prefer plain http on loopback: no certificate to trust for a local CLI.
        return uris.FirstOrDefault(u => u.Scheme == "http" && u.IsLoopback) ?? uris.FirstOrDefault();
    }

    private static Uri ParseEndpoint(string text, string option)
    {
        if (!Uri.TryCreate(text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw CliException.Usage($"argument {option}: '{text}' is not an http(s) URL.");
        }
        return Loopback(uri);
    }

    private static Uri Loopback(Uri uri)
    {
        var builder = new UriBuilder(uri);
        if (builder.Host is "0.0.0.0" or "*" or "+" or "[::]" or "::")
        {
            builder.Host = "127.0.0.1";
        }
        if (!builder.Path.EndsWith('/'))
        {
            builder.Path += "/";
        }
        return builder.Uri;
    }

    private static void CollectUrls(JsonNode? node, List<string> into)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, value) in obj)
                {
                    CollectUrls(value, into);
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    CollectUrls(item, into);
                }
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                var text = value.GetValue<string>();
                if (text.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
                {
                    into.Add(text);
                }
                break;
        }
    }

    public static string? FirstString(JsonNode? json, params string[] keys)
    {
        if (json is not JsonObject obj)
        {
            return null;
        }
        foreach (var key in keys)
        {
            var match = obj.FirstOrDefault(p => p.Key.Equals(key, StringComparison.OrdinalIgnoreCase));
            if (match.Value is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { Length: > 0 } text)
            {
                return text;
            }
            if (match.Value is JsonArray array && array.FirstOrDefault() is JsonValue first && first.GetValueKind() == JsonValueKind.String)
            {
                return first.GetValue<string>();
            }
        }
        return null;
    }

    private static JsonNode? ReadJson(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException error)
        {
            throw new CliException($"{path} is not valid JSON: {error.Message}");
        }
    }

    /// <summary>The data folder's endpoint.json, or null when it is missing or unreadable.</summary>
    public static JsonNode? ReadEndpointFileOrNull(string dataFolder)
    {
        var path = Path.Combine(dataFolder, "management", "endpoint.json");
        return File.Exists(path) ? TryReadJson(path) : null;
    }

    private static JsonNode? TryReadJson(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path));
        }
        catch (Exception error) when (error is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
