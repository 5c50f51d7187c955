using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Berth.Core.Identity;

namespace Berth.Server.Tests.Access;

/// <summary>Changes to an identity apply to the very next request, also for bearer tokens issued before the change; mounts need pull on the source.</summary>
public sealed class AccessChangeTests(UnthrottledBerthTestServer server) : IClassFixture<UnthrottledBerthTestServer>
{
    private async Task<string> BearerAsync(string username, string password, string scope)
    {
        using var client = server.CreateClient(BerthTestServer.BasicAuthorization(username, password));
        using var response = await client.GetAsync($"/oauth2/token?service={server.LoginServer}&scope={Uri.EscapeDataString(scope)}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("access_token").GetString()!;
    }

    private async Task<HttpResponseMessage> GetAsync(AuthenticationHeaderValue authorization, string path)
    {
        using var client = server.CreateClient(authorization);
        return await client.GetAsync(path);
    }

    [Fact]
    public async Task TokenDisabledAfterBearerIssued_NextRequestIs401WithoutInsufficientScope()
    {
        var image = new TestImage();
        await server.Client.PushImageAsync("change/disable", image, "1");
        var password = await server.CreateTokenAsync("change-disable", "_repositories_pull");
        var bearer = new AuthenticationHeaderValue("Bearer", await BearerAsync("change-disable", password, "repository:change/disable:pull"));
        var path = $"/v2/change/disable/blobs/{image.LayerDigest}";
        using (var before = await GetAsync(bearer, path))
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        await server.Identities.UpdateTokenAsync(server.RegistryName, "change-disable", new TokenUpdate(Enabled: false), CancellationToken.None);

        using var after = await GetAsync(bearer, path);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal($"Bearer realm=\"http://{server.Host}/oauth2/token\",service=\"{server.LoginServer}\",scope=\"repository:change/disable:pull\"",
            after.Headers.NonValidated["WWW-Authenticate"].Single());
    }

    [Fact]
    public async Task PasswordExpiresAfterBearerIssued_NextRequestIs401()
    {
        var image = new TestImage();
        await server.Client.PushImageAsync("change/expire", image, "1");
        // Long enough for two slow password hashes and a push on a busy machine before the first request.
        var expiry = DateTimeOffset.UtcNow.AddSeconds(20);
        var password = await server.CreateTokenAsync("change-expire", "_repositories_pull", expiry: expiry);
        var basic = BerthTestServer.BasicAuthorization("change-expire", password);
        var bearer = new AuthenticationHeaderValue("Bearer", await BearerAsync("change-expire", password, "repository:change/expire:pull"));
        var path = $"/v2/change/expire/blobs/{image.LayerDigest}";
        using (var before = await GetAsync(bearer, path))
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        var untilExpired = expiry - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(300);
        if (untilExpired > TimeSpan.Zero) await Task.Delay(untilExpired);

        using var afterBearer = await GetAsync(bearer, path);
        Assert.Equal(HttpStatusCode.Unauthorized, afterBearer.StatusCode);
        using var afterBasic = await GetAsync(basic, path);
        Assert.Equal(HttpStatusCode.Unauthorized, afterBasic.StatusCode);
    }

    [Fact]
    public async Task RegeneratedPassword_OldPasswordIs401AndNewIs200()
    {
        var old = await server.CreateTokenAsync("change-regen", "_repositories_pull");
        var generated = await server.Identities.GenerateTokenPasswordsAsync(server.RegistryName, "change-regen", "password1", null, CancellationToken.None);
        using (var stale = await GetAsync(BerthTestServer.BasicAuthorization("change-regen", old), "/v2/"))
            Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
        using var fresh = await GetAsync(BerthTestServer.BasicAuthorization("change-regen", generated.Passwords.Single().Value), "/v2/");
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
    }

    [Fact]
    public async Task MountFromRepositoryTheCallerCannotPull_StartsAPlainUploadInstead()
    {
        var password = await server.CreateTokenAsync("change-mount", "change-mount-map",
            ["repositories/mounted/*/content/read", "repositories/mounted/*/content/write"]);
        var digest = await server.Client.PushBlobAsync("secret/source", RandomNumberGenerator.GetBytes(50));
        using var client = server.CreateClient(BerthTestServer.BasicAuthorization("change-mount", password));
        using var response = await client.PostAsync($"/v2/mounted/target/blobs/uploads/?mount={digest}&from=secret/source", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.NotNull(response.Headers.Location);
        using var head = new HttpRequestMessage(HttpMethod.Head, $"/v2/mounted/target/blobs/{digest}");
        using var blob = await server.Client.SendAsync(head);
        Assert.Equal(HttpStatusCode.NotFound, blob.StatusCode);
    }
}
