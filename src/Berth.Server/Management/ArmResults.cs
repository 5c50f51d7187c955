using Berth.Server.Requests;

namespace Berth.Server.Management;

/// <summary>How the management plane answers: ARM's JSON bodies and errors, and the OAuth errors of its sign-in.</summary>
internal static class ArmResults
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <summary>The ARM routes: ARM error JSON.</summary>
    public static EndpointGroup ManagementGroup { get; } = new("management", (context, message) =>
        WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "ServiceUnavailable", message));

    /// <summary>The cloud metadata document az reads before signing in: counted with management, answered as sign-in is.</summary>
    public static EndpointGroup CloudMetadataGroup { get; } = new("management", WriteSignInUnavailableAsync);

    /// <summary>The sign-in routes (service principals, managed identity): OAuth errors.</summary>
    public static EndpointGroup SignInGroup { get; } = new("signin", WriteSignInUnavailableAsync);

    private static Task WriteSignInUnavailableAsync(HttpContext context, string message) =>
        WriteOAuthErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "temporarily_unavailable", message);

    public static Task WriteJsonAsync(HttpContext context, JsonNode? body, int status = StatusCodes.Status200OK)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        // Sign-in endpoints set no-store first (RFC 6749 §5.1: token responses); it must not be weakened here.
        if (string.IsNullOrEmpty(context.Response.Headers.CacheControl))
            context.Response.Headers.CacheControl = "no-cache";
        return context.Response.WriteAsync(body?.ToJsonString(Json) ?? "null", context.RequestAborted);
    }

    public static Task WriteErrorAsync(HttpContext context, int status, string code, string message) =>
        WriteJsonAsync(context, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }, status);

    /// <summary>The OAuth 2.0 error shape (RFC 6749 §5.2) the sign-in endpoints answer with.</summary>
    public static Task WriteOAuthErrorAsync(HttpContext context, int status, string error, string description) =>
        WriteJsonAsync(context, new JsonObject { ["error"] = error, ["error_description"] = description }, status);

    public static JsonObject List(IEnumerable<JsonNode> items) => new() { ["value"] = new JsonArray(items.ToArray()) };
}
