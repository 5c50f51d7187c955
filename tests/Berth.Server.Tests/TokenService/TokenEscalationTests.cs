using System.Net;
using Berth.Server.Operations;
using Berth.Server.Tests.Operations;
using static Berth.Server.Tests.TokenService.TokenTestSupport;

namespace Berth.Server.Tests.TokenService;

/// <summary>
/// No token may grow its rights: an access token is never traded for a refresh token (which stands for the whole
/// identity), and a signed grant names only repositories that can exist.
/// </summary>
public sealed class TokenEscalationTests(AuditedBerthTestServer server) : IClassFixture<AuditedBerthTestServer>
{
    private const string NullGuid = "00000000-0000-0000-0000-000000000000";

    [Fact]
    public async Task ExchangeWithAdminAccessToken_Returns401AndIsAudited()
    {
        var narrow = await GetAccessTokenAsync(server, server.AdminUsername, server.AdminPassword, "repository:repoa:pull");
        foreach (var grantType in new[] { "access_token", "access_token_refresh_token" })
        {
            using var response = await PostFormAsync(server, "/oauth2/exchange",
                ("grant_type", grantType), ("service", server.LoginServer), ("access_token", narrow));
            var body = await ReadJsonAsync(response);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{grantType}: {(int)response.StatusCode} {body}");
            Assert.False(body.TryGetProperty("refresh_token", out _));
        }
        Assert.Contains(server.Logs.Entries, e => e.Category == Audit.Category && e.Message.Contains("Token request refused") && e.Message.Contains("/oauth2/exchange"));
    }

    [Fact]
    public async Task ExchangeWithAccessTokenAsRefreshToken_Returns401()
    {
        var narrow = await GetAccessTokenAsync(server, server.AdminUsername, server.AdminPassword, "repository:repoa:pull");
        using var response = await PostFormAsync(server, "/oauth2/exchange",
            ("grant_type", "refresh_token"), ("service", server.LoginServer), ("refresh_token", narrow));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task PasswordGrantWithNullGuidAndAccessTokenOffline_GivesNoRefreshTokenAndNoMoreThanTheGrant()
    {
        var narrow = await GetAccessTokenAsync(server, server.AdminUsername, server.AdminPassword, "repository:repoa:pull");
        using var response = await PostFormAsync(server, "/oauth2/token",
            ("grant_type", "password"), ("service", server.LoginServer), ("username", NullGuid), ("password", narrow),
            ("access_type", "offline"), ("scope", "registry:catalog:* repository:repoa:pull,push,delete repository:other:pull"));
        var body = await ReadJsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        Assert.False(body.TryGetProperty("refresh_token", out _), body.ToString());
        Assert.Equal("repository:repoa:pull", Format(AccessOf(body.GetProperty("access_token").GetString()!)));
        Assert.Contains(server.Logs.Entries, e => e.Category == Audit.Category && e.Message.Contains("Refresh token refused"));
    }

    [Fact]
    public async Task GetWithNullGuidAndAccessToken_GrantsNoMoreThanTheAccessToken()
    {
        var narrow = await GetAccessTokenAsync(server, server.AdminUsername, server.AdminPassword, "repository:repoa:pull");
        var again = await GetAccessTokenAsync(server, NullGuid, narrow, "registry:catalog:*", "repository:repoa:pull,push", "repository:other:pull");
        Assert.Equal("repository:repoa:pull", Format(AccessOf(again)));
    }

    [Fact]
    public async Task ScopedTokensLeakedPullToken_CannotBecomeItsScopeMap()
    {
        var password = await server.CreateTokenAsync("leaky-ci", "leaky-ci-map", ["repositories/leaky/*/content/read", "repositories/leaky/*/content/write", "repositories/leaky/*/content/delete"]);
        var pullOnly = await GetAccessTokenAsync(server, "leaky-ci", password, "repository:leaky/app:pull");

        using var exchange = await PostFormAsync(server, "/oauth2/exchange",
            ("grant_type", "access_token"), ("service", server.LoginServer), ("access_token", pullOnly));
        Assert.Equal(HttpStatusCode.Unauthorized, exchange.StatusCode);

        using var offline = await PostFormAsync(server, "/oauth2/token",
            ("grant_type", "password"), ("service", server.LoginServer), ("username", NullGuid), ("password", pullOnly),
            ("access_type", "offline"), ("scope", "repository:leaky/app:pull,push,delete repository:leaky/other:pull"));
        var body = await ReadJsonAsync(offline);
        Assert.False(body.TryGetProperty("refresh_token", out _));
        Assert.Equal("repository:leaky/app:pull", Format(AccessOf(body.GetProperty("access_token").GetString()!)));
    }

    [Fact]
    public async Task RefreshTokenFromPassword_StillExchangesAndRefreshes()
    {
        using var response = await PostFormAsync(server, "/oauth2/token",
            ("grant_type", "password"), ("service", server.LoginServer), ("username", server.AdminUsername), ("password", server.AdminPassword),
            ("access_type", "offline"), ("scope", ""));
        var refresh = (await ReadJsonAsync(response)).GetProperty("refresh_token").GetString()!;
        using var exchange = await PostFormAsync(server, "/oauth2/exchange",
            ("grant_type", "refresh_token"), ("service", server.LoginServer), ("refresh_token", refresh));
        Assert.Equal(HttpStatusCode.OK, exchange.StatusCode);
    }

    [Theory]
    [InlineData("repository:team/../secret/y:pull")]
    [InlineData("repository:team/*:pull")]
    [InlineData("repository:team//y:pull")]
    [InlineData("repository:team/Y:pull")]
    [InlineData("repository:localhost:5000/team/y:pull")]
    public async Task ScopeForAnInvalidRepositoryName_IsNeverSigned(string scope)
    {
        var password = await server.CreateTokenAsync("team-wild", "team-wild-map", ["repositories/team/*/content/read"]);
        var token = await GetAccessTokenAsync(server, "team-wild", password, scope, "repository:team/ok:pull");
        Assert.Equal("repository:team/ok:pull", Format(AccessOf(token)));
    }

    [Fact]
    public async Task AdminAskingForAnInvalidRepositoryName_GetsNothingForIt()
    {
        var token = await GetAccessTokenAsync(server, server.AdminUsername, server.AdminPassword, "repository:a/../b:pull", "repository:*:pull");
        Assert.Equal("repository:*:pull", Format(AccessOf(token)));
    }
}
