using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Berth.Core.Identity;
using Berth.Core.Identity.Tokens;
using Berth.Core.Registries;
using Microsoft.Extensions.DependencyInjection;
using static Berth.Server.Tests.TokenService.TokenTestSupport;
using Berth.Core.Storage;

namespace Berth.Server.Tests.TokenService;

/// <summary>A server whose access tokens live one second with no clock-skew allowance, so expiry can be observed.</summary>
public sealed class ShortLivedTokenServer : UnthrottledBerthTestServer
{
    protected override IEnumerable<string> MoreArguments =>
        ["--Berth:Identity:AccessTokenLifetime=00:00:01", "--Berth:Identity:ClockSkew=00:00:00"];
}

/// <summary>Forged and foreign tokens presented over HTTP as Bearer credentials: every one is refused with 401.</summary>
public sealed class TokenTamperingTests(UnthrottledBerthTestServer server) : IClassFixture<UnthrottledBerthTestServer>
{
    private const string Path = "/v2/tamper/app/tags/list";
    private const string Scope = "repository:tamper/app:metadata_read";

    private async Task<string> ValidTokenAsync()
    {
        await server.Client.PushImageAsync("tamper/app", new TestImage(), "1");
        var token = await GetAccessTokenAsync(server, server.AdminUsername, server.AdminPassword, Scope);
        Assert.Equal(HttpStatusCode.OK, await StatusWithBearerAsync(server, token, Path));
        return token;
    }

    private async Task AssertRefusedAsync(string token)
    {
        using var client = server.CreateClient(new AuthenticationHeaderValue("Bearer", token));
        using var response = await client.GetAsync(Path);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.True(response.Headers.NonValidated.TryGetValues("WWW-Authenticate", out var challenge));
        Assert.Equal($"Bearer realm=\"http://{server.Host}/oauth2/token\",service=\"{server.LoginServer}\",scope=\"{Scope}\"", Assert.Single(challenge));
        Assert.Equal("UNAUTHORIZED", (await ReadJsonAsync(response)).GetProperty("errors")[0].GetProperty("code").GetString());
    }

    [Fact]
    public async Task AlteredSignature_Returns401()
    {
        var parts = (await ValidTokenAsync()).Split('.');
        var signature = Jwt.Decode(parts[2]);
        signature[signature.Length / 2] ^= 0x01;
        await AssertRefusedAsync($"{parts[0]}.{parts[1]}.{Jwt.Encode(signature)}");
    }

    [Fact]
    public async Task AlteredPayloadWithOriginalSignature_Returns401()
    {
        var parts = (await ValidTokenAsync()).Split('.');
        var payload = JsonNode.Parse(Jwt.Decode(parts[1]))!.AsObject();
        payload["access"] = JsonNode.Parse("""[{"type":"repository","name":"*","actions":["*"]}]""");
        await AssertRefusedAsync($"{parts[0]}.{Jwt.Encode(payload.ToJsonString())}.{parts[2]}");
    }

    [Fact]
    public async Task AlgNone_Returns401()
    {
        var parts = (await ValidTokenAsync()).Split('.');
        var header = JsonNode.Parse(Jwt.Decode(parts[0]))!.AsObject();
        header["alg"] = "none";
        await AssertRefusedAsync($"{Jwt.Encode(header.ToJsonString())}.{parts[1]}.");
    }

    [Fact]
    public async Task Hs256SignedWithThePublicKey_Returns401()
    {
        var parts = (await ValidTokenAsync()).Split('.');
        var header = JsonNode.Parse(Jwt.Decode(parts[0]))!.AsObject();
        header["alg"] = "HS256";
        // The classic key-confusion forgery: HMAC keyed with the server's public key in PEM form.
        var keyFile = Directory.GetFiles(server.DataPath, SigningKey.FileName, SearchOption.AllDirectories).Single();
        using var rsa = RSA.Create();
        rsa.ImportFromPem(await File.ReadAllTextAsync(keyFile));
        var publicPem = Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem());
        var signingInput = $"{Jwt.Encode(header.ToJsonString())}.{parts[1]}";
        var mac = HMACSHA256.HashData(publicPem, Encoding.ASCII.GetBytes(signingInput));
        await AssertRefusedAsync($"{signingInput}.{Jwt.Encode(mac)}");
    }

    [Fact]
    public async Task TokenMintedForAnotherRegistry_Returns401HereAndWorksThere()
    {
        var directory = server.Services.GetRequiredService<RegistryDirectory>();
        var other = new Registry("tamperother", "tamperother.acr.localhost", RegistrySku.Standard, AnonymousPullEnabled: false,
            "00000000-0000-0000-0000-000000000000", "berth", "local", DateTimeOffset.UtcNow, Version: 1);
        Assert.True(await directory.CreateAsync(other, CancellationToken.None));
        await server.Identities.SetAdminUserEnabledAsync(other.Name, true, CancellationToken.None);
        var credentials = (await server.Identities.GetAdminCredentialsOrNullAsync(other.Name, CancellationToken.None))!;
        await ValidTokenAsync();

        using var basic = server.CreateClient(BerthTestServer.BasicAuthorization(credentials.Username, credentials.Password));
        using var response = await basic.GetAsync($"/oauth2/token?service={other.LoginServer}&scope={Uri.EscapeDataString(Scope)}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var foreign = (await ReadJsonAsync(response)).GetProperty("access_token").GetString()!;
        Assert.Equal(other.LoginServer, Jwt.Parse(foreign).Payload.GetProperty("aud").GetString());

        await AssertRefusedAsync(foreign);
        Assert.Equal(HttpStatusCode.OK, await StatusWithBearerAsync(server, foreign, "/v2/", host: $"{other.LoginServer}:{server.BaseAddress.Port}"));
    }

    [Fact]
    public async Task GarbageBearer_Returns401()
    {
        await ValidTokenAsync();
        await AssertRefusedAsync("not-a-jwt");
    }
}

/// <summary>Expiry observed on a server whose tokens live one second.</summary>
public sealed class TokenExpiryTests(ShortLivedTokenServer server) : IClassFixture<ShortLivedTokenServer>
{
    [Fact]
    public async Task ExpiredAccessToken_Returns401()
    {
        var token = await GetAccessTokenAsync(server, server.AdminUsername, server.AdminPassword);
        var payload = Jwt.Parse(token).Payload;
        Assert.Equal(1, payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64());
        // exp is in whole seconds: past it by a margin.
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(payload.GetProperty("exp").GetInt64());
        // On a busy machine the token may already be past that point; Task.Delay refuses a negative wait.
        var wait = expiresAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(1200);
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
        using var client = server.CreateClient(new AuthenticationHeaderValue("Bearer", token));
        using var response = await client.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("UNAUTHORIZED", (await ReadJsonAsync(response)).GetProperty("errors")[0].GetProperty("code").GetString());
    }
}

/// <summary>The anonymous paths of the token service, on a registry whose anonymous pull this class turns on and off.</summary>
public sealed class AnonymousTokenTests(UnthrottledBerthTestServer server) : IClassFixture<UnthrottledBerthTestServer>
{
    [Fact]
    public async Task PostPasswordGrantWithoutCredentialsAndAnonymousPullOn_Returns200WithAnonymousPullGrant()
    {
        await server.SetAnonymousPullAsync(true);
        try
        {
            using var response = await PostFormAsync(server, "/oauth2/token",
                ("service", server.LoginServer), ("scope", "repository:anon/a:pull,push"), ("grant_type", "password"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var token = (await ReadJsonAsync(response)).GetProperty("access_token").GetString()!;
            var payload = Jwt.Parse(token).Payload;
            Assert.Equal("acr_anon_pull", payload.GetProperty("sub").GetString());
            Assert.Equal(1200, payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64());
            Assert.Equal("repository:anon/a:pull", Format(AccessOf(token)));
        }
        finally
        {
            await server.SetAnonymousPullAsync(false);
        }
    }

    [Fact]
    public async Task GetWithoutCredentialsAfterAnonymousPullTurnedOff_Returns401()
    {
        await server.SetAnonymousPullAsync(true);
        await server.SetAnonymousPullAsync(false);
        using var client = server.CreateClient();
        using var response = await client.GetAsync(TokenQuery(server, "repository:anon/a:pull"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
