using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Berth.Server.Tests.AcrApi;

/// <summary>A server that flushes pull counts five times a second and does not throttle the load the tests make.</summary>
public sealed class PullCountingServer : UnthrottledBerthTestServer
{
    protected override IEnumerable<string> MoreArguments => ["--Berth:PullCounts:FlushInterval=00:00:00.2"];
}

/// <summary>The same on PostgreSQL, where the flush's UPSERT and the deletes run as PostgreSQL statements.</summary>
public sealed class PostgreSqlPullCountingServer() : PostgreSqlBerthTestServer(throttled: false)
{
    protected override IEnumerable<string> ExtraArguments => [.. base.ExtraArguments, "--Berth:PullCounts:FlushInterval=00:00:00.2"];
}

public sealed class PullCountTests(PullCountingServer server) : PullCountBehaviour(server), IClassFixture<PullCountingServer>;

public sealed class PostgreSqlPullCountTests(PostgreSqlPullCountingServer server) : PullCountBehaviour(server), IClassFixture<PostgreSqlPullCountingServer>;

/// <summary>
/// Manifest GETs counted in <c>/acr/v1</c>: exact under concurrency, split anonymous and authenticated, by tag for the
/// repository and the tag, by digest for the repository only; HEADs and failed GETs not at all. Counts show after a flush,
/// so each test ends with pulls that must count and waits (bounded) for them; what must not count would have been in the
/// same or an earlier flush.
/// </summary>
public abstract class PullCountBehaviour(BerthTestServer server)
{
    private static readonly TimeSpan FlushWait = TimeSpan.FromSeconds(30);

    private static string NewRepository() => "pulls/repo-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task ConcurrentPullsByTag_AreCountedExactly_SplitByCaller()
    {
        var repository = NewRepository();
        var image = new TestImage();
        await server.Client.PushImageAsync(repository, image, "v1");
        await server.SetAnonymousPullAsync(true);
        try
        {
            var anonymousToken = await AnonymousTokenAsync(repository);
            var clients = Enumerable.Range(0, 8)
                .Select(i => i % 2 == 0 ? server.CreateClient(new AuthenticationHeaderValue("Bearer", anonymousToken)) : server.CreateClient(server.Client.DefaultRequestHeaders.Authorization))
                .ToList();
            const int pullsPerClient = 25;
            await Task.WhenAll(clients.Select(async client =>
            {
                for (var i = 0; i < pullsPerClient; i++)
                {
                    using var response = await client.GetAsync($"/v2/{repository}/manifests/v1");
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                }
            }));
            foreach (var client in clients) client.Dispose();

            using var details = await WaitForPullCountAsync($"/acr/v1/{repository}", 200);
            AssertCounts(details.RootElement, total: 200, anonymous: 100);
            Assert.True(DateTimeOffset.TryParse(details.RootElement.GetProperty("lastPullTime").GetString(), out _));
            using var tag = await GetJsonAsync($"/acr/v1/{repository}/_tags/v1");
            AssertCounts(tag.RootElement.GetProperty("tag"), total: 200, anonymous: 100);
        }
        finally
        {
            await server.SetAnonymousPullAsync(false);
        }
    }

    [Fact]
    public async Task Heads_AreNotCounted()
    {
        var repository = NewRepository();
        var image = new TestImage();
        await server.Client.PushImageAsync(repository, image, "v1");
        for (var i = 0; i < 5; i++)
        {
            using var head = await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{repository}/manifests/v1"));
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        }
        await PullAsync(repository, "v1");

        using var details = await WaitForPullCountAsync($"/acr/v1/{repository}", 1);
        AssertCounts(details.RootElement, total: 1, anonymous: 0);
    }

    [Fact]
    public async Task PullsByDigest_CountForTheRepositoryOnly()
    {
        var repository = NewRepository();
        var image = new TestImage();
        await server.Client.PushImageAsync(repository, image, "v1");
        for (var i = 0; i < 3; i++) await PullAsync(repository, image.ManifestDigest);
        await PullAsync(repository, "v1");

        using var details = await WaitForPullCountAsync($"/acr/v1/{repository}", 4);
        AssertCounts(details.RootElement, total: 4, anonymous: 0);
        using var tag = await GetJsonAsync($"/acr/v1/{repository}/_tags/v1");
        AssertCounts(tag.RootElement.GetProperty("tag"), total: 1, anonymous: 0);
    }

    [Fact]
    public async Task FailedGets_AreNotCounted()
    {
        var repository = NewRepository();
        await server.Client.PushImageAsync(repository, new TestImage(), "v1");
        using (var missing = await server.Client.GetAsync($"/v2/{repository}/manifests/v2"))
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using (var stranger = server.CreateClient(BerthTestServer.BasicAuthorization("nobody", "wrong-password")))
        using (var refused = await stranger.GetAsync($"/v2/{repository}/manifests/v1"))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        await PullAsync(repository, "v1");

        using var details = await WaitForPullCountAsync($"/acr/v1/{repository}", 1);
        AssertCounts(details.RootElement, total: 1, anonymous: 0);
    }

    [Fact]
    public async Task NeverPulled_ShowsZeroAndNoTime()
    {
        var repository = NewRepository();
        await server.Client.PushImageAsync(repository, new TestImage(), "v1");
        using var details = await GetJsonAsync($"/acr/v1/{repository}");
        AssertCounts(details.RootElement, total: 0, anonymous: 0);
        Assert.Equal(JsonValueKind.Null, details.RootElement.GetProperty("lastPullTime").ValueKind);
        using var tags = await GetJsonAsync($"/acr/v1/{repository}/_tags");
        AssertCounts(tags.RootElement.GetProperty("tags")[0], total: 0, anonymous: 0);
    }

    [Fact]
    public async Task DeletedTag_TakesItsCountsWithIt()
    {
        var repository = NewRepository();
        await server.Client.PushImageAsync(repository, new TestImage(), "v1");
        await PullAsync(repository, "v1");
        using (await WaitForPullCountAsync($"/acr/v1/{repository}/_tags/v1", 1, d => d.GetProperty("tag"))) { }

        using (var deleted = await server.Client.DeleteAsync($"/acr/v1/{repository}/_tags/v1"))
            Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        await server.Client.PushImageAsync(repository, new TestImage(), "v1");

        using var tag = await GetJsonAsync($"/acr/v1/{repository}/_tags/v1");
        AssertCounts(tag.RootElement.GetProperty("tag"), total: 0, anonymous: 0);
        using var details = await GetJsonAsync($"/acr/v1/{repository}");
        AssertCounts(details.RootElement, total: 1, anonymous: 0);
    }

    [Fact]
    public async Task DeletedRepository_TakesItsCountsWithIt()
    {
        var repository = NewRepository();
        await server.Client.PushImageAsync(repository, new TestImage(), "v1");
        await PullAsync(repository, "v1");
        using (await WaitForPullCountAsync($"/acr/v1/{repository}", 1)) { }

        using (var deleted = await server.Client.DeleteAsync($"/acr/v1/{repository}"))
            Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        await server.Client.PushImageAsync(repository, new TestImage(), "v1");

        using var details = await GetJsonAsync($"/acr/v1/{repository}");
        AssertCounts(details.RootElement, total: 0, anonymous: 0);
        using var tag = await GetJsonAsync($"/acr/v1/{repository}/_tags/v1");
        AssertCounts(tag.RootElement.GetProperty("tag"), total: 0, anonymous: 0);
    }

    private static void AssertCounts(JsonElement element, long total, long anonymous)
    {
        Assert.Equal(total, element.GetProperty("pullCount").GetInt64());
        Assert.Equal(anonymous, element.GetProperty("anonymousPullCount").GetInt64());
        Assert.Equal(total - anonymous, element.GetProperty("authenticatedPullCount").GetInt64());
    }

    private async Task PullAsync(string repository, string reference)
    {
        using var response = await server.Client.GetAsync($"/v2/{repository}/manifests/{reference}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<string> AnonymousTokenAsync(string repository)
    {
        using var client = server.CreateClient();
        using var response = await client.GetAsync($"/oauth2/token?service={server.LoginServer}&scope=repository:{repository}:pull");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>Reads <paramref name="path"/> until its <c>pullCount</c> reaches <paramref name="expected"/> (a flush has landed), within a bound.</summary>
    private async Task<JsonDocument> WaitForPullCountAsync(string path, long expected, Func<JsonElement, JsonElement>? select = null)
    {
        var deadline = DateTime.UtcNow + FlushWait;
        while (true)
        {
            var document = await GetJsonAsync(path);
            var count = (select?.Invoke(document.RootElement) ?? document.RootElement).GetProperty("pullCount").GetInt64();
            if (count >= expected || DateTime.UtcNow > deadline) return document;
            document.Dispose();
            await Task.Delay(50);
        }
    }

    private async Task<JsonDocument> GetJsonAsync(string path)
    {
        using var response = await server.Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body);
    }
}
