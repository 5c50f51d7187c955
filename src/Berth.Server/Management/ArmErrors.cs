using System.Text.Json;
using System.Text.Json.Nodes;
using Berth.Core.Identity;
using Berth.Core.Registries;

namespace Berth.Server.Management;

/// <summary>A management request refused with ARM's error shape <c>{"error":{"code","message"}}</c> and an HTTP status.</summary>
public sealed class ArmException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;

    public static ArmException BadRequest(string message, string code = "BadRequest") => new(StatusCodes.Status400BadRequest, code, message);

    public static ArmException InvalidParameter(string message) => new(StatusCodes.Status400BadRequest, "InvalidParameter", message);

    public static ArmException NotFound(string message, string code = "ResourceNotFound") => new(StatusCodes.Status404NotFound, code, message);

    public static ArmException Conflict(string message, string code = "Conflict") => new(StatusCodes.Status409Conflict, code, message);

    /// <summary>ARM's wording for a missing resource, so users recognise it.</summary>
    public static ArmException ResourceNotFound(string type, string name, string resourceGroup) =>
        NotFound($"The Resource '{type}/{name}' under resource group '{resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix");

    /// <summary>Registry rule violations: ACR's tier message for anonymous pull is passed through verbatim.</summary>
    public static ArmException From(RegistryException error) => error.Code switch
    {
        RegistryErrorCode.NotFound => NotFound(error.Message),
        RegistryErrorCode.AlreadyExists => Conflict(error.Message, "AlreadyInUse"),
        RegistryErrorCode.InvalidName => InvalidParameter(error.Message),
        RegistryErrorCode.Conflict => Conflict(error.Message),
        _ => BadRequest(error.Message),
    };

    public static ArmException From(IdentityException error) => error.Code switch
    {
        IdentityErrorCode.NotFound => NotFound(error.Message),
        IdentityErrorCode.LimitExceeded => Conflict(error.Message, "QuotaExceeded"),
        IdentityErrorCode.SystemScopeMapReadOnly => BadRequest(error.Message, "OperationNotAllowed"),
        IdentityErrorCode.ScopeMapInUse => Conflict(error.Message),
        IdentityErrorCode.AdminUserDisabled => BadRequest(error.Message, "AdminUserDisabled"),
        _ => InvalidParameter(error.Message),
    };
}

internal static class ArmResults
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

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
