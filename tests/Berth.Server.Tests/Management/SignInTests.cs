using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Berth.Server.Tests.Management;

public sealed class SignInTests(ManagementTestServer server) : IClassFixture<ManagementTestServer>
{
    [Theory]
    [InlineData("GET", "/subscriptions")]
    [InlineData("GET", "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.ContainerRegistry/registries")]
    [InlineData("GET", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/berth/providers/Microsoft.ContainerRegistry/registries/myregistry")]
    [InlineData("PATCH", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/berth/providers/Microsoft.ContainerRegistry/registries/myregistry")]
    [InlineData("POST", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/berth/providers/Microsoft.ContainerRegistry/registries/myregistry/listCredentials")]
    [InlineData("GET", "/subscriptions/00000000-0000-0000-0000-000000000000/no/such/thing")]
    public async Task NoCredentials_Returns401WithArmErrorAndBearerChallenge(string method, string path)
    {
        using var client = server.CreateClient();
        var result = await client.SendAsync(new HttpMethod(method), path, rawBody: method == "PATCH" ? "{\"properties\":{\"anonymousPullEnabled\":true}}" : null);
        Assert.Equal("AuthenticationFailed", Arm.AssertArmError(HttpStatusCode.Unauthorized, result));
        var challenge = result.Response.Headers.WwwAuthenticate.Single();
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains($"authorization_uri=\"{server.BaseAddress.ToString().TrimEnd('/')}/adfs\"", challenge.Parameter);
        var registry = await server.Registries.GetAsync(server.RegistryName, CancellationToken.None);
        Assert.False(registry.AnonymousPullEnabled);
    }

    [Fact]
    public async Task ForgedOrForeignTokens_AreRefused()
    {
        var token = await server.GetManagementTokenAsync();
        var jwt = Jwt.Parse(token);
        var forged = jwt.Parts[0] + "." + Jwt.Encode(JsonSerializer.Serialize(new { appid = "someone", tid = "x", exp = 4102444800 })) + "." + jwt.Parts[2];
        // A registry token signed by the server's other key must not pass as a management token.
        using var registryTokenResponse = await server.Client.GetAsync($"/oauth2/token?service={server.LoginServer}&scope=registry:catalog:*");
        using var registryToken = JsonDocument.Parse(await registryTokenResponse.Content.ReadAsStringAsync());
        foreach (var presented in new[] { forged, "not-a-jwt", token + "x", registryToken.RootElement.GetProperty("access_token").GetString()! })
        {
            using var client = server.CreateClient(new AuthenticationHeaderValue("Bearer", presented));
            Arm.AssertArmError(HttpStatusCode.Unauthorized, await client.SendAsync(HttpMethod.Get, "/subscriptions"));
        }
        using var basic = server.CreateClient(BerthTestServer.BasicAuthorization(server.AdminUsername, server.AdminPassword));
        Arm.AssertArmError(HttpStatusCode.Unauthorized, await basic.SendAsync(HttpMethod.Get, "/subscriptions"));
    }

    [Fact]
    public async Task OwnerFile_IsPrivate_AndItsCredentialSignsIn()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.OwnerFilePath()));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(server.OwnerFilePath())!));
        var owner = server.ReadOwnerCredential();
        Assert.True(Guid.TryParse(owner.ClientId, out _));
        // The database holds only a hash of the secret.
        var database = await File.ReadAllBytesAsync(Path.Combine(server.DataPath, "metadata", "berth.db"));
        Assert.DoesNotContain(owner.ClientSecret, System.Text.Encoding.UTF8.GetString(database));
    }

    [Fact]
    public async Task EndpointFile_RecordsTheBoundAddress()
    {
        var path = Path.Combine(server.DataPath, "management", "endpoint.json");
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(path));
        Assert.Equal(server.BaseAddress.ToString().TrimEnd('/'), document.RootElement.GetProperty("endpoint").GetString());
        Assert.Equal(server.BaseAddress.ToString().TrimEnd('/') + "/adfs/oauth2/token", document.RootElement.GetProperty("tokenEndpoint").GetString());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public async Task TokenEndpoint_ClientCredentials_IssuesSignedExpiringJwtForTheRequestedResource()
    {
        var owner = server.ReadOwnerCredential();
        using var client = server.CreateClient();
        using var response = await client.PostAsync("/adfs/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = owner.ClientId, ["client_secret"] = owner.ClientSecret, ["grant_type"] = "client_credentials",
            ["scope"] = "https://management.localhost//.default",
            ["claims"] = "{\"access_token\": {\"xms_cc\": {\"values\": [\"CP1\"]}}}", ["client_info"] = "1",
        }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Bearer", body.RootElement.GetProperty("token_type").GetString());
        Assert.InRange(body.RootElement.GetProperty("expires_in").GetInt32(), 60, 86400);
        var jwt = Jwt.Parse(body.RootElement.GetProperty("access_token").GetString()!);
        Assert.Equal("RS256", jwt.Header.GetProperty("alg").GetString());
        Assert.False(string.IsNullOrEmpty(jwt.Header.GetProperty("kid").GetString()));
        Assert.Equal("https://management.localhost/", jwt.Payload.GetProperty("aud").GetString());
        Assert.Equal(owner.TenantId, jwt.Payload.GetProperty("tid").GetString());
        Assert.Equal(owner.ClientId, jwt.Payload.GetProperty("appid").GetString());
        Assert.True(jwt.Payload.GetProperty("exp").GetInt64() > DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }

    [Theory]
    [InlineData("client_credentials", true, HttpStatusCode.Unauthorized, "invalid_client")]
    [InlineData("password", false, HttpStatusCode.BadRequest, "unsupported_grant_type")]
    public async Task TokenEndpoint_BadRequests_GetOAuthErrors(string grantType, bool wrongSecret, HttpStatusCode status, string error)
    {
        var owner = server.ReadOwnerCredential();
        using var client = server.CreateClient();
        using var response = await client.PostAsync("/adfs/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = owner.ClientId, ["client_secret"] = wrongSecret ? "wrong" : owner.ClientSecret, ["grant_type"] = grantType,
            ["resource"] = ManagementAccess.ArmResource,
        }));
        Assert.Equal(status, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(error, body.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task OpenIdConfiguration_NamesTheTokenEndpoint()
    {
        using var client = server.CreateClient();
        using var document = JsonDocument.Parse(await client.GetStringAsync("/adfs/.well-known/openid-configuration"));
        var root = server.BaseAddress.ToString().TrimEnd('/');
        Assert.Equal(root + "/adfs/oauth2/token", document.RootElement.GetProperty("token_endpoint").GetString());
        Assert.Equal(root + "/adfs/oauth2/authorize", document.RootElement.GetProperty("authorization_endpoint").GetString());
    }

    [Fact]
    public async Task DiscoveryKeys_VerifyTheManagementTokensSignature()
    {
        using var client = server.CreateClient();
        using var document = JsonDocument.Parse(await client.GetStringAsync("/adfs/.well-known/openid-configuration"));
        var jwksUri = document.RootElement.GetProperty("jwks_uri").GetString()!;
        Assert.Equal(server.BaseAddress.ToString().TrimEnd('/') + "/adfs/discovery/keys", jwksUri);
        using var keys = JsonDocument.Parse(await client.GetStringAsync(jwksUri));
        var key = Assert.Single(keys.RootElement.GetProperty("keys").EnumerateArray());
        Assert.False(key.TryGetProperty("d", out _)); // public half only

        var token = Jwt.Parse(await server.GetManagementTokenAsync());
        Assert.Equal(token.Header.GetProperty("kid").GetString(), key.GetProperty("kid").GetString());
        using var rsa = System.Security.Cryptography.RSA.Create(new System.Security.Cryptography.RSAParameters
        {
            Modulus = Jwt.Decode(key.GetProperty("n").GetString()!),
            Exponent = Jwt.Decode(key.GetProperty("e").GetString()!),
        });
        var signed = System.Text.Encoding.ASCII.GetBytes(token.Parts[0] + "." + token.Parts[1]);
        Assert.True(rsa.VerifyData(signed, Jwt.Decode(token.Parts[2]), System.Security.Cryptography.HashAlgorithmName.SHA256,
            System.Security.Cryptography.RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public async Task MetadataEndpoints_DescribeTheCloudInBothFormats()
    {
        using var client = server.CreateClient();
        var root = server.BaseAddress.ToString().TrimEnd('/');
        using (var old = JsonDocument.Parse(await client.GetStringAsync("/metadata/endpoints?api-version=2015-01-01")))
        {
            var authentication = old.RootElement.GetProperty("authentication");
            Assert.Equal(root + "/adfs", authentication.GetProperty("loginEndpoint").GetString());
            Assert.Equal(root + "/", authentication.GetProperty("audiences")[0].GetString());
            Assert.Equal(root + "/", old.RootElement.GetProperty("graphEndpoint").GetString());
        }
        using var list = JsonDocument.Parse(await client.GetStringAsync("/metadata/endpoints?api-version=2019-05-01"));
        var cloud = list.RootElement[0];
        Assert.Equal(root + "/", cloud.GetProperty("resourceManager").GetString());
        Assert.Equal(".acr.localhost", cloud.GetProperty("suffixes").GetProperty("acrLoginServer").GetString());
    }

    [Fact]
    public async Task Subscriptions_ListTheOneSubscriptionWithItsTenant()
    {
        using var client = await server.CreateManagementClientAsync();
        var owner = server.ReadOwnerCredential();
        var list = await client.GetJsonAsync("/subscriptions?api-version=2019-11-01");
        var subscription = list["value"]![0]!;
        Assert.Equal($"/subscriptions/{owner.SubscriptionId}", subscription["id"]!.GetValue<string>());
        Assert.Equal(owner.TenantId, subscription["tenantId"]!.GetValue<string>());
        Assert.Equal("Enabled", subscription["state"]!.GetValue<string>());
        Assert.Equal(owner.SubscriptionId, (await client.GetJsonAsync($"/subscriptions/{owner.SubscriptionId}"))["subscriptionId"]!.GetValue<string>());
        Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Get, "/subscriptions/11111111-1111-1111-1111-111111111111/providers/Microsoft.ContainerRegistry/registries"));
    }

    [Fact]
    public async Task Exchange_ManagementToken_YieldsARefreshTokenThatActsAsAdmin()
    {
        var managementToken = await server.GetManagementTokenAsync();
        using var client = server.CreateClient();
        using var exchange = await client.PostAsync("/oauth2/exchange", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "access_token", ["service"] = server.LoginServer, ["tenant"] = server.ReadOwnerCredential().TenantId, ["access_token"] = managementToken,
        }));
        Assert.Equal(HttpStatusCode.OK, exchange.StatusCode);
        using var refreshBody = JsonDocument.Parse(await exchange.Content.ReadAsStringAsync());
        var refresh = refreshBody.RootElement.GetProperty("refresh_token").GetString()!;
        Assert.True(Jwt.Parse(refresh).Payload.GetProperty("exp").GetInt64() > DateTimeOffset.UtcNow.ToUnixTimeSeconds());

        using var token = await client.PostAsync("/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["service"] = server.LoginServer, ["scope"] = "registry:catalog:*", ["refresh_token"] = refresh,
        }));
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        using var accessBody = JsonDocument.Parse(await token.Content.ReadAsStringAsync());
        using var catalog = server.CreateClient(new AuthenticationHeaderValue("Bearer", accessBody.RootElement.GetProperty("access_token").GetString()));
        using var response = await catalog.GetAsync("/v2/_catalog");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Exchange_GarbageAccessToken_IsRefused()
    {
        using var client = server.CreateClient();
        using var exchange = await client.PostAsync("/oauth2/exchange", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "access_token", ["service"] = server.LoginServer, ["access_token"] = "garbage",
        }));
        Assert.Equal(HttpStatusCode.Unauthorized, exchange.StatusCode);
    }
}
