using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Berth.Core.Registries;
using Berth.Server.Throttling;
using static Berth.Server.Tests.TokenService.TokenTestSupport;

namespace Berth.Server.Tests.Access;

/// <summary>
/// Anonymous pull limited to repository patterns (<c>properties.anonymousPullRepositories</c>): every surface asks the
/// one policy. Anonymous callers see and pull only public repositories, callers with credentials keep their own rights
/// plus the public ones, failed credentials never fall back to anonymous, and only public content addressed by digest
/// is marked cacheable by shared caches. Run on SQLite and on PostgreSQL.
/// </summary>
public abstract class PublicRepositoriesTests<TServer>(TServer server) : IAsyncLifetime where TServer : BerthTestServer
{
    private const string PublicRepository = "pub/base";
    private const string PublicExact = "docs/site";
    private const string PrivateRepository = "priv/app";
    private const string PrivateNamedLikePublic = "pubx/app";

    private readonly TestImage _image = new();

    public async Task InitializeAsync()
    {
        foreach (var repository in new[] { PublicRepository, PublicExact, PrivateRepository, PrivateNamedLikePublic })
            await server.Client.PushImageAsync(repository, _image, "1");
        await SetPatternsAsync(true, "pub/*", PublicExact);
    }

    public Task DisposeAsync() => SetPatternsAsync(false, "*");

    private Task<RegistryUpdateResult> SetPatternsAsync(bool enabled, params string[] patterns) =>
        server.Registries.UpdateAsync(server.RegistryName, new RegistryPatch(AnonymousPullEnabled: enabled, AnonymousPullRepositories: patterns), "tests", CancellationToken.None);

    /// <summary>What docker does with no credentials: an anonymous token for the scope, then the request with it.</summary>
    private async Task<HttpResponseMessage> PullAnonymouslyAsync(string repository, string reference)
    {
        using var anonymous = server.CreateClient();
        using var tokenResponse = await anonymous.GetAsync(TokenQuery(server, $"repository:{repository}:pull"));
        Assert.Equal(HttpStatusCode.OK, tokenResponse.StatusCode);
        var token = (await ReadJsonAsync(tokenResponse)).GetProperty("access_token").GetString()!;
        using var bearer = server.CreateClient(new AuthenticationHeaderValue("Bearer", token));
        return await bearer.GetAsync($"/v2/{repository}/manifests/{reference}");
    }

    [Theory]
    [InlineData(PublicRepository)]
    [InlineData(PublicExact)]
    public async Task AnonymousCaller_PullsAPublicRepository(string repository)
    {
        using var response = await PullAnonymouslyAsync(repository, "1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(_image.Manifest, await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData(PrivateRepository)]
    [InlineData(PrivateNamedLikePublic)]
    public async Task AnonymousCaller_IsRefusedAPrivateRepository_WithAMessageSayingItIsNotPublic(string repository)
    {
        using var withToken = await PullAnonymouslyAsync(repository, "1");
        Assert.Equal(HttpStatusCode.Unauthorized, withToken.StatusCode);
        Assert.Contains($"repository \\\"{repository}\\\" is not public", await withToken.Content.ReadAsStringAsync());

        using var anonymous = server.CreateClient();
        using var withoutToken = await anonymous.GetAsync($"/v2/{repository}/manifests/1");
        Assert.Equal(HttpStatusCode.Unauthorized, withoutToken.StatusCode);
        Assert.Contains("is not public", await withoutToken.Content.ReadAsStringAsync());
        Assert.Contains("UNAUTHORIZED", await withoutToken.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnonymousToken_IsGrantedOnlyPublicRepositories()
    {
        using var anonymous = server.CreateClient();
        using var response = await anonymous.GetAsync(TokenQuery(server, $"repository:{PublicRepository}:pull", $"repository:{PrivateRepository}:pull", "repository:pub/x:push"));
        var token = (await ReadJsonAsync(response)).GetProperty("access_token").GetString()!;
        Assert.Equal($"repository:{PublicRepository}:pull", Format(AccessOf(token)));
    }

    [Theory]
    [InlineData("/v2/_catalog")]
    [InlineData("/acr/v1/_catalog")]
    public async Task AnonymousCatalog_ListsOnlyPublicRepositories_AcrossPages(string path)
    {
        using var anonymous = server.CreateClient();
        using var tokenResponse = await anonymous.GetAsync(TokenQuery(server, "registry:catalog:*"));
        var token = (await ReadJsonAsync(tokenResponse)).GetProperty("access_token").GetString()!;
        using var bearer = server.CreateClient(new AuthenticationHeaderValue("Bearer", token));
        var seen = new List<string>();
        var next = path + "?n=1";
        while (next is not null)
        {
            using var page = await bearer.GetAsync(next);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            seen.AddRange((await ReadJsonAsync(page)).GetProperty("repositories").EnumerateArray().Select(r => r.GetString()!));
            next = page.Headers.TryGetValues("Link", out var link) ? link.Single().Split('>')[0].TrimStart('<') : null;
        }
        Assert.Contains(PublicRepository, seen);
        Assert.Contains(PublicExact, seen);
        Assert.DoesNotContain(PrivateRepository, seen);
        Assert.DoesNotContain(PrivateNamedLikePublic, seen);

        using var admin = await server.Client.GetAsync("/v2/_catalog");
        Assert.Contains(PrivateRepository, (await ReadJsonAsync(admin)).GetProperty("repositories").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task TokenScopedToAPrivateRepository_AlsoPullsPublicOnes_ButNotOtherPrivateOnes()
    {
        var password = await server.CreateTokenAsync("ci-private-app", "ci-private-app-map", [$"repositories/{PrivateRepository}/content/read"]);
        using var basic = server.CreateClient(BerthTestServer.BasicAuthorization("ci-private-app", password));
        Assert.Equal(HttpStatusCode.OK, (await basic.GetAsync($"/v2/{PrivateRepository}/manifests/1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await basic.GetAsync($"/v2/{PublicRepository}/manifests/1")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await basic.GetAsync($"/v2/{PrivateNamedLikePublic}/manifests/1")).StatusCode);

        var token = await GetAccessTokenAsync(server, "ci-private-app", password, $"repository:{PublicRepository}:pull,push", $"repository:{PrivateNamedLikePublic}:pull");
        Assert.Equal($"repository:{PublicRepository}:pull", Format(AccessOf(token)));
        Assert.Equal(HttpStatusCode.OK, await StatusWithBearerAsync(server, token, $"/v2/{PublicRepository}/manifests/1"));
    }

    [Fact]
    public async Task DisabledOrExpiredCredentials_OnAPublicRepository_AreRefusedRatherThanTreatedAsAnonymous()
    {
        var password = await server.CreateTokenAsync("public-disabled", "_repositories_pull");
        await server.Identities.UpdateTokenAsync(server.RegistryName, "public-disabled", new Berth.Core.Identity.TokenUpdate(Enabled: false), CancellationToken.None);
        using var disabled = server.CreateClient(BerthTestServer.BasicAuthorization("public-disabled", password));
        Assert.Equal(HttpStatusCode.Unauthorized, (await disabled.GetAsync($"/v2/{PublicRepository}/manifests/1")).StatusCode);

        var expiring = await server.CreateTokenAsync("public-expired", "_repositories_pull", expiry: DateTimeOffset.UtcNow.AddSeconds(2));
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        using var expired = server.CreateClient(BerthTestServer.BasicAuthorization("public-expired", expiring));
        Assert.Equal(HttpStatusCode.Unauthorized, (await expired.GetAsync($"/v2/{PublicRepository}/manifests/1")).StatusCode);
    }

    [Fact]
    public async Task ChangingThePatterns_AppliesToTheNextRequest_EvenWithAnAnonymousTokenIssuedBefore()
    {
        using var anonymous = server.CreateClient();
        using var tokenResponse = await anonymous.GetAsync(TokenQuery(server, $"repository:{PublicRepository}:pull"));
        var token = (await ReadJsonAsync(tokenResponse)).GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await StatusWithBearerAsync(server, token, $"/v2/{PublicRepository}/manifests/1"));

        await SetPatternsAsync(true, PublicExact);
        try
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusWithBearerAsync(server, token, $"/v2/{PublicRepository}/manifests/1"));
            using var exact = await PullAnonymouslyAsync(PublicExact, "1");
            Assert.Equal(HttpStatusCode.OK, exact.StatusCode);
        }
        finally
        {
            await SetPatternsAsync(true, "pub/*", PublicExact);
        }
        Assert.Equal(HttpStatusCode.OK, await StatusWithBearerAsync(server, token, $"/v2/{PublicRepository}/manifests/1"));
    }

    [Fact]
    public async Task CacheHeaders_MarkOnlyPublicContentAddressedByDigestAsPublic()
    {
        async Task<string> CacheControlAsync(string path)
        {
            using var response = await server.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal($"\"{(path.Contains("/blobs/") ? _image.LayerDigest : _image.ManifestDigest)}\"", response.Headers.ETag!.Tag);
            return response.Headers.NonValidated["Cache-Control"].ToString();
        }

        Assert.Equal("public, max-age=31536000, immutable", await CacheControlAsync($"/v2/{PublicRepository}/manifests/{_image.ManifestDigest}"));
        Assert.Equal("public, max-age=31536000, immutable", await CacheControlAsync($"/v2/{PublicRepository}/blobs/{_image.LayerDigest}"));
        Assert.Equal("no-cache", await CacheControlAsync($"/v2/{PublicRepository}/manifests/1"));
        Assert.Equal("private, max-age=31536000, immutable", await CacheControlAsync($"/v2/{PrivateRepository}/manifests/{_image.ManifestDigest}"));
        Assert.Equal("private, max-age=31536000, immutable", await CacheControlAsync($"/v2/{PrivateRepository}/blobs/{_image.LayerDigest}"));
        Assert.Equal("no-cache", await CacheControlAsync($"/v2/{PrivateRepository}/manifests/1"));

        await SetPatternsAsync(false, "pub/*", PublicExact);
        try
        {
            Assert.Equal("private, max-age=31536000, immutable", await CacheControlAsync($"/v2/{PublicRepository}/manifests/{_image.ManifestDigest}"));
        }
        finally
        {
            await SetPatternsAsync(true, "pub/*", PublicExact);
        }
    }

    private async Task<JsonObject> CheckAccessAsync(string body)
    {
        using var management = await server.CreateManagementClientAsync();
        using var response = await management.PostAsync(server.RegistryPath(server.RegistryName) + "/checkAccess?api-version=2022-02-01-preview",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return (JsonObject)JsonNode.Parse(text)!;
    }

    private static Dictionary<string, string[]> Granted(JsonObject result) =>
        result["actions"]!.AsArray().ToDictionary(a => a!["action"]!.GetValue<string>(), a => a!["grantedBy"]!.AsArray().Select(g => g!.GetValue<string>()).ToArray());

    [Fact]
    public async Task CheckAccess_NamesTheRuleThatGrantsEachAction_AsRequestsAreAnswered()
    {
        var anonymousPublic = Granted(await CheckAccessAsync($$"""{"repository":"{{PublicRepository}}","anonymous":true}"""));
        Assert.Equal(["metadata_read", "pull"], anonymousPublic.Keys.Order());
        Assert.Equal(["anonymous pull pattern \"pub/*\""], anonymousPublic["pull"]);
        Assert.Empty(Granted(await CheckAccessAsync($$"""{"repository":"{{PrivateRepository}}","anonymous":true}""")));

        await server.CreateTokenAsync("check-ci", "check-ci-map", [$"repositories/{PrivateRepository}/content/write", $"repositories/{PrivateRepository}/content/read"]);
        var token = Granted(await CheckAccessAsync($$"""{"repository":"{{PublicRepository}}","token":"check-ci"}"""));
        Assert.Equal(["anonymous pull pattern \"pub/*\""], token["pull"]);
        Assert.False(token.ContainsKey("push"));
        var own = Granted(await CheckAccessAsync($$"""{"repository":"{{PrivateRepository}}","token":"check-ci"}"""));
        Assert.Equal([$"scope map check-ci-map: repositories/{PrivateRepository}/content/write"], own["push"]);

        var admin = Granted(await CheckAccessAsync($$"""{"repository":"{{PrivateRepository}}","admin":true}"""));
        Assert.Equal(["delete", "metadata_read", "metadata_write", "pull", "push"], admin.Keys.Order());
        Assert.Equal(["the admin user"], admin["delete"]);

        await server.Identities.UpdateTokenAsync(server.RegistryName, "check-ci", new Berth.Core.Identity.TokenUpdate(Enabled: false), CancellationToken.None);
        var disabled = await CheckAccessAsync($$"""{"repository":"{{PublicRepository}}","token":"check-ci"}""");
        Assert.Empty(Granted(disabled));
        Assert.Contains("disabled", disabled["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task PatternList_IsShownInArm_KeptWhileAnonymousPullIsOff_AndLogged()
    {
        using var management = await server.CreateManagementClientAsync();
        var path = server.RegistryPath(server.RegistryName) + "?api-version=2022-02-01-preview";
        async Task<JsonObject> PatchAsync(string body)
        {
            using var response = await management.PatchAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            return (JsonObject)JsonNode.Parse(text)!["properties"]!;
        }

        var off = await PatchAsync("""{"properties":{"anonymousPullEnabled":false}}""");
        Assert.False(off["anonymousPullEnabled"]!.GetValue<bool>());
        Assert.Equal(["pub/*", PublicExact], off["anonymousPullRepositories"]!.AsArray().Select(p => p!.GetValue<string>()));

        var on = await PatchAsync("""{"properties":{"anonymousPullEnabled":true,"anonymousPullRepositories":["team/*"]}}""");
        Assert.Equal(["team/*"], on["anonymousPullRepositories"]!.AsArray().Select(p => p!.GetValue<string>()));
        var all = await PatchAsync("""{"properties":{"anonymousPullRepositories":["*"]}}""");
        Assert.False(all.ContainsKey("anonymousPullRepositories"));

        using var invalid = await management.PatchAsync(path, new StringContent("""{"properties":{"anonymousPullRepositories":["team/../x"]}}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal("InvalidParameter", JsonNode.Parse(await invalid.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());

        var log = await server.Registries.ListActivityAsync(server.RegistryName, 20, CancellationToken.None);
        Assert.Contains(log, e => e.Setting == RegistryService.AnonymousPullRepositoriesSetting && e.OldValue == $"pub/* {PublicExact}" && e.NewValue == "team/*");
        Assert.Contains(log, e => e.Setting == RegistryService.AnonymousPullRepositoriesSetting && e.OldValue == "team/*" && e.NewValue == "*");
    }
}

public sealed class SqlitePublicRepositoriesTests(UnthrottledBerthTestServer server)
    : PublicRepositoriesTests<UnthrottledBerthTestServer>(server), IClassFixture<UnthrottledBerthTestServer>;

public sealed class PostgreSqlPublicRepositoriesTests(PostgreSqlPublicRepositoriesTests.Server server)
    : PublicRepositoriesTests<PostgreSqlPublicRepositoriesTests.Server>(server), IClassFixture<PostgreSqlPublicRepositoriesTests.Server>
{
    public sealed class Server() : PostgreSqlBerthTestServer(throttled: false);
}

/// <summary>Anonymous responses publish the caller's own budget, in Docker Hub's header names.</summary>
public sealed class PublicRateLimitHeaderTests(BerthTestServer server) : IClassFixture<BerthTestServer>
{
    [Fact]
    public async Task AnonymousResponses_CarryRateLimitLimitAndRemaining_AuthenticatedOnesNoLimit()
    {
        await server.Client.PushImageAsync("ratelimit/app", new TestImage(), "1");
        await server.SetAnonymousPullAsync(true);
        try
        {
            using var anonymous = server.CreateClient();
            using var tokenResponse = await anonymous.GetAsync(TokenQuery(server, "repository:ratelimit/app:pull"));
            var token = (await ReadJsonAsync(tokenResponse)).GetProperty("access_token").GetString()!;
            using var bearer = server.CreateClient(new AuthenticationHeaderValue("Bearer", token));
            using var response = await bearer.GetAsync("/v2/ratelimit/app/manifests/1");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var limit = long.Parse(response.Headers.GetValues(RequestThrottle.RateLimitLimitHeader).Single());
            var remaining = long.Parse(response.Headers.GetValues(RequestThrottle.RateLimitRemainingHeader).Single());
            Assert.True(limit > 0 && remaining < limit, $"limit {limit}, remaining {remaining}");

            using var admin = await server.Client.GetAsync("/v2/ratelimit/app/manifests/1");
            Assert.False(admin.Headers.Contains(RequestThrottle.RateLimitLimitHeader));
        }
        finally
        {
            await server.SetAnonymousPullAsync(false);
        }
    }
}
