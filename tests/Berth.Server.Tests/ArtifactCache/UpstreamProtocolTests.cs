using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Berth.Core.Registries;

namespace Berth.Server.Tests.ArtifactCache;

/// <summary>
/// How Berth behaves as a client of upstream registries, seen from both ends: what a pull through a cache rule answers,
/// and what the upstream (a recording registry on loopback) receives. Throttling (429 and Retry-After), the bearer
/// token flow's token lifetime, and the destination guard for names, token realms and redirects.
/// </summary>
public sealed class UpstreamProtocolTests : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _upstreams = [];
    private readonly List<CacheBerthServer> _servers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var server in _servers) await server.DisposeAsync();
        foreach (var upstream in _upstreams) await upstream.DisposeAsync();
    }

    private async Task<RecordingUpstream> StartUpstreamAsync()
    {
        var upstream = await RecordingUpstream.StartAsync();
        _upstreams.Add(upstream);
        return upstream;
    }

    /// <summary>A Berth server that may reach <paramref name="listed"/> (<c>host:port</c>) over plain HTTP, and nothing else on loopback.</summary>
    private async Task<CacheBerthServer> StartBerthAsync(params string[] listed)
    {
        var server = new CacheBerthServer(listed);
        _servers.Add(server);
        await server.InitializeAsync();
        return server;
    }

    private static Task<HttpResponseMessage> GetBlobAsync(CacheBerthServer berth, string repository, string digest) =>
        berth.Client.GetAsync($"v2/{repository}/blobs/{digest}");

    /// <summary>Pulls the image's manifest by <paramref name="reference"/> and both its blobs, and compares every byte.</summary>
    private static async Task AssertPulledAsync(CacheBerthServer berth, string repository, string reference, TestImage image)
    {
        using (var manifest = await berth.GetManifestAsync(repository, reference))
        {
            Assert.True(manifest.StatusCode == HttpStatusCode.OK, $"{repository}:{reference}: {(int)manifest.StatusCode} {await manifest.Content.ReadAsStringAsync()}");
            Assert.Equal(image.Manifest, await manifest.Content.ReadAsByteArrayAsync());
        }
        foreach (var (digest, bytes) in new[] { (image.ConfigDigest, image.Config), (image.LayerDigest, image.Layer) })
        {
            using var blob = await GetBlobAsync(berth, repository, digest);
            Assert.True(blob.StatusCode == HttpStatusCode.OK, $"{repository}@{digest}: {(int)blob.StatusCode} {await blob.Content.ReadAsStringAsync()}");
            Assert.Equal(bytes, await blob.Content.ReadAsByteArrayAsync());
        }
    }

    /// <summary>The first registry error of the response: its code and message.</summary>
    private static async Task<(string Code, string Message)> ErrorOfAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        var error = JsonNode.Parse(body)?["errors"]?[0];
        Assert.True(error is not null, $"no registry error in {(int)response.StatusCode} {body}");
        return (error["code"]!.GetValue<string>(), error["message"]?.GetValue<string>() ?? "");
    }

    /// <summary>429 TOOMANYREQUESTS naming the upstream, with a Retry-After of at most <paramref name="maxSeconds"/>; returns the Retry-After.</summary>
    private static async Task<int> AssertThrottledAsync(HttpResponseMessage response, string upstream, int maxSeconds)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        var (code, message) = await ErrorOfAsync(response);
        Assert.Equal("TOOMANYREQUESTS", code);
        Assert.Contains(upstream, message);
        Assert.True(response.Headers.TryGetValues("Retry-After", out var values), "no Retry-After header");
        var seconds = int.Parse(Assert.Single(values), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 1, maxSeconds);
        return seconds;
    }

    /// <summary>502 UNAVAILABLE whose message names <paramref name="destination"/> and the setting that would allow it.</summary>
    private static async Task AssertRefusedAsync(HttpResponseMessage response, string destination)
    {
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var (code, message) = await ErrorOfAsync(response);
        Assert.Equal("UNAVAILABLE", code);
        Assert.Contains(destination, message);
        Assert.Contains("Berth:ArtifactCache:AllowHttpUpstreams", message);
    }

    [Fact]
    public async Task CallersWithoutPullRights_AreRefused_BeforeAnythingIsAskedUpstream()
    {
        // A cache rule's repository answers to the one access policy first: a caller who may not pull it never makes
        // the server fetch anything on its behalf.
        var upstream = await StartUpstreamAsync();
        var image = new TestImage();
        upstream.Add("library/guarded", "1", image);
        var berth = await StartBerthAsync(upstream.Host);
        await berth.CreateRuleAsync("guarded-rule", $"{upstream.Host}/library/guarded", "guarded", null);
        var elsewhere = await berth.CreateTokenAsync("elsewhere", "elsewhere-map", ["repositories/other/content/read"]);

        using var anonymous = berth.CreateClient();
        using var scopedElsewhere = berth.CreateClient(BerthTestServer.BasicAuthorization("elsewhere", elsewhere));
        foreach (var (who, client) in new[] { ("anonymous", anonymous), ("a token scoped to another repository", scopedElsewhere) })
        {
            foreach (var path in new[] { "v2/guarded/manifests/1", $"v2/guarded/manifests/{image.ManifestDigest}", $"v2/guarded/blobs/{image.LayerDigest}" })
            {
                using var refused = await client.GetAsync(path);
                Assert.True(refused.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"{who} GET {path}: {(int)refused.StatusCode}");
            }
        }
        // Anonymous pull on, but only for other repositories: still refused.
        await berth.Registries.UpdateAsync(berth.RegistryName, new RegistryPatch(AnonymousPullEnabled: true, AnonymousPullRepositories: ["public/*"]), "tests", CancellationToken.None);
        using (var notPublic = await anonymous.GetAsync("v2/guarded/manifests/1"))
            Assert.Equal(HttpStatusCode.Unauthorized, notPublic.StatusCode);
        Assert.Empty(upstream.Requests);

        // The admin may pull: the same request now goes upstream and is served byte for byte.
        await AssertPulledAsync(berth, "guarded", "1", image);
        Assert.NotEmpty(upstream.RegistryRequests);
    }

    [Fact]
    public async Task ConcurrentFirstPulls_AllStreamWhileTheOneUpstreamFetchIsStillRunning_AndGetIdenticalBytes()
    {
        // The upstream sends the first 20 MiB of a 24 MiB layer and then holds the rest back: every client, the one that
        // started the fetch and those that joined it, must get bytes meanwhile, not wait for the whole blob.
        var upstream = await StartUpstreamAsync();
        var image = new TestImage(payloadSize: 24 << 20);
        upstream.Add("library/big", "1", image);
        upstream.PauseBlobsAfter = 20 << 20;
        var berth = await StartBerthAsync(upstream.Host);
        await berth.CreateRuleAsync("follow-rule", $"{upstream.Host}/library/big", "follow", null);

        var received = new long[4];
        async Task<byte[]> PullAsync(int client)
        {
            using var response = await berth.Client.GetAsync($"v2/follow/blobs/{image.LayerDigest}", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(image.Layer.Length, response.Content.Headers.ContentLength);
            await using var body = await response.Content.ReadAsStreamAsync();
            using var bytes = new MemoryStream();
            var buffer = new byte[1 << 20];
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                bytes.Write(buffer, 0, read);
                Interlocked.Add(ref received[client], read);
            }
            return bytes.ToArray();
        }
        var pulls = Enumerable.Range(0, 4).Select(PullAsync).ToArray();
        try
        {
            // While the upstream holds the rest back, every client receives at least the first stored chunk (bounded wait).
            for (var waited = 0; waited < 600 && received.Any(r => Interlocked.Read(ref r) < 4 << 20); waited++) await Task.Delay(100);
            Assert.All(received, r => Assert.True(r >= 4 << 20, $"a client got only {r} bytes while the upstream held the blob back: {string.Join(", ", received)}"));
            Assert.Equal(1, upstream.PausedBlobs);
            Assert.All(pulls, pull => Assert.False(pull.IsCompleted));
        }
        finally
        {
            upstream.ReleaseBlobs.TrySetResult();
        }
        foreach (var bytes in await Task.WhenAll(pulls).WaitAsync(TimeSpan.FromSeconds(120))) Assert.Equal(image.Layer, bytes);
        Assert.Single(upstream.RegistryRequests, r => r.Method == "GET" && r.Path.EndsWith(image.LayerDigest, StringComparison.Ordinal));
        // Stored once, whole, and served from the store from now on.
        using var again = await GetBlobAsync(berth, "follow", image.LayerDigest);
        Assert.Equal(image.Layer, await again.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Upstream429_IsSurfacedWithRetryAfter_NotAskedAgainWithinIt_AndCachedContentStaysServed()
    {
        var upstream = await StartUpstreamAsync();
        var cached = new TestImage();
        upstream.Add("library/a", "cached", cached);
        var uncached = Enumerable.Range(0, 4).Select(_ => new TestImage()).ToArray();
        upstream.Add("library/a", "1", uncached[0]);
        upstream.Add("library/a", "2", uncached[1]);
        upstream.Add("library/b", "1", uncached[2]);
        upstream.Add("library/b", "2", uncached[3]);
        var berth = await StartBerthAsync(upstream.Host);
        await berth.CreateRuleAsync("throttled-a", $"{upstream.Host}/library/a", "throttled-a", null);
        await berth.CreateRuleAsync("throttled-b", $"{upstream.Host}/library/b", "throttled-b", null);
        await AssertPulledAsync(berth, "throttled-a", "cached", cached);

        upstream.ThrottleRetryAfter = "30";
        var askedBefore = upstream.RegistryRequests.Count;
        using (var first = await berth.GetManifestAsync("throttled-a", "1"))
            Assert.Equal(30, await AssertThrottledAsync(first, upstream.Host, 30));
        Assert.Equal(askedBefore + 1, upstream.RegistryRequests.Count);

        // Twenty pulls at once of uncached tags, digests and blobs, through both rules of the throttled upstream.
        var pulls = Enumerable.Range(0, 20).Select(i => (i % 5) switch
        {
            0 => berth.GetManifestAsync("throttled-a", "1"),
            1 => berth.GetManifestAsync("throttled-a", uncached[1].ManifestDigest),
            2 => berth.GetManifestAsync("throttled-b", "1"),
            3 => berth.GetManifestAsync("throttled-b", "2"),
            _ => GetBlobAsync(berth, "throttled-b", uncached[2 + i % 2].LayerDigest),
        }).ToArray();
        var responses = await Task.WhenAll(pulls);
        try
        {
            foreach (var response in responses) await AssertThrottledAsync(response, upstream.Host, 30);
        }
        finally
        {
            foreach (var response in responses) response.Dispose();
        }
        Assert.Equal(askedBefore + 1, upstream.RegistryRequests.Count);

        // The cached tag is due for its re-check (the refresh interval is one second), yet it is served as cached,
        // still without asking the throttled upstream.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await AssertPulledAsync(berth, "throttled-a", "cached", cached);
        await AssertPulledAsync(berth, "throttled-a", cached.ManifestDigest, cached);
        Assert.Equal(askedBefore + 1, upstream.RegistryRequests.Count);
    }

    [Fact]
    public async Task AfterRetryAfterHasPassed_TheUpstreamIsAskedAgain_AndThePullIsServedByteForByte()
    {
        const int retryAfter = 2;
        var upstream = await StartUpstreamAsync();
        var image = new TestImage(payloadSize: 100_000);
        upstream.Add("library/r", "1", image);
        var berth = await StartBerthAsync(upstream.Host);
        await berth.CreateRuleAsync("recovering", $"{upstream.Host}/library/r", "recovering", null);

        upstream.ThrottleRetryAfter = $"{retryAfter}";
        using (var first = await berth.GetManifestAsync("recovering", "1"))
            Assert.Equal(retryAfter, await AssertThrottledAsync(first, upstream.Host, retryAfter));
        var throttledAt = Assert.Single(upstream.RegistryRequests).At;
        upstream.ThrottleRetryAfter = null;

        // Pull until served (bounded): until the back-off is over the pulls are answered 429 without asking upstream.
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await berth.GetManifestAsync("recovering", "1");
            if (response.StatusCode == HttpStatusCode.OK) break;
            await AssertThrottledAsync(response, upstream.Host, retryAfter);
            Assert.True(DateTimeOffset.UtcNow < deadline, "still throttled 30 s after a Retry-After of 2 s");
            await Task.Delay(200);
        }
        Assert.All(upstream.RegistryRequests.Skip(1), request =>
            Assert.True(request.At >= throttledAt.AddSeconds(retryAfter), $"{request.Method} {request.Path} reached the upstream {(request.At - throttledAt).TotalSeconds:0.000} s after its 429"));
        await AssertPulledAsync(berth, "recovering", "1", image);
    }

    [Theory]
    [InlineData("date", 15, 20)]
    [InlineData("none", 30, 30)]
    public async Task A429WithADateOrNoRetryAfter_StillBacksOff_AndSaysForHowLong(string form, int least, int most)
    {
        var upstream = await StartUpstreamAsync();
        upstream.Add("library/d", "1", new TestImage());
        upstream.Add("library/d", "2", new TestImage());
        var berth = await StartBerthAsync(upstream.Host);
        await berth.CreateRuleAsync("dated", $"{upstream.Host}/library/d", "dated", null);

        // An HTTP date 20 s ahead (to the second); without a header Berth waits its own ThrottledBackOff (30 s by default).
        upstream.ThrottleRetryAfter = form == "date" ? DateTimeOffset.UtcNow.AddSeconds(20).ToString("R") : "";
        using (var first = await berth.GetManifestAsync("dated", "1"))
            Assert.InRange(await AssertThrottledAsync(first, upstream.Host, most), least, most);
        upstream.ThrottleRetryAfter = null;
        foreach (var tag in new[] { "1", "2", "1" })
        {
            using var again = await berth.GetManifestAsync("dated", tag);
            await AssertThrottledAsync(again, upstream.Host, 30);
        }
        Assert.Single(upstream.RegistryRequests);
    }

    [Fact]
    public async Task A429FromTheTokenService_BacksOffTheUpstream_AndIsSurfaced()
    {
        var upstream = await StartUpstreamAsync();
        upstream.BearerRealm = $"http://{upstream.Host}/token";
        upstream.Add("library/t", "1", new TestImage());
        upstream.Add("library/t", "2", new TestImage());
        var berth = await StartBerthAsync(upstream.Host);
        await berth.CreateRuleAsync("token-throttled", $"{upstream.Host}/library/t", "token-throttled", null);

        upstream.ThrottleRetryAfter = "30";
        upstream.ThrottleTokenServiceInstead = true;
        using (var first = await berth.GetManifestAsync("token-throttled", "1"))
            Assert.Equal(30, await AssertThrottledAsync(first, upstream.Host, 30));
        var asked = upstream.Requests.Count;
        Assert.Single(upstream.TokenRequests);

        upstream.ThrottleRetryAfter = null;
        foreach (var tag in new[] { "1", "2" })
        {
            using var again = await berth.GetManifestAsync("token-throttled", tag);
            await AssertThrottledAsync(again, upstream.Host, 30);
        }
        Assert.Equal(asked, upstream.Requests.Count);
    }

    [Fact]
    public async Task BearerTokens_AreAskedOncePerLifetime_WithTheCredentialSetsLogin()
    {
        const int lifetime = 20;
        const string user = "cache-user";
        const string password = "upstream-Pa55word";
        var upstream = await StartUpstreamAsync();
        upstream.BearerRealm = $"http://{upstream.Host}/token";
        upstream.TokenLifetimeSeconds = lifetime;
        upstream.TokenLogin = (user, password);
        var images = Enumerable.Range(0, 3).Select(_ => new TestImage()).ToArray();
        for (var i = 0; i < images.Length; i++) upstream.Add("library/tok", $"{i}", images[i]);
        var berth = await StartBerthAsync(upstream.Host);
        await berth.CreateCredentialSetAsync("token-login", upstream.Host, user, password);
        await berth.CreateRuleAsync("tokens", $"{upstream.Host}/library/tok", "tokens", "token-login");
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

        // Two manifests and four blobs, each fetched upstream for the first time, within the token's lifetime.
        await AssertPulledAsync(berth, "tokens", "0", images[0]);
        await AssertPulledAsync(berth, "tokens", "1", images[1]);
        var token = Assert.Single(upstream.TokenRequests);
        Assert.Equal(basic, token.Authorization);
        Assert.Contains("scope=repository%3Alibrary%2Ftok%3Apull", token.Query);
        Assert.Contains("service=recording-upstream", token.Query);
        Assert.True(upstream.RegistryRequests.Count(r => r.Authorization?.StartsWith("Bearer ", StringComparison.Ordinal) == true) >= 6,
            "every manifest and blob fetch carries the token");

        // Past the token's lifetime the next pull asks for one new token.
        var wait = token.At.AddSeconds(lifetime + 0.5) - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
        await AssertPulledAsync(berth, "tokens", "2", images[2]);
        Assert.Equal(2, upstream.TokenRequests.Count);
        Assert.Equal(basic, upstream.TokenRequests[1].Authorization);
        Assert.Equal(0, upstream.ExpiredTokensPresented);
    }

    [Fact]
    public async Task ConcurrentFirstPulls_ShareOneBearerToken()
    {
        var upstream = await StartUpstreamAsync();
        upstream.BearerRealm = $"http://{upstream.Host}/token";
        var images = Enumerable.Range(0, 4).Select(_ => new TestImage()).ToArray();
        for (var i = 0; i < images.Length; i++) upstream.Add("library/crowd", $"{i}", images[i]);
        var berth = await StartBerthAsync(upstream.Host);
        await berth.CreateRuleAsync("crowd", $"{upstream.Host}/library/crowd", "crowd", null);

        // Four clients at once, each pulling a different image: eight manifest and blob fetches start together, as
        // container tools fetch a manifest's blobs in parallel.
        await Task.WhenAll(images.Select((image, i) => AssertPulledAsync(berth, "crowd", $"{i}", image)));
        Assert.Single(upstream.TokenRequests);
    }

    [Fact]
    public async Task ABlobRedirectToAnotherListedHost_IsFollowed_WithoutTheRegistrysCredentials()
    {
        var registry = await StartUpstreamAsync();
        var storage = await StartUpstreamAsync();
        registry.BearerRealm = $"http://{registry.Host}/token";
        var image = new TestImage(payloadSize: 50_000);
        registry.Add("library/signed", "1", image);
        storage.Add("library/signed", "1", image);
        registry.RedirectBlobsTo = $"http://{storage.Host}";
        var berth = await StartBerthAsync(registry.Host, storage.Host);
        await berth.CreateRuleAsync("signed", $"{registry.Host}/library/signed", "signed", null);

        await AssertPulledAsync(berth, "signed", "1", image);
        Assert.Equal(2, storage.RegistryRequests.Count(r => r.Method == "GET" && r.Path.Contains("/blobs/", StringComparison.Ordinal)));
        Assert.All(storage.Requests, r => Assert.Null(r.Authorization));
        Assert.Contains(registry.RegistryRequests, r => r.Path.Contains("/blobs/", StringComparison.Ordinal) && r.Authorization?.StartsWith("Bearer ", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task AnUpstreamNamedLocalhost_IsRefusedUnlessListed_AndWorksOnceListed()
    {
        var upstream = await StartUpstreamAsync();
        var image = new TestImage();
        upstream.Add("library/guarded", "1", image);
        var named = $"localhost:{upstream.Port}";

        var unlisted = await StartBerthAsync();
        await unlisted.CreateRuleAsync("guarded", $"{named}/library/guarded", "guarded", null);
        using (var manifest = await unlisted.GetManifestAsync("guarded", "1"))
            await AssertRefusedAsync(manifest, named);
        using (var blob = await GetBlobAsync(unlisted, "guarded", image.LayerDigest))
            await AssertRefusedAsync(blob, named);
        Assert.Equal(0, upstream.Connections);

        var listed = await StartBerthAsync(named);
        await listed.CreateRuleAsync("guarded", $"{named}/library/guarded", "guarded", null);
        await AssertPulledAsync(listed, "guarded", "1", image);
        Assert.NotEmpty(upstream.RegistryRequests);
    }

    [Theory]
    [InlineData("http")]
    [InlineData("https")]
    public async Task ATokenRealmOnAnUnlistedLoopbackAddress_IsRefused_EvenForAListedRegistry(string scheme)
    {
        var registry = await StartUpstreamAsync();
        var tokenService = await StartUpstreamAsync();
        registry.BearerRealm = $"{scheme}://127.0.0.1:{tokenService.Port}/token";
        registry.Add("library/realm", "1", new TestImage());
        var berth = await StartBerthAsync(registry.Host);
        await berth.CreateRuleAsync("realm", $"{registry.Host}/library/realm", "realm", null);

        using (var manifest = await berth.GetManifestAsync("realm", "1"))
            await AssertRefusedAsync(manifest, $"127.0.0.1:{tokenService.Port}");
        Assert.NotEmpty(registry.RegistryRequests);
        Assert.Equal(0, tokenService.Connections);
    }

    [Theory]
    [InlineData("http")]
    [InlineData("https")]
    public async Task ABlobRedirectToAnUnlistedLoopbackName_IsRefused_WhileTheListedRegistryServesManifests(string scheme)
    {
        var registry = await StartUpstreamAsync();
        var storage = await StartUpstreamAsync();
        var image = new TestImage();
        registry.Add("library/redirected", "1", image);
        registry.RedirectBlobsTo = $"{scheme}://localhost:{storage.Port}";
        var berth = await StartBerthAsync(registry.Host);
        await berth.CreateRuleAsync("redirected", $"{registry.Host}/library/redirected", "redirected", null);

        using (var manifest = await berth.GetManifestAsync("redirected", "1"))
        {
            Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
            Assert.Equal(image.Manifest, await manifest.Content.ReadAsByteArrayAsync());
        }
        using (var blob = await GetBlobAsync(berth, "redirected", image.LayerDigest))
            await AssertRefusedAsync(blob, $"localhost:{storage.Port}");
        Assert.Contains(registry.RegistryRequests, r => r.Path.EndsWith($"/blobs/{image.LayerDigest}", StringComparison.Ordinal));
        Assert.Equal(0, storage.Connections);
    }
}
