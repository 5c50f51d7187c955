using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using static Berth.Server.Tests.TokenService.TokenTestSupport;

namespace Berth.Server.Tests.TokenService;

/// <summary>Docker's token flow over HTTP, request for request as docker and distribution's token client make it (reference §1.3a).</summary>
public sealed partial class DockerTokenFlowTests(UnthrottledBerthTestServer server) : IClassFixture<UnthrottledBerthTestServer>
{
    [GeneratedRegex("^Bearer realm=\"(?<realm>[^\"]+)\",service=\"(?<service>[^\"]+)\"(?:,scope=\"(?<scope>[^\"]+)\")?$")]
    private static partial Regex ChallengePattern();

    private static Match ReadChallenge(HttpResponseMessage response)
    {
        Assert.True(response.Headers.NonValidated.TryGetValues("WWW-Authenticate", out var values));
        var match = ChallengePattern().Match(Assert.Single(values));
        Assert.True(match.Success, $"not an ACR challenge: {values}");
        return match;
    }

    [Fact]
    public async Task DockerFlow_ChallengeThenBasicTokenRequestThenBearer_Returns200()
    {
        using var anonymous = server.CreateClient();
        using var challenge = await anonymous.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        var header = ReadChallenge(challenge);
        Assert.Equal($"http://{server.Host}/oauth2/token", header.Groups["realm"].Value);
        Assert.Equal(server.LoginServer, header.Groups["service"].Value);
        Assert.False(header.Groups["scope"].Success);

        // Docker: GET realm?service=..&scope=.. with Basic, absolute URL taken from the challenge.
        using var basic = server.CreateClient(BerthTestServer.BasicAuthorization(server.AdminUsername, server.AdminPassword));
        var realm = header.Groups["realm"].Value + "?service=" + Uri.EscapeDataString(header.Groups["service"].Value) + "&scope=" + Uri.EscapeDataString("repository:flow/app:pull");
        using var tokenResponse = await basic.GetAsync(realm);
        Assert.Equal(HttpStatusCode.OK, tokenResponse.StatusCode);
        Assert.Equal("application/json; charset=utf-8", tokenResponse.Content.Headers.ContentType?.ToString());
        var body = await ReadJsonAsync(tokenResponse);
        var token = body.GetProperty("access_token").GetString()!;
        Assert.Equal(token, body.GetProperty("token").GetString());
        Assert.Equal(4500, body.GetProperty("expires_in").GetInt32());

        using var bearer = server.CreateClient(new AuthenticationHeaderValue("Bearer", token));
        using var again = await bearer.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task DockerLogin_NoScopeWithAccountClientIdAndOfflineToken_Returns200WithAnEmptyGrantThatOpensV2()
    {
        using var basic = server.CreateClient(BerthTestServer.BasicAuthorization(server.AdminUsername, server.AdminPassword));
        using var response = await basic.GetAsync(
            $"/oauth2/token?account={Uri.EscapeDataString(server.AdminUsername)}&client_id=docker&offline_token=true&service={Uri.EscapeDataString(server.LoginServer)}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = (await ReadJsonAsync(response)).GetProperty("access_token").GetString()!;
        Assert.Empty(AccessOf(token));
        Assert.Equal(HttpStatusCode.OK, await StatusWithBearerAsync(server, token));
    }

    [Fact]
    public async Task DockerPull_ScopedChallengeThenTokenForThatScope_ManifestBytesReturned()
    {
        var image = new TestImage();
        await server.Client.PushImageAsync("flow/pull", image, "1");
        using var anonymous = server.CreateClient();
        using var challenge = await anonymous.GetAsync("/v2/flow/pull/manifests/1");
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        var scope = ReadChallenge(challenge).Groups["scope"].Value;
        Assert.Equal("repository:flow/pull:pull", scope);

        var token = await GetAccessTokenAsync(server, server.AdminUsername, server.AdminPassword, scope);
        using var bearer = server.CreateClient(new AuthenticationHeaderValue("Bearer", token));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/flow/pull/manifests/1");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(TestImage.ManifestMediaType));
        using var manifest = await bearer.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        Assert.Equal(image.Manifest, await manifest.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task RepeatedScopeParameters_EachScopeIsGranted()
    {
        var token = await GetAccessTokenAsync(server, server.AdminUsername, server.AdminPassword,
            "repository:flow/a:pull", "repository:flow/b:pull,push", "registry:catalog:*");
        Assert.Equal("repository:flow/a:pull repository:flow/b:pull,push registry:catalog:*", Format(AccessOf(token)));
    }

    [Fact]
    public async Task WrongPassword_TokenRequestReturns401WithUnauthorizedBody()
    {
        using var basic = server.CreateClient(BerthTestServer.BasicAuthorization(server.AdminUsername, "not-the-password"));
        using var response = await basic.GetAsync(TokenQuery(server, "repository:flow/a:pull"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = Assert.Single((await ReadJsonAsync(response)).GetProperty("errors").EnumerateArray());
        Assert.Equal("UNAUTHORIZED", error.GetProperty("code").GetString());
        Assert.Equal("authentication required, visit https://aka.ms/acr/authorization for more information.", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task NoCredentialsWithAnonymousPullOff_TokenRequestReturns401()
    {
        using var anonymous = server.CreateClient();
        using var response = await anonymous.GetAsync(TokenQuery(server, "repository:flow/a:pull"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("UNAUTHORIZED", (await ReadJsonAsync(response)).GetProperty("errors")[0].GetProperty("code").GetString());
    }
}
