using Berth.Server.Hosting;
using Berth.Server.Management;
using Berth.Server.Configuration;

namespace Berth.Server.Management.SignIn;

/// <summary>
/// Sign-in for management clients, never behind management auth (it is how a token is obtained):
/// an ADFS-style OIDC authority at <c>/adfs</c> (MSAL skips AAD instance discovery when the authority's first path
/// segment is <c>adfs</c>, so az works fully offline; az-cli-surface §2B) and <c>/metadata/endpoints</c>, from
/// which <c>az cloud register</c> learns the authority and audience (§1). A managed-identity endpoint would issue
/// owner tokens through the same <see cref="ManagementSignIn.IssueToken"/>.
/// </summary>
public static class SignInEndpoints
{
    public static IEndpointRouteBuilder MapManagementSignIn(this IEndpointRouteBuilder app)
    {
        app.MapGet("/adfs/.well-known/openid-configuration", OpenIdConfigurationAsync).WithMetadata(ArmResults.SignInGroup);
        app.MapGet("/adfs/discovery/keys", SigningKeysAsync).WithMetadata(ArmResults.SignInGroup);
        app.MapPost("/adfs/oauth2/token", TokenAsync).WithMetadata(ArmResults.SignInGroup);
        app.MapGet("/metadata/endpoints", MetadataEndpointsAsync).WithMetadata(ArmResults.CloudMetadataGroup);
        app.MapManagedIdentity();
        return app;
    }

    /// <summary>
    /// <c>az cloud register --endpoint-resource-manager https://host/</c> appends <c>/metadata/endpoints</c> to the URL as
    /// given, asking for <c>//metadata/endpoints</c>; this middleware serves that spelling too.
    /// </summary>
    public static IApplicationBuilder UseMetadataEndpointsDoubleSlash(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var path = context.Request.Path.Value;
            // Answered here: routing has already run (and found nothing) by the time middleware sees the request.
            if (path is not null && path.StartsWith("//", StringComparison.Ordinal) && HttpMethods.IsGet(context.Request.Method)
                && path.TrimStart('/').Equals("metadata/endpoints", StringComparison.OrdinalIgnoreCase))
                return MetadataEndpointsAsync(context);
            return next(context);
        });

    private static string BaseUrl(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}";

    private static Task OpenIdConfigurationAsync(HttpContext context)
    {
        var authority = BaseUrl(context) + "/adfs";
        return ArmResults.WriteJsonAsync(context, new JsonObject
        {
            ["issuer"] = authority,
            ["authorization_endpoint"] = authority + "/oauth2/authorize",
            ["token_endpoint"] = authority + "/oauth2/token",
            // Where ADFS publishes its token-signing keys; MSAL (the Azure SDKs' ClientSecretCredential) refuses a
            // discovery document without it (endpoints_resolution_error) before it asks for a token.
            ["jwks_uri"] = authority + "/discovery/keys",
            ["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_post", "client_secret_basic"),
            ["grant_types_supported"] = new JsonArray("client_credentials"),
            ["response_types_supported"] = new JsonArray("token"),
            ["scopes_supported"] = new JsonArray("openid"),
            ["subject_types_supported"] = new JsonArray("pairwise"),
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            ["access_token_issuer"] = authority,
        });
    }

    /// <summary>The management tokens' verification key as a JWKS (RFC 7517 §5), at the path ADFS serves its keys.</summary>
    private static Task SigningKeysAsync(HttpContext context) =>
        ArmResults.WriteJsonAsync(context, new JsonObject
        {
            ["keys"] = new JsonArray(context.RequestServices.GetRequiredService<ManagementSignIn>().PublicJsonWebKey()),
        });

    /// <summary>
    /// OAuth2 client credentials (form <c>client_id</c> + <c>client_secret</c>, or HTTP Basic), with the audience from
    /// <c>resource</c> or <c>scope</c>. Errors follow RFC 6749 §5.2.
    /// </summary>
    private static async Task TokenAsync(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        if (!context.Request.HasFormContentType)
        {
            await ArmResults.WriteOAuthErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "The body must be application/x-www-form-urlencoded.");
            return;
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var grantType = form["grant_type"].ToString();
        if (grantType != "client_credentials")
        {
            await ArmResults.WriteOAuthErrorAsync(context, StatusCodes.Status400BadRequest, "unsupported_grant_type",
                $"grant_type '{grantType}' is not supported; use client_credentials with a service principal's client id and secret.");
            return;
        }
        var clientId = form["client_id"].ToString();
        var clientSecret = form["client_secret"].ToString();
        var header = context.Request.Headers[HeaderNames.Authorization].ToString();
        if (clientSecret.Length == 0 && Berth.Server.Access.RequestAuthentication.TryReadBasic(header, out var basicId, out var basicSecret))
        {
            clientId = Uri.UnescapeDataString(basicId);
            clientSecret = Uri.UnescapeDataString(basicSecret);
        }
        // Each sign-in reserves one of the address's failed attempts before the secret is checked, and gets it back
        // when the secret is right, so concurrent guesses cannot outrun the budget and a wrong secret costs one attempt.
        var throttle = context.RequestServices.GetRequiredService<ThrottlePolicy>();
        var address = ClientAddress.ToKey(context.Connection.RemoteIpAddress);
        var attempt = await throttle.ReserveSignInAttemptAsync(address, context.RequestAborted);
        if (!attempt.Allowed)
        {
            await WriteTooManyFailedSignInsAsync(context, attempt);
            return;
        }
        var signIn = context.RequestServices.GetRequiredService<ManagementSignIn>();
        var principal = await signIn.AuthenticateClientAsync(clientId, clientSecret, context.RequestAborted);
        if (principal is null)
        {
            await ArmResults.WriteOAuthErrorAsync(context, StatusCodes.Status401Unauthorized, "invalid_client",
                "Client authentication failed: unknown client_id or wrong client_secret.");
            return;
        }
        await throttle.RefundSignInAttemptAsync(address, context.RequestAborted);
        var audience = ManagementSignIn.ResolveAudience(form["resource"].ToString(), form["scope"].ToString());
        var token = signIn.IssueToken(principal, audience);
        await ArmResults.WriteJsonAsync(context, new JsonObject
        {
            ["token_type"] = "Bearer",
            ["expires_in"] = token.ExpiresInSeconds,
            ["ext_expires_in"] = token.ExpiresInSeconds,
            ["expires_on"] = token.ExpiresAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["not_before"] = token.IssuedAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["resource"] = audience,
            ["access_token"] = token.Value,
        });
    }

    private static Task WriteTooManyFailedSignInsAsync(HttpContext context, ThrottleDecision decision)
    {
        context.Response.Headers.RetryAfter = decision.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return ArmResults.WriteOAuthErrorAsync(context, StatusCodes.Status429TooManyRequests, "temporarily_unavailable",
            $"Too many failed sign-ins from this address; try again in {decision.RetryAfterSeconds} seconds.");
    }

    /// <summary>
    /// The cloud description az reads. <c>api-version=2015-01-01</c> (az cloud register) gets one object;
    /// 2019-05-01 and later (<c>ARM_CLOUD_METADATA_URL</c>) get a list of clouds.
    /// </summary>
    private static Task MetadataEndpointsAsync(HttpContext context)
    {
        var root = BaseUrl(context) + "/";
        var authority = BaseUrl(context) + "/adfs";
        var suffix = "." + context.RequestServices.GetRequiredService<BerthOptions>().LoginServerSuffix;
        var apiVersion = context.Request.Query["api-version"].ToString();
        if (string.CompareOrdinal(apiVersion, "2019") < 0)
        {
            return ArmResults.WriteJsonAsync(context, new JsonObject
            {
                ["galleryEndpoint"] = root,
                ["graphEndpoint"] = root,
                ["portalEndpoint"] = root,
                ["authentication"] = new JsonObject { ["loginEndpoint"] = authority, ["audiences"] = new JsonArray(root) },
            });
        }
        return ArmResults.WriteJsonAsync(context, new JsonArray(new JsonObject
        {
            ["name"] = "Berth",
            ["resourceManager"] = root,
            ["portal"] = root,
            ["gallery"] = root,
            ["graph"] = root,
            ["graphAudience"] = root,
            ["microsoftGraphResourceId"] = root,
            ["media"] = root,
            ["batch"] = root,
            ["sqlManagement"] = root,
            ["vmImageAliasDoc"] = root,
            ["activeDirectoryDataLake"] = root,
            ["appInsightsResourceId"] = root,
            ["appInsightsTelemetryChannelResourceId"] = root,
            ["attestationResourceId"] = root,
            ["synapseAnalyticsResourceId"] = root,
            ["logAnalyticsResourceId"] = root,
            ["ossrDbmsResourceId"] = root,
            ["authentication"] = new JsonObject
            {
                ["loginEndpoint"] = authority,
                ["audiences"] = new JsonArray(root),
                ["tenant"] = "adfs",
                ["identityProvider"] = "ADFS",
            },
            ["suffixes"] = new JsonObject
            {
                ["acrLoginServer"] = suffix,
                ["storage"] = "localhost",
                ["keyVaultDns"] = ".vault.localhost",
                ["sqlServerHostname"] = ".database.localhost",
                ["azureDataLakeStoreFileSystem"] = "localhost",
                ["azureDataLakeAnalyticsCatalogAndJob"] = "localhost",
                ["azureFrontDoorEndpointSuffix"] = "localhost",
                ["mysqlServerEndpoint"] = ".mysql.localhost",
                ["postgresqlServerEndpoint"] = ".postgres.localhost",
                ["mariadbServerEndpoint"] = ".mariadb.localhost",
                ["synapseAnalytics"] = ".synapse.localhost",
                ["attestationEndpoint"] = ".attest.localhost",
            },
        }));
    }
}
