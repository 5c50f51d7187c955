using System.Globalization;
using System.Net;

namespace Berth.Server.Management.SignIn;

/// <summary>
/// A managed-identity token endpoint in the shape msrestazure (az 2.45, <c>az login --identity</c> with
/// <c>MSI_ENDPOINT=http(s)://127.0.0.1:&lt;port&gt;/msi/token</c>) expects (az-cli-surface §2A): <c>POST</c> with
/// header <c>Metadata: true</c> and form <c>resource=...</c> (also <c>GET ?resource=</c> as IMDS and App Service
/// send it). It answers with an owner management token whose <c>aud</c> is the requested resource.
/// <para>
/// Whoever reaches it becomes the owner, so it is off unless <c>Berth:Management:ManagedIdentityEnabled=true</c>
/// (404 otherwise), and even then it refuses with 403 any caller whose connection does not come from a loopback
/// address or that arrives through a proxy (forwarding headers), whatever address the server is bound to.
/// </para>
/// </summary>
public static class ManagedIdentityEndpoint
{
    public const string Path = "/msi/token";

    public static IEndpointRouteBuilder MapManagedIdentity(this IEndpointRouteBuilder app)
    {
        // Routing ignores a trailing slash, so this one route also answers App Service's GET {MSI_ENDPOINT}/?resource=...
        // (a second route for Path + "/" would match the same requests and make every one of them ambiguous).
        app.MapMethods(Path, [HttpMethods.Get, HttpMethods.Post], HandleAsync).WithMetadata(ArmResults.SignInGroup);
        return app;
    }

    /// <summary>True for a direct connection from 127.0.0.0/8 or ::1 (IPv4-mapped included) with no forwarding headers.</summary>
    public static bool IsDirectLoopbackCaller(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        if (remote is null)
            return false;
        if (remote.IsIPv4MappedToIPv6)
            remote = remote.MapToIPv4();
        if (!IPAddress.IsLoopback(remote))
            return false;
        var headers = context.Request.Headers;
        return !headers.ContainsKey("X-Forwarded-For") && !headers.ContainsKey("Forwarded") && !headers.ContainsKey("X-Real-IP");
    }

    public static async Task HandleAsync(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        var signIn = context.RequestServices.GetRequiredService<ManagementSignIn>();
        if (!signIn.ManagedIdentityEnabled)
        {
            await ArmResults.WriteOAuthErrorAsync(context, StatusCodes.Status404NotFound, "not_found",
                "The managed-identity endpoint is off. Start Berth with --Berth:Management:ManagedIdentityEnabled=true to use 'az login --identity' from this machine.");
            return;
        }
        if (!IsDirectLoopbackCaller(context))
        {
            await ArmResults.WriteOAuthErrorAsync(context, StatusCodes.Status403Forbidden, "forbidden",
                "The managed-identity endpoint answers direct connections from this machine's loopback interface only.");
            return;
        }
        // IMDS refuses requests without the Metadata header (it keeps browsers and SSRF out); App Service sends 'secret'.
        if (!string.Equals(context.Request.Headers["Metadata"].ToString(), "true", StringComparison.OrdinalIgnoreCase)
            && string.IsNullOrEmpty(context.Request.Headers["secret"].ToString()))
        {
            await ArmResults.WriteOAuthErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "Required metadata header not specified");
            return;
        }

        string Parameter(string name) =>
            context.Request.Query[name].ToString() is { Length: > 0 } fromQuery ? fromQuery : context.Request.HasFormContentType ? context.Request.Form[name].ToString() : "";
        if (context.Request.HasFormContentType)
            await context.Request.ReadFormAsync(context.RequestAborted);

        var resource = Parameter("resource");
        if (string.IsNullOrWhiteSpace(resource))
        {
            await ArmResults.WriteOAuthErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "Required query variable 'resource' is missing");
            return;
        }
        if (await signIn.GetOwnerOrNullAsync(context.RequestAborted) is not { } owner)
        {
            await ArmResults.WriteOAuthErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "temporarily_unavailable", "The owner identity does not exist yet; try again once the server has started.");
            return;
        }
        // User-assigned identities (az login --identity --username ...): only the owner exists.
        foreach (var selector in new[] { "client_id", "object_id", "principal_id", "msi_res_id", "mi_res_id" })
        {
            var value = Parameter(selector);
            if (value.Length > 0 && !string.Equals(value, owner.ClientId, StringComparison.OrdinalIgnoreCase))
            {
                await ArmResults.WriteOAuthErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request",
                    $"Identity not found: this server has one managed identity, {owner.ClientId}.");
                return;
            }
        }

        var audience = ManagementSignIn.ResolveAudience(resource, null);
        var token = signIn.IssueToken(owner, audience);
        string Seconds(DateTimeOffset at) => at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        await ArmResults.WriteJsonAsync(context, new JsonObject
        {
            ["access_token"] = token.Value,
            ["refresh_token"] = "",
            ["expires_in"] = token.ExpiresInSeconds.ToString(CultureInfo.InvariantCulture),
            ["expires_on"] = Seconds(token.ExpiresAt),
            ["not_before"] = Seconds(token.IssuedAt),
            ["resource"] = audience,
            ["token_type"] = "Bearer",
            ["client_id"] = owner.ClientId,
        });
    }

}
