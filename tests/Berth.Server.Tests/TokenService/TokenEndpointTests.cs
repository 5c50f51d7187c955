using System.Net;
using System.Text.RegularExpressions;
using Berth.Core.Identity.Tokens;
using Microsoft.Extensions.DependencyInjection;
using static Berth.Server.Tests.TokenService.TokenTestSupport;

namespace Berth.Server.Tests.TokenService;

/// <summary>POST /oauth2/token, refresh tokens, the null-GUID user, /oauth2/exchange, intersection grants and the claims of issued JWTs.</summary>
public sealed partial class TokenEndpointTests(UnthrottledBerthTestServer server) : IClassFixture<UnthrottledBerthTestServer>
{
    private const string NullGuid = "00000000-0000-0000-0000-000000000000";

    [GeneratedRegex("^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$")]
    private static partial Regex LibtrustKeyId();

    private async Task<string> RefreshTokenAsync()
    {
        using var response = await PostFormAsync(server, "/oauth2/token",
            ("grant_type", "password"), ("service", server.LoginServer), ("username", server.AdminUsername), ("password", server.AdminPassword),
            ("access_type", "offline"), ("client_id", "containerd-client"), ("scope", ""));
        var body = await ReadJsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        return body.GetProperty("refresh_token").GetString()!;
    }

    [Fact]
    public async Task PostPasswordGrantWithCredentials_Returns200WithTheRequestedAccess()
    {
        using var response = await PostFormAsync(server, "/oauth2/token",
            ("grant_type", "password"), ("service", server.LoginServer), ("username", server.AdminUsername), ("password", server.AdminPassword),
            ("scope", "repository:post/a:metadata_read"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = (await ReadJsonAsync(response)).GetProperty("access_token").GetString()!;
        Assert.Equal("repository:post/a:metadata_read", Format(AccessOf(token)));
    }

    [Fact]
    public async Task PostPasswordGrantWithWrongPassword_Returns401()
    {
        using var response = await PostFormAsync(server, "/oauth2/token",
            ("grant_type", "password"), ("service", server.LoginServer), ("username", server.AdminUsername), ("password", "wrong"),
            ("scope", "repository:post/a:pull"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("UNAUTHORIZED", (await ReadJsonAsync(response)).GetProperty("errors")[0].GetProperty("code").GetString());
    }

    [Fact]
    public async Task PostPasswordGrantWithoutCredentialsAndAnonymousPullOff_Returns401()
    {
        using var response = await PostFormAsync(server, "/oauth2/token",
            ("service", server.LoginServer), ("scope", "repository:post/a:pull"), ("refresh_token", ""), ("grant_type", "password"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("UNAUTHORIZED", (await ReadJsonAsync(response)).GetProperty("errors")[0].GetProperty("code").GetString());
    }

    [Fact]
    public async Task PostSpaceJoinedScopes_GrantsEachScope()
    {
        using var response = await PostFormAsync(server, "/oauth2/token",
            ("grant_type", "password"), ("service", server.LoginServer), ("username", server.AdminUsername), ("password", server.AdminPassword),
            ("scope", "repository:post/a:pull repository:post/b:pull,push"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("repository:post/a:pull repository:post/b:pull,push", Format(AccessOf((await ReadJsonAsync(response)).GetProperty("access_token").GetString()!)));
    }

    [Fact]
    public async Task PostEmptyScope_Returns200WithAnEmptyGrant()
    {
        using var response = await PostFormAsync(server, "/oauth2/token",
            ("access_type", "offline"), ("client_id", "containerd-client"), ("grant_type", "password"),
            ("password", server.AdminPassword), ("scope", ""), ("service", server.LoginServer), ("username", server.AdminUsername));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ReadJsonAsync(response);
        Assert.Empty(AccessOf(body.GetProperty("access_token").GetString()!));
        Assert.Equal("refresh_token", Jwt.Parse(body.GetProperty("refresh_token").GetString()!).Payload.GetProperty("grant_type").GetString());
    }

    [Fact]
    public async Task PostRefreshTokenGrant_Returns200WithTheRequestedAccess()
    {
        await server.Client.PushImageAsync("refresh/a", new TestImage(), "1");
        var refresh = await RefreshTokenAsync();
        using var response = await PostFormAsync(server, "/oauth2/token",
            ("grant_type", "refresh_token"), ("service", server.LoginServer), ("scope", "repository:refresh/a:metadata_read"), ("refresh_token", refresh));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = (await ReadJsonAsync(response)).GetProperty("access_token").GetString()!;
        Assert.Equal("repository:refresh/a:metadata_read", Format(AccessOf(token)));
        Assert.Equal(HttpStatusCode.OK, await StatusWithBearerAsync(server, token, "/v2/refresh/a/tags/list"));
    }

    [Fact]
    public async Task PostRefreshTokenGrantWithAnAccessToken_Returns401()
    {
        var access = await GetAccessTokenAsync(server, server.AdminUsername, server.AdminPassword, "repository:refresh/a:pull");
        using var response = await PostFormAsync(server, "/oauth2/token",
            ("grant_type", "refresh_token"), ("service", server.LoginServer), ("scope", "repository:refresh/a:pull"), ("refresh_token", access));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task PostUnknownGrantType_Returns400()
    {
        using var response = await PostFormAsync(server, "/oauth2/token", ("grant_type", "client_credentials"), ("service", server.LoginServer));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("unsupported_grant_type", (await ReadJsonAsync(response)).GetProperty("error").GetString());
    }

    [Fact]
    public async Task NullGuidUserWithRefreshTokenOnTokenEndpoint_Returns200WithTheRequestedAccess()
    {
        var refresh = await RefreshTokenAsync();
        var token = await GetAccessTokenAsync(server, NullGuid, refresh, "repository:nullguid/a:pull");
        Assert.Equal("repository:nullguid/a:pull", Format(AccessOf(token)));
        Assert.Equal(server.RegistryName, Jwt.Parse(token).Payload.GetProperty("sub").GetString());
    }

    [Fact]
    public async Task NullGuidUserWithRefreshTokenAsBasicOnV2_Returns200()
    {
        var image = new TestImage();
        await server.Client.PushImageAsync("nullguid/b", image, "1");
        var refresh = await RefreshTokenAsync();
        using var client = server.CreateClient(BerthTestServer.BasicAuthorization(NullGuid, refresh));
        using var response = await client.GetAsync($"/v2/nullguid/b/blobs/{image.LayerDigest}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(image.Layer, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task NullGuidUserWithWrongToken_Returns401()
    {
        using var client = server.CreateClient(BerthTestServer.BasicAuthorization(NullGuid, "not.a.token"));
        using var response = await client.GetAsync(TokenQuery(server, "repository:nullguid/a:pull"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ExchangePostWithBerthRefreshToken_Returns200WithAUsableRefreshToken()
    {
        var refresh = await RefreshTokenAsync();
        using var response = await PostFormAsync(server, "/oauth2/exchange",
            ("grant_type", "refresh_token"), ("service", server.LoginServer), ("refresh_token", refresh));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var exchanged = (await ReadJsonAsync(response)).GetProperty("refresh_token").GetString()!;
        var payload = Jwt.Parse(exchanged).Payload;
        Assert.Equal(server.LoginServer, payload.GetProperty("aud").GetString());
        Assert.Equal("refresh_token", payload.GetProperty("grant_type").GetString());

        using var trade = await PostFormAsync(server, "/oauth2/token",
            ("grant_type", "refresh_token"), ("service", server.LoginServer), ("scope", "registry:catalog:*"), ("refresh_token", exchanged));
        Assert.Equal(HttpStatusCode.OK, trade.StatusCode);
        Assert.Equal("registry:catalog:*", Format(AccessOf((await ReadJsonAsync(trade)).GetProperty("access_token").GetString()!)));
    }

    [Fact]
    public async Task ExchangeGet_Returns404()
    {
        using var client = server.CreateClient();
        using var response = await client.GetAsync("/oauth2/exchange?service=" + server.LoginServer);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task PullTokenAskingForPush_Returns200WithPullOnly()
    {
        var password = await server.CreateTokenAsync("grant-pull-only", "_repositories_pull");
        var token = await GetAccessTokenAsync(server, "grant-pull-only", password, "repository:grant/a:pull,push");
        Assert.Equal("repository:grant/a:pull", Format(AccessOf(token)));
    }

    [Fact]
    public async Task TokenAskingForCatalog_Returns200WithoutTheCatalog()
    {
        var password = await server.CreateTokenAsync("grant-catalog", "_repositories_admin");
        var token = await GetAccessTokenAsync(server, "grant-catalog", password, "registry:catalog:*", "repository:grant/a:pull");
        Assert.Equal("repository:grant/a:pull", Format(AccessOf(token)));
    }

    [Fact]
    public async Task IssuedAccessToken_HasKidAudienceIssuerLifetimeAndAccessClaims()
    {
        var token = await GetAccessTokenAsync(server, server.AdminUsername, server.AdminPassword, "repository:claims/a:pull,push");
        var jwt = Jwt.Parse(token);
        Assert.Equal("RS256", jwt.Header.GetProperty("alg").GetString());
        var kid = jwt.Header.GetProperty("kid").GetString()!;
        Assert.Matches(LibtrustKeyId(), kid);
        Assert.Equal(server.Services.GetRequiredService<RegistryTokenService>().KeyId, kid);
        Assert.Equal(server.LoginServer, jwt.Payload.GetProperty("aud").GetString());
        Assert.Equal("Azure Container Registry", jwt.Payload.GetProperty("iss").GetString());
        Assert.Equal(server.RegistryName, jwt.Payload.GetProperty("sub").GetString());
        Assert.Equal(4500, jwt.Payload.GetProperty("exp").GetInt64() - jwt.Payload.GetProperty("iat").GetInt64());
        var entry = Assert.Single(jwt.Payload.GetProperty("access").EnumerateArray());
        Assert.Equal("""{"type":"repository","name":"claims/a","actions":["pull","push"]}""", entry.GetRawText());
    }

    [Fact]
    public async Task IssuedRefreshToken_LivesThreeHoursForThisRegistry()
    {
        var payload = Jwt.Parse(await RefreshTokenAsync()).Payload;
        Assert.Equal(3 * 3600, payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64());
        Assert.Equal(server.LoginServer, payload.GetProperty("aud").GetString());
    }
}
