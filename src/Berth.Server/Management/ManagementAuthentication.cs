namespace Berth.Server.Management;

/// <summary>
/// Every management endpoint requires a management access token (<c>Authorization: Bearer</c>); there is no
/// anonymous management access. Refusals are ARM's 401 with a Bearer challenge naming the sign-in authority,
/// which is where an AAD client learns where to get a token.
/// </summary>
internal static class ManagementAuthentication
{
    public static ManagementCaller Caller(this HttpContext context) =>
        context.Features.Get<ManagementCaller>() ?? throw new InvalidOperationException("the request was not authenticated");

    /// <summary>An endpoint filter: authenticates before the handler runs (handlers read their bodies themselves, after this).</summary>
    public static async ValueTask<object?> RequireCallerAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var header = context.Request.Headers[HeaderNames.Authorization].ToString();
        string? failure;
        if (string.IsNullOrWhiteSpace(header))
        {
            failure = "Authentication failed. The 'Authorization' header is missing.";
        }
        else if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= "Bearer ".Length)
        {
            failure = "Authentication failed. The 'Authorization' header is provided in an invalid format: use 'Bearer <access token>'.";
        }
        else
        {
            var signIn = context.RequestServices.GetRequiredService<ManagementSignIn>();
            if (await signIn.AuthenticateAsync(header["Bearer ".Length..].Trim(), context.RequestAborted) is { } caller)
            {
                context.Features.Set(caller);
                return await next(invocation);
            }
            failure = "Authentication failed. The access token is invalid, has expired, or was issued to a principal that no longer exists.";
        }
        Operations.Audit.ManagementAuthenticationFailed(context, failure);
        var authority = $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}/adfs";
        context.Response.Headers.WWWAuthenticate =
            $"Bearer authorization_uri=\"{authority}\", error=\"invalid_token\", error_description=\"{failure.Replace("\"", "'")}\"";
        await ArmResults.WriteErrorAsync(context, StatusCodes.Status401Unauthorized, "AuthenticationFailed", failure);
        return Results.Empty;
    }
}
