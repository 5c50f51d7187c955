namespace Berth.Server.Management;

/// <summary>Reads and checks ARM request bodies; every problem becomes an ARM 400 before anything is changed.</summary>
internal static class ArmRequest
{
    private const int MaxBodyBytes = 1024 * 1024;

    /// <summary>The body as a JSON object; null when it is empty and <paramref name="required"/> is false.</summary>
    public static async Task<JsonObject?> ReadObjectAsync(HttpContext context, bool required)
    {
        using var buffer = new MemoryStream();
        var body = context.Request.Body;
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
                throw new ArmException(StatusCodes.Status413PayloadTooLarge, "RequestEntityTooLarge", $"The request body is larger than {MaxBodyBytes} bytes.");
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0 || buffer.ToArray().All(b => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
        {
            if (required)
                throw ArmException.BadRequest("The request content was invalid and could not be deserialized: the body is empty.", "InvalidRequestContent");
            return null;
        }
        JsonNode? node;
        try
        {
            var bytes = buffer.ToArray();
            JsonText.EnsureValidStrings(bytes, maxDepth: 32);
            node = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException error)
        {
            throw ArmException.BadRequest($"The request content was invalid and could not be deserialized: {error.Message}", "InvalidRequestContent");
        }
        return node as JsonObject
            ?? throw ArmException.BadRequest("The request content was invalid and could not be deserialized: the body must be a JSON object.", "InvalidRequestContent");
    }

    public static JsonObject? GetObject(JsonObject? parent, string name) => GetNode<JsonObject>(parent, name, "a JSON object");

    public static JsonArray? GetArray(JsonObject? parent, string name) => GetNode<JsonArray>(parent, name, "an array");

    public static string? GetString(JsonObject? parent, string name) => TryGetValue(parent, name, "a string", out string? text) ? text : null;

    public static bool? GetBool(JsonObject? parent, string name) => TryGetValue(parent, name, "true or false", out bool flag) ? flag : null;

    /// <summary>One of <paramref name="allowed"/>, matched case-insensitively and returned in its canonical spelling.</summary>
    public static string? GetEnum(JsonObject? parent, string name, params string[] allowed)
    {
        var text = GetString(parent, name);
        if (text is null) return null;
        return allowed.FirstOrDefault(a => string.Equals(a, text, StringComparison.OrdinalIgnoreCase))
            ?? throw ArmException.InvalidParameter($"The value '{text}' of property '{name}' is invalid; allowed values are {string.Join(", ", allowed.Select(a => $"'{a}'"))}.");
    }

    /// <summary><c>status</c> of a token or webhook: <c>enabled</c> (true) or <c>disabled</c> (false); null when absent.</summary>
    public static bool? GetStatus(JsonObject? properties) =>
        GetEnum(properties, "status", "enabled", "disabled") switch
        {
            null => null,
            var status => status == "enabled",
        };

    public static DateTimeOffset? GetDate(JsonObject? parent, string name)
    {
        var text = GetString(parent, name);
        if (text is null) return null;
        return DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var date)
            ? date
            : throw ArmException.InvalidParameter($"The value '{text}' of property '{name}' is not a valid date and time.");
    }

    /// <summary>The property as a <typeparamref name="TNode"/>; absent is null, any other kind of JSON is an ARM 400.</summary>
    private static TNode? GetNode<TNode>(JsonObject? parent, string name, string kind) where TNode : JsonNode
    {
        var node = Get(parent, name);
        if (node is null) return null;
        return node as TNode ?? throw ArmException.InvalidParameter($"The property '{name}' must be {kind}.");
    }

    /// <summary>The property as a JSON <typeparamref name="T"/>; false when absent, an ARM 400 when of another kind.</summary>
    private static bool TryGetValue<T>(JsonObject? parent, string name, string kind, out T? value)
    {
        var node = Get(parent, name);
        value = default;
        if (node is null) return false;
        return node is JsonValue json && json.TryGetValue(out value)
            ? true
            : throw ArmException.InvalidParameter($"The property '{name}' must be {kind}.");
    }

    /// <summary>Property lookup by name, case-insensitively as ARM's deserializer does; JSON null counts as absent.</summary>
    private static JsonNode? Get(JsonObject? parent, string name)
    {
        if (parent is null) return null;
        foreach (var (key, value) in parent)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
                return value;
        }
        return null;
    }
}
