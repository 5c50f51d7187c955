using Berth.Core.Identity.Tokens;
using Berth.Server.Access;
using Berth.Server.DataPlane;
using Berth.Server.Requests;
using Berth.Server.Throttling;
using Microsoft.Extensions.Primitives;

namespace Berth.Server.TokenService;

/// <summary>
/// The token service (reference §1.3–1.4): <c>/oauth2/token</c> by GET (docker, containerd, podman, skopeo) and
/// by POST (OAuth2 form: the Azure SDKs, az, containerd), and <c>/oauth2/exchange</c>. A grant is always the
/// intersection of what was asked and what the caller may do; asking for more than allowed is never an error.
/// </summary>
public static class TokenEndpoints
{
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public static IEndpointRouteBuilder MapTokenService(this IEndpointRouteBuilder app)
    {
        var group = DataPlaneResults.Group("oauth2");
        app.MapGet("/oauth2/token", GetTokenAsync).WithMetadata(group);
        app.MapPost("/oauth2/token", PostTokenAsync).WithMetadata(group);
        app.MapPost("/oauth2/exchange", ExchangeAsync).WithMetadata(group);
        // ACR answers any other method on /oauth2/exchange with 404, not 405 (reference §0, Azure/acr#166).
        app.MapMethods("/oauth2/exchange", [HttpMethods.Get, HttpMethods.Head, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Patch],
            context => { context.Response.StatusCode = StatusCodes.Status404NotFound; return Task.CompletedTask; }).WithMetadata(group);
        return app;
    }

    /// <summary>Basic credentials, or none for an anonymous token. Docker's login asks with no scope and gets an empty grant.</summary>
    private static async Task GetTokenAsync(HttpContext context)
    {
        var registry = await ResolveRegistryAsync(context, context.Request.Query["service"]);
        var header = context.Request.Headers[HeaderNames.Authorization].ToString();
        AuthenticationResult result;
        if (string.IsNullOrWhiteSpace(header))
        {
            result = AuthenticationService.AuthenticateAnonymous(registry.ToContext());
        }
        else if (RequestAuthentication.TryReadBasic(header, out var username, out var password))
        {
            if (!await RequestThrottle.ReserveCredentialAttemptAsync(context, registry)) return;
            result = await Authentication(context).AuthenticateBasicAsync(registry.ToContext(), username, password, context.RequestAborted);
        }
        else
        {
            result = AuthenticationResult.Fail(AuthenticationFailure.InvalidToken, "the token endpoint takes Basic credentials");
        }
        await WriteGrantAsync(context, registry, result, context.Request.Query["scope"], includeRefreshToken: false);
    }

    private static async Task PostTokenAsync(HttpContext context)
    {
        if (await ReadFormOrRefuseAsync(context) is not { } form) return;
        var registry = await ResolveRegistryAsync(context, form["service"]);
        var registryContext = registry.ToContext();
        var grantType = form["grant_type"].ToString();
        var refreshToken = form["refresh_token"].ToString();
        var username = form["username"].ToString();
        var password = form["password"].ToString();

        AuthenticationResult result;
        switch (grantType)
        {
            case "password" when username.Length > 0 || password.Length > 0:
                if (!await RequestThrottle.ReserveCredentialAttemptAsync(context, registry)) return;
                result = await Authentication(context).AuthenticateBasicAsync(registryContext, username, password, context.RequestAborted);
                break;
            // The Azure SDKs ask for anonymous tokens as a password grant with no credentials and an empty refresh_token.
            case "password" or "refresh_token" when refreshToken.Length == 0:
                result = AuthenticationService.AuthenticateAnonymous(registryContext);
                break;
            case "refresh_token":
                result = await Authentication(context).AuthenticateRefreshTokenAsync(registryContext, refreshToken, context.RequestAborted);
                break;
            default:
                await WriteOAuthErrorAsync(context, StatusCodes.Status400BadRequest, "unsupported_grant_type",
                    $"grant_type \"{grantType}\" is not supported; use password or refresh_token");
                return;
        }
        // containerd asks for a refresh token with access_type=offline and then refreshes with it.
        var offline = form["access_type"] == "offline";
        await WriteGrantAsync(context, registry, result, StringValues.Concat(form["scope"], context.Request.Query["scope"]), includeRefreshToken: offline);
    }

    /// <summary>
    /// Exchanges a credential for a registry refresh token (<c>{"refresh_token": ...}</c>), which the Azure SDKs and az
    /// then trade at <c>/oauth2/token</c>. <c>grant_type=refresh_token</c> takes a Berth refresh token;
    /// <c>access_token</c> takes a management-plane token (az's and the SDKs' Entra path). A registry access token is
    /// refused in both places: it carries a narrow grant, and the refresh token would stand for the whole identity.
    /// </summary>
    private static async Task ExchangeAsync(HttpContext context)
    {
        if (await ReadFormOrRefuseAsync(context) is not { } form) return;
        var registry = await ResolveRegistryAsync(context, form["service"]);
        var grantType = form["grant_type"].ToString();
        AuthenticationResult result;
        switch (grantType)
        {
            case "refresh_token":
                result = await Authentication(context).AuthenticateRefreshTokenAsync(registry.ToContext(), form["refresh_token"].ToString(), context.RequestAborted);
                break;
            case "access_token" or "access_token_refresh_token":
                result = await ExchangeManagementTokenAsync(context, registry, form["access_token"].ToString());
                break;
            default:
                await WriteOAuthErrorAsync(context, StatusCodes.Status400BadRequest, "unsupported_grant_type",
                    $"grant_type \"{grantType}\" is not supported; use access_token or refresh_token");
                return;
        }
        if (!result.Succeeded) Operations.Audit.TokenRequestRefused(context, registry.Name, result.Failure);
        if (!await RequestThrottle.AdmitTokenRequestAsync(context, registry, result)) return;
        if (result.Principal is not { } principal)
        {
            await Challenges.WriteUnauthorizedBodyAsync(context, RequestAuthentication.RejectedMessage(registry, result));
            return;
        }
        var refresh = context.RequestServices.GetRequiredService<RegistryTokenService>().IssueRefreshToken(registry.ToContext(), principal);
        await WriteJsonAsync(context, new TokenResponse { RefreshToken = refresh.Value });
    }

    /// <summary>az's Entra path: a management access token stands for its service principal, which acts as the registry's admin.</summary>
    private static async Task<AuthenticationResult> ExchangeManagementTokenAsync(HttpContext context, Registry registry, string accessToken)
    {
        if (context.RequestServices.GetService<Berth.Core.Management.IManagementCredentialExchange>() is { } management
            && await management.ExchangeAsync(registry.ToContext(), accessToken, context.RequestAborted) is { } delegated)
            return AuthenticationResult.Success(delegated);
        return AuthenticationResult.Fail(AuthenticationFailure.InvalidToken,
            "only a management access token can be exchanged with grant_type=access_token; a registry access token never yields a refresh token");
    }

    private static async Task WriteGrantAsync(HttpContext context, Registry registry, AuthenticationResult result, StringValues scopeParameters, bool includeRefreshToken)
    {
        // Every refusal is recorded, the ones the throttle then answers with 429 included (as on /v2).
        if (!result.Succeeded) Operations.Audit.TokenRequestRefused(context, registry.Name, result.Failure);
        // Per identity for valid credentials, per address for anonymous requests and failed credentials.
        if (!await RequestThrottle.AdmitTokenRequestAsync(context, registry, result)) return;
        if (result.Principal is not { } principal)
        {
            var message = result.Failure == AuthenticationFailure.AnonymousPullDisabled
                ? Challenges.AnonymousPullDisabled(registry.Name, context.Request.Host)
                : RequestAuthentication.RejectedMessage(registry, result);
            await Challenges.WriteUnauthorizedBodyAsync(context, message);
            return;
        }
        var tokens = context.RequestServices.GetRequiredService<RegistryTokenService>();
        var requested = ScopeParser.Parse(scopeParameters.ToArray());
        var grant = AuthenticationService.ComputeGrant(principal, requested);
        var access = tokens.IssueAccessToken(registry.ToContext(), principal, grant, requested);
        // A caller that proved itself with an access token (the null-GUID user) gets that token's rights again, never a
        // refresh token: it would stand for the whole identity. The request still succeeds, as refresh_token is optional.
        if (includeRefreshToken && principal.ViaAccessToken)
            Operations.Audit.RefreshTokenRefused(context, registry.Name, "an access token was presented as the credential");
        var refresh = includeRefreshToken && !principal.IsAnonymous && !principal.ViaAccessToken ? tokens.IssueRefreshToken(registry.ToContext(), principal).Value : null;
        // ACR sends only access_token; token, expires_in and issued_at are what the distribution spec adds, and clients use them.
        await WriteJsonAsync(context, new TokenResponse
        {
            AccessToken = access.Value,
            Token = access.Value,
            ExpiresIn = access.ExpiresInSeconds,
            IssuedAt = access.IssuedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ"),
            RefreshToken = refresh,
        });
    }

    /// <summary>The registry named by <c>service</c> when it is one of ours, else the one the Host header addresses.</summary>
    private static async Task<Registry> ResolveRegistryAsync(HttpContext context, StringValues service)
    {
        var name = service.ToString();
        if (name.Length > 0 && await context.RequestServices.GetRequiredService<RegistryDirectory>().FindByLoginServerOrNullAsync(name, context.RequestAborted) is { } named)
            return named;
        return await context.RequestServices.GetRequiredService<RegistryResolver>().ResolveAsync(context);
    }

    /// <summary>The OAuth2 form body; null when the body is not one (the 400 has been written).</summary>
    private static async Task<IFormCollection?> ReadFormOrRefuseAsync(HttpContext context)
    {
        if (context.Request.HasFormContentType) return await context.Request.ReadFormAsync(context.RequestAborted);
        await WriteOAuthErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded");
        return null;
    }

    private static Task WriteOAuthErrorAsync(HttpContext context, int status, string error, string description)
    {
        context.Response.StatusCode = status;
        return WriteJsonAsync(context, new { error, error_description = description });
    }

    private static Task WriteJsonAsync<T>(HttpContext context, T body)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return JsonSerializer.SerializeAsync(context.Response.Body, body, Json, context.RequestAborted);
    }

    private static AuthenticationService Authentication(HttpContext context) => context.RequestServices.GetRequiredService<AuthenticationService>();

    private sealed class TokenResponse
    {
        [System.Text.Json.Serialization.JsonPropertyName("access_token")] public string? AccessToken { get; init; }
        [System.Text.Json.Serialization.JsonPropertyName("token")] public string? Token { get; init; }
        [System.Text.Json.Serialization.JsonPropertyName("expires_in")] public int? ExpiresIn { get; init; }
        [System.Text.Json.Serialization.JsonPropertyName("issued_at")] public string? IssuedAt { get; init; }
        [System.Text.Json.Serialization.JsonPropertyName("refresh_token")] public string? RefreshToken { get; init; }
    }
}
