using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Berth.Core.Registries;
using Microsoft.Extensions.DependencyInjection;
using Berth.Core.Storage;

namespace Berth.Server.Tests.Access;

/// <summary>The registry-wide anonymous pull switch on the wire (reference §2.2–2.3 and issue 4's extras).</summary>
public sealed class AnonymousPullTests(BerthTestServer server) : IClassFixture<BerthTestServer>, IAsyncLifetime
{
    private readonly HttpClient _anonymous = server.CreateClient();

    public Task InitializeAsync() => server.SetAnonymousPullAsync(false);

    public Task DisposeAsync()
    {
        _anonymous.Dispose();
        return server.SetAnonymousPullAsync(false);
    }

    [Fact]
    public async Task Off_AnonymousGetToken_Returns401WithUnauthorizedBody()
    {
        using var response = await _anonymous.GetAsync($"/oauth2/token?service={server.LoginServer}&scope=repository:any/thing:pull");
        await AssertUnauthorizedAsync(response);
    }

    [Fact]
    public async Task Off_PasswordGrantWithoutCredentials_Returns401()
    {
        using var response = await PostTokenAsync(("grant_type", "password"), ("service", server.LoginServer), ("scope", "registry:catalog:*"), ("refresh_token", ""));
        await AssertUnauthorizedAsync(response);
    }

    [Fact]
    public async Task On_AnonymousGetToken_GrantsPullAndMetadataReadOnly()
    {
        await server.SetAnonymousPullAsync(true);
        using var response = await _anonymous.GetAsync(
            $"/oauth2/token?service={server.LoginServer}&scope=repository:team/app:pull,push,delete,metadata_read,metadata_write&scope=registry:catalog:*");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var access = ReadAccessClaim(await ReadTokenAsync(response));
        Assert.Equal(["registry:catalog:*", "repository:team/app:pull,metadata_read"], access.Order());
    }

    [Fact]
    public async Task On_SdkPasswordGrantWithEmptyRefreshToken_ReturnsCatalogToken()
    {
        await server.SetAnonymousPullAsync(true);
        using var response = await PostTokenAsync(("service", server.LoginServer), ("scope", "registry:catalog:*"), ("refresh_token", ""), ("grant_type", "password"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = await ReadTokenAsync(response);
        using var catalog = await SendAsync(HttpMethod.Get, "/v2/_catalog", Bearer(token));
        Assert.Equal(HttpStatusCode.OK, catalog.StatusCode);
    }

    [Fact]
    public async Task On_AnonymousTokenPullsManifestsAndBlobs()
    {
        var image = await PushImageAsync("public/pull");
        await server.SetAnonymousPullAsync(true);
        var token = await AnonymousTokenAsync("repository:public/pull:pull");

        using var manifest = await SendAsync(HttpMethod.Get, $"/v2/public/pull/manifests/{image.Tag}", Bearer(token));
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        Assert.Equal(image.Manifest, await manifest.Content.ReadAsByteArrayAsync());
        using var blob = await SendAsync(HttpMethod.Get, $"/v2/public/pull/blobs/{image.LayerDigest}", Bearer(token));
        Assert.Equal(HttpStatusCode.OK, blob.StatusCode);
        Assert.Equal(image.Layer, await blob.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("POST", "/v2/public/push/blobs/uploads/", "repository:public/push:pull,push")]
    [InlineData("DELETE", "/v2/public/push/manifests/sha256:0000000000000000000000000000000000000000000000000000000000000000", "repository:public/push:delete")]
    public async Task On_AnonymousTokenOnWriteEndpoint_Returns401InsufficientScope(string method, string path, string scope)
    {
        await server.SetAnonymousPullAsync(true);
        var token = await AnonymousTokenAsync(scope);
        using var response = await SendAsync(new HttpMethod(method), path, Bearer(token));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        Assert.Contains($"scope=\"{scope}\"", challenge);
        Assert.Contains("error=\"insufficient_scope\"", challenge);
    }

    [Fact]
    public async Task TurningOff_EndsAnonymousTokensOnTheNextRequest()
    {
        var image = await PushImageAsync("public/revoke");
        await server.SetAnonymousPullAsync(true);
        var token = await AnonymousTokenAsync("repository:public/revoke:pull");
        using (var before = await SendAsync(HttpMethod.Get, $"/v2/public/revoke/manifests/{image.Tag}", Bearer(token)))
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        await server.SetAnonymousPullAsync(false);

        using var after = await SendAsync(HttpMethod.Get, $"/v2/public/revoke/manifests/{image.Tag}", Bearer(token));
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.StartsWith("Bearer realm=", after.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task On_WrongStoredPassword_IsRejectedWithLogoutAdvice()
    {
        await server.SetAnonymousPullAsync(true);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/oauth2/token?service={server.LoginServer}&scope=repository:public/x:pull");
        request.Headers.Authorization = BerthTestServer.BasicAuthorization(server.AdminUsername, "stale-password");
        using var response = await _anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var message = await ReadErrorMessageAsync(response);
        Assert.Contains("rejected", message);
        Assert.Contains("anonymous pull", message);
        Assert.Contains($"docker logout {server.LoginServer}", message);
        Assert.Contains($"podman logout {server.LoginServer}", message);
    }

    [Fact]
    public async Task On_WrongPasswordDirectlyOnV2_IsRejectedNotDowngraded()
    {
        await server.SetAnonymousPullAsync(true);
        using var response = await SendAsync(HttpMethod.Get, "/v2/_catalog", BerthTestServer.BasicAuthorization(server.AdminUsername, "stale-password"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("docker logout", await ReadErrorMessageAsync(response));
    }

    [Fact]
    public async Task Off_WrongPassword_GetsThePlainAcrMessage()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/oauth2/token?service={server.LoginServer}");
        request.Headers.Authorization = BerthTestServer.BasicAuthorization(server.AdminUsername, "stale-password");
        using var response = await _anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("logout", await ReadErrorMessageAsync(response));
    }

    [Fact]
    public async Task EnablingOnBasic_IsRefusedWithAcrMessage_AndNothingChanges()
    {
        var basic = await CreateRegistryAsync("basicreg" + Suffix(), RegistrySku.Basic);
        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            server.Registries.UpdateAsync(basic, new RegistryPatch(AnonymousPullEnabled: true), "tests", CancellationToken.None));
        Assert.Equal(RegistryErrorCode.BadRequest, error.Code);
        Assert.Equal("Anonymous pull is not supported for SKU Managed_Basic. For more information on SKU tiers, please visit https://aka.ms/acr/tiers.", error.Message);
        Assert.False((await server.Registries.GetAsync(basic, CancellationToken.None)).AnonymousPullEnabled);
        Assert.Empty(await server.Registries.ListActivityAsync(basic, 10, CancellationToken.None));
    }

    [Theory]
    [InlineData(RegistrySku.Standard)]
    [InlineData(RegistrySku.Premium)]
    public async Task EnablingOnStandardAndPremium_IsAllowed(RegistrySku sku)
    {
        var name = await CreateRegistryAsync(sku.ToString().ToLowerInvariant() + Suffix(), sku);
        var result = await server.Registries.UpdateAsync(name, new RegistryPatch(AnonymousPullEnabled: true), "tests", CancellationToken.None);
        Assert.True(result.Registry.AnonymousPullEnabled);
    }

    [Fact]
    public async Task DowngradingToBasicWhileOn_IsRefusedUntilTurnedOff()
    {
        var name = await CreateRegistryAsync("downgrade" + Suffix(), RegistrySku.Standard);
        await server.Registries.UpdateAsync(name, new RegistryPatch(AnonymousPullEnabled: true), "tests", CancellationToken.None);

        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            server.Registries.UpdateAsync(name, new RegistryPatch(Sku: RegistrySku.Basic), "tests", CancellationToken.None));
        Assert.Contains("Disable anonymous pull first", error.Message);
        Assert.Equal(RegistrySku.Standard, (await server.Registries.GetAsync(name, CancellationToken.None)).Sku);

        var both = await server.Registries.UpdateAsync(name, new RegistryPatch(Sku: RegistrySku.Basic, AnonymousPullEnabled: false), "tests", CancellationToken.None);
        Assert.Equal(RegistrySku.Basic, both.Registry.Sku);
    }

    [Fact]
    public async Task EnablingWhileTokensExist_WarnsWithTheirCount()
    {
        var name = await CreateRegistryAsync("warned" + Suffix(), RegistrySku.Standard);
        await server.Identities.PutTokenAsync(name, RegistrySku.Standard, "pulltoken1", "_repositories_pull", enabled: true, CancellationToken.None);
        await server.Identities.PutTokenAsync(name, RegistrySku.Standard, "pulltoken2", "_repositories_pull", enabled: true, CancellationToken.None);

        var result = await server.Registries.UpdateAsync(name, new RegistryPatch(AnonymousPullEnabled: true), "tests", CancellationToken.None);

        var warning = Assert.Single(result.Warnings);
        Assert.Contains("2 repository-scoped tokens", warning);
    }

    [Fact]
    public async Task EveryChange_IsRecordedInTheActivityLog()
    {
        var name = await CreateRegistryAsync("audited" + Suffix(), RegistrySku.Premium);
        await server.Registries.UpdateAsync(name, new RegistryPatch(AnonymousPullEnabled: true), "alice", CancellationToken.None);
        await server.Registries.UpdateAsync(name, new RegistryPatch(AnonymousPullEnabled: true), "alice", CancellationToken.None);
        await server.Registries.UpdateAsync(name, new RegistryPatch(AnonymousPullEnabled: false), "bob", CancellationToken.None);

        var log = await server.Registries.ListActivityAsync(name, 10, CancellationToken.None);
        Assert.Collection(log,
            newest => Assert.Equal(("bob", "anonymousPullEnabled", "true", "false"), (newest.Actor, newest.Setting, newest.OldValue, newest.NewValue)),
            oldest => Assert.Equal(("alice", "anonymousPullEnabled", "false", "true"), (oldest.Actor, oldest.Setting, oldest.OldValue, oldest.NewValue)));
    }

    private static string Suffix() => Guid.NewGuid().ToString("N")[..8];

    private async Task<string> CreateRegistryAsync(string name, RegistrySku sku)
    {
        var directory = server.Services.GetRequiredService<RegistryDirectory>();
        var created = await directory.CreateAsync(new Registry(name, $"{name}.acr.localhost", sku, false, "sub", "rg", "local", DateTimeOffset.UtcNow, 1), CancellationToken.None);
        Assert.True(created);
        return name;
    }

    private async Task<string> AnonymousTokenAsync(string scope)
    {
        using var response = await _anonymous.GetAsync($"/oauth2/token?service={server.LoginServer}&scope={Uri.EscapeDataString(scope)}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await ReadTokenAsync(response);
    }

    private async Task<HttpResponseMessage> PostTokenAsync(params (string Key, string Value)[] fields)
    {
        using var content = new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f.Key, f.Value)));
        return await _anonymous.PostAsync("/oauth2/token", content);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, AuthenticationHeaderValue authorization)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = authorization;
        return await _anonymous.SendAsync(request);
    }

    private static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);

    private static async Task<string> ReadTokenAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("access_token").GetString()!;
    }

    private static IEnumerable<string> ReadAccessClaim(string jwt)
    {
        var payload = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
        using var document = JsonDocument.Parse(Convert.FromBase64String(payload));
        return document.RootElement.GetProperty("access").EnumerateArray()
            .Select(a => $"{a.GetProperty("type").GetString()}:{a.GetProperty("name").GetString()}:{string.Join(',', a.GetProperty("actions").EnumerateArray().Select(x => x.GetString()))}")
            .ToList();
    }

    private static async Task AssertUnauthorizedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("UNAUTHORIZED", document.RootElement.GetProperty("errors")[0].GetProperty("code").GetString());
    }

    private static async Task<string> ReadErrorMessageAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("errors")[0].GetProperty("message").GetString()!;
    }

    private sealed record PushedImage(string Tag, byte[] Manifest, byte[] Layer, string LayerDigest);

    /// <summary>Pushes a one-layer OCI image with the admin client and returns what was pushed.</summary>
    private async Task<PushedImage> PushImageAsync(string repository)
    {
        var layer = Encoding.UTF8.GetBytes("layer of " + repository + Guid.NewGuid());
        var config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\"}");
        var layerDigest = await server.Client.PushBlobAsync(repository, layer);
        var configDigest = await server.Client.PushBlobAsync(repository, config);
        var manifest = Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}},\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"{layerDigest}\",\"size\":{layer.Length}}}]}}");
        using var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        using var response = await server.Client.PutAsync($"/v2/{repository}/manifests/v1", content);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return new PushedImage("v1", manifest, layer, layerDigest);
    }
}
