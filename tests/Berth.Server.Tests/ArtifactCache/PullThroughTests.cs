using System.Formats.Tar;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Berth.Server.Tests.ArtifactCache;

/// <summary>
/// Pull through a cache rule from real upstreams on loopback: CNCF distribution behind htpasswd Basic authentication,
/// and a second Berth with its token flow. skopeo and podman pull through Berth as users would.
/// </summary>
public sealed class PullThroughTests : IAsyncLifetime
{
    private DistributionRegistry _upstream = null!;
    private CacheBerthServer _berth = null!;
    private ContainerTools _upstreamTools = null!;
    private ContainerTools _berthTools = null!;
    private readonly TempDirectory _work = new("cache");

    public async Task InitializeAsync()
    {
        _upstream = await DistributionRegistry.StartAsync(basicAuth: true);
        _berth = new CacheBerthServer(_upstream.Host);
        await _berth.InitializeAsync();
        _upstreamTools = new ContainerTools(_upstream);
        _berthTools = new ContainerTools(_berth.Endpoint);
        await _berth.CreateCredentialSetAsync("upstream-login", _upstream.Host, DistributionRegistry.User, DistributionRegistry.Password);
    }

    public async Task DisposeAsync()
    {
        _upstreamTools.Dispose();
        _berthTools.Dispose();
        await _berth.DisposeAsync();
        await _upstream.DisposeAsync();
        _work.Dispose();
    }

    private async Task PushUpstreamAsync(TestImage image, string repository, string tag)
    {
        var layout = _work.Combine($"push-{Guid.NewGuid():N}");
        image.WriteLayout(layout, tag);
        (await _upstreamTools.SkopeoCopyAsync($"oci:{layout}:{tag}", _upstreamTools.RegistryReference(repository, tag))).EnsureSuccess();
    }

    private async Task<string> PullFromBerthAsync(string repository, string reference)
    {
        var layout = _work.Combine($"pull-{Guid.NewGuid():N}");
        (await _berthTools.SkopeoCopyAsync(_berthTools.RegistryReference(repository, reference), $"oci:{layout}:out")).EnsureSuccess();
        return layout;
    }

    private static string ManifestDigestIn(string layout) => OciLayout.FindReference(layout, "out")["digest"]!.GetValue<string>();

    private static byte[] BlobIn(string layout, string digest) => File.ReadAllBytes(Path.Combine(layout, "blobs", "sha256", digest["sha256:".Length..]));

    [Fact]
    public async Task FirstPull_MatchesUpstreamByteForByte_AndDigestPullsNeverAskUpstreamAgain()
    {
        var image = new TestImage(payloadSize: 300_000);
        await PushUpstreamAsync(image, "library/hello", "1");
        await _berth.CreateRuleAsync("hello-rule", $"{_upstream.Host}/library/hello", "hello", "upstream-login");

        var first = await PullFromBerthAsync("hello", "1");
        Assert.Equal(image.ManifestDigest, ManifestDigestIn(first));
        Assert.Equal(image.Layer, BlobIn(first, image.LayerDigest));
        Assert.Equal(image.Config, BlobIn(first, image.ConfigDigest));
        Assert.Equal(1, _upstream.CountRequests("GET", $"/blobs/{image.LayerDigest}"));

        var manifestRequests = _upstream.CountRequests("GET", "/manifests/") + _upstream.CountRequests("HEAD", "/manifests/");
        var again = await PullFromBerthAsync("hello", image.ManifestDigest);
        Assert.Equal(image.Layer, BlobIn(again, image.LayerDigest));
        Assert.Equal(manifestRequests, _upstream.CountRequests("GET", "/manifests/") + _upstream.CountRequests("HEAD", "/manifests/"));
        Assert.Equal(1, _upstream.CountRequests("GET", $"/blobs/{image.LayerDigest}"));

        var metrics = await (await _berth.Client.GetAsync("/metrics")).Content.ReadAsStringAsync();
        Assert.Matches(@"berth_artifact_cache_pulls_total\{result=""hit""\} [1-9]", metrics);
        Assert.Matches(@"berth_artifact_cache_pulls_total\{result=""miss""\} [1-9]", metrics);
        Assert.Matches(@"berth_artifact_cache_upstream_bytes_total [1-9]\d{5,}", metrics);
    }

    [Fact]
    public async Task Podman_PullsAnUpstreamImageThroughTheCache_ByteForByte_AndAgainWithTheUpstreamStopped()
    {
        // A real image podman unpacks: a tar layer with a payload, imported and pushed upstream by podman.
        var payload = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 7);
        var rootfs = _work.Combine("rootfs.tar");
        await using (var file = File.Create(rootfs))
        await using (var tar = new TarWriter(file, TarEntryFormat.Pax))
        {
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "data/") { Mode = (UnixFileMode)0b111_101_101 });
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "data/payload.bin") { DataStream = new MemoryStream(payload), Mode = (UnixFileMode)0b110_100_100 });
        }
        var digestFile = _work.Combine("digest");
        (await _upstreamTools.PodmanAsync("import", rootfs, "localhost/cache/podman:1")).EnsureSuccess();
        (await _upstreamTools.PodmanAsync(["push", .. _upstreamTools.PodmanRegistryOptions(), "--digestfile", digestFile, "localhost/cache/podman:1",
            $"docker://{_upstream.Host}/library/podimg:1"])).EnsureSuccess();
        var pushed = (await File.ReadAllTextAsync(digestFile)).Trim();
        await _berth.CreateRuleAsync("podman-rule", $"{_upstream.Host}/library/podimg", "podimg", "upstream-login");

        var remote = $"{_berth.Host}/podimg:1";
        (await _berthTools.PodmanAsync(["pull", .. _berthTools.PodmanRegistryOptions(), remote])).EnsureSuccess();
        Assert.Equal(pushed, (await _berthTools.PodmanAsync("image", "inspect", "--format", "{{.Digest}}", remote)).EnsureSuccess().StandardOutput.Trim());
        var mountPoint = (await _berthTools.PodmanAsync("image", "mount", remote)).EnsureSuccess().StandardOutput.Trim();
        try
        {
            var pulled = await File.ReadAllBytesAsync(Path.Combine(mountPoint, "data", "payload.bin"));
            Assert.True(payload.AsSpan().SequenceEqual(pulled), "the image pulled through the cache holds another /data/payload.bin than the one pushed upstream");
        }
        finally
        {
            await _berthTools.PodmanAsync("image", "unmount", remote);
        }

        // The second pull, into an empty image store, is served by the cache alone.
        (await _berthTools.PodmanAsync("rmi", "--force", remote)).EnsureSuccess();
        _upstream.Stop();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5)); // past the refresh interval: the tag is asked upstream, which fails
            (await _berthTools.PodmanAsync(["pull", .. _berthTools.PodmanRegistryOptions(), remote])).EnsureSuccess();
            Assert.Equal(pushed, (await _berthTools.PodmanAsync("image", "inspect", "--format", "{{.Digest}}", remote)).EnsureSuccess().StandardOutput.Trim());
        }
        finally
        {
            await _upstream.StartAgainAsync();
        }
    }

    [Fact]
    public async Task UpstreamDown_CachedTagIsServedStale_AndUncachedContentNamesTheUpstreamAndCause()
    {
        var image = new TestImage();
        await PushUpstreamAsync(image, "library/stale", "1");
        await _berth.CreateRuleAsync("stale-rule", $"{_upstream.Host}/library/stale", "stale", "upstream-login");
        await PullFromBerthAsync("stale", "1");

        _upstream.Stop();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5)); // past the refresh interval: the tag is asked upstream again, which fails
            var cached = await PullFromBerthAsync("stale", "1");
            Assert.Equal(image.ManifestDigest, ManifestDigestIn(cached));

            using var missing = await _berth.GetManifestAsync("stale", "2");
            Assert.Equal(HttpStatusCode.BadGateway, missing.StatusCode);
            var body = await missing.Content.ReadAsStringAsync();
            Assert.Contains($"upstream {_upstream.Host}", body);
            Assert.Contains("unreachable", body);
        }
        finally
        {
            await _upstream.StartAgainAsync();
        }
    }

    [Fact]
    public async Task MovedUpstreamTag_IsFollowedAfterTheRefreshInterval()
    {
        var before = new TestImage();
        var after = new TestImage();
        await PushUpstreamAsync(before, "library/moving", "1");
        await _berth.CreateRuleAsync("moving-rule", $"{_upstream.Host}/library/moving", "moving", "upstream-login");
        Assert.Equal(before.ManifestDigest, ManifestDigestIn(await PullFromBerthAsync("moving", "1")));

        await PushUpstreamAsync(after, "library/moving", "1");
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        var moved = await PullFromBerthAsync("moving", "1");
        Assert.Equal(after.ManifestDigest, ManifestDigestIn(moved));
        Assert.Equal(after.Layer, BlobIn(moved, after.LayerDigest));
    }

    [Fact]
    public async Task WildcardRule_FillsEveryRepositoryUnderItsPrefix()
    {
        var image = new TestImage();
        await PushUpstreamAsync(image, "team/app", "v1");
        await _berth.CreateRuleAsync("team-wildcard", $"{_upstream.Host}/team/*", "mirror/*", "upstream-login");

        var pulled = await PullFromBerthAsync("mirror/app", "v1");
        Assert.Equal(image.ManifestDigest, ManifestDigestIn(pulled));
        Assert.Equal(image.Layer, BlobIn(pulled, image.LayerDigest));
    }

    [Fact]
    public async Task WrongUpstreamPassword_IsReportedClearly_OnThePullAndOnTheRule()
    {
        await PushUpstreamAsync(new TestImage(), "library/locked", "1");
        await _berth.CreateCredentialSetAsync("wrong-login", _upstream.Host, DistributionRegistry.User, "not-the-password");
        await _berth.CreateRuleAsync("locked-rule", $"{_upstream.Host}/library/locked", "locked", "wrong-login");

        using var pull = await _berth.GetManifestAsync("locked", "1");
        Assert.Equal(HttpStatusCode.BadGateway, pull.StatusCode);
        Assert.Contains($"upstream {_upstream.Host}: refused the credentials of user '{DistributionRegistry.User}'", await pull.Content.ReadAsStringAsync());

        using var rule = await _berth.SendAsync(HttpMethod.Get, "cacheRules/locked-rule");
        var shown = JsonNode.Parse(await rule.Content.ReadAsStringAsync())!;
        Assert.Contains("refused the credentials", shown["properties"]!["lastError"]!.GetValue<string>());
        using var set = await _berth.SendAsync(HttpMethod.Get, "credentialSets/wrong-login");
        var health = JsonNode.Parse(await set.Content.ReadAsStringAsync())!["properties"]!["authCredentials"]![0]!["credentialHealth"]!;
        Assert.Equal("Unhealthy", health["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task ACredentialSetChangedToAWrongPassword_IsRefusedAtOnce_NotCoveredByTheOldLogin()
    {
        // Upstream logins are kept per password: a login that worked must not let a wrong password through afterwards.
        await PushUpstreamAsync(new TestImage(), "library/rotate", "1");
        await _berth.CreateCredentialSetAsync("rotate-login", _upstream.Host, DistributionRegistry.User, DistributionRegistry.Password);
        await _berth.CreateRuleAsync("rotate-rule", $"{_upstream.Host}/library/rotate", "rotate", "rotate-login");
        using (var first = await _berth.GetManifestAsync("rotate", "1"))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        await _berth.CreateCredentialSetAsync("rotate-login", _upstream.Host, DistributionRegistry.User, "not-the-password");
        await PushUpstreamAsync(new TestImage(), "library/rotate", "2");
        using var refused = await _berth.GetManifestAsync("rotate", "2");
        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        Assert.Contains($"refused the credentials of user '{DistributionRegistry.User}'", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task NoCredentialSet_AgainstAnAuthenticatedUpstream_SaysCredentialsAreNeeded()
    {
        await PushUpstreamAsync(new TestImage(), "library/anon", "1");
        await _berth.CreateRuleAsync("anon-rule", $"{_upstream.Host}/library/anon", "anon", null);

        using var pull = await _berth.GetManifestAsync("anon", "1");
        Assert.Equal(HttpStatusCode.BadGateway, pull.StatusCode);
        Assert.Contains("requires credentials", await pull.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task BerthUpstream_TokenFlowWithAScopedToken_PullsThrough()
    {
        await using var upstreamBerth = new BerthTestServer();
        await upstreamBerth.InitializeAsync();
        var image = new TestImage();
        using (var tools = new ContainerTools(new ToolEndpoint(upstreamBerth.Host, upstreamBerth.AdminCredentials)))
        {
            var layout = _work.Combine("berth-upstream");
            image.WriteLayout(layout, "1");
            (await tools.SkopeoCopyAsync($"oci:{layout}:1", tools.RegistryReference("src/app", "1"))).EnsureSuccess();
        }
        var password = await upstreamBerth.CreateTokenAsync("cachepull", "cachepull-map", ["repositories/src/app/content/read"]);

        await using var berth = new CacheBerthServer(upstreamBerth.Host);
        await berth.InitializeAsync();
        await berth.CreateCredentialSetAsync("berth-login", upstreamBerth.Host, "cachepull", password);
        await berth.CreateRuleAsync("berth-rule", $"{upstreamBerth.Host}/src/app", "app", "berth-login");

        using var tools2 = new ContainerTools(berth.Endpoint);
        var pulled = _work.Combine("berth-pulled");
        (await tools2.SkopeoCopyAsync(tools2.RegistryReference("app", "1"), $"oci:{pulled}:out")).EnsureSuccess();
        Assert.Equal(image.ManifestDigest, ManifestDigestIn(pulled));
        Assert.Equal(image.Layer, BlobIn(pulled, image.LayerDigest));
    }

    [Fact]
    public async Task ContainerdMirrorRequest_WithNs_IsMappedThroughTheRules()
    {
        var image = new TestImage();
        await PushUpstreamAsync(image, "library/mirrored", "1");
        await _berth.CreateRuleAsync("mirror-rule", $"{_upstream.Host}/library/*", $"{_upstream.Host.Replace(':', '-').Replace("127.0.0.1", "local")}/*", "upstream-login");

        using var response = await _berth.GetManifestAsync("library/mirrored", $"1?ns={_upstream.Host}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(image.Manifest, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Containerd_WithBerthAsMirrorInHostsToml_PullsAnUpstreamImageThroughTheRules()
    {
        var image = new TestImage();
        await PushUpstreamAsync(image, "library/ctrimage", "1");
        await _berth.CreateRuleAsync("ctr-rule", $"{_upstream.Host}/library/*", "upstream-mirror/*", "upstream-login");
        await _berth.SetAnonymousPullAsync(true);

        // hosts.toml as a cluster would write it: the upstream stays the image's name, Berth is its mirror.
        var hostsDir = _work.Combine("certs.d");
        Directory.CreateDirectory(Path.Combine(hostsDir, _upstream.Host));
        await File.WriteAllTextAsync(Path.Combine(hostsDir, _upstream.Host, "hosts.toml"), $"""
            server = "http://{_upstream.Host}"

            [host."http://{_berth.Host}"]
              capabilities = ["pull", "resolve"]
            """);
        await using var containerd = await ContainerdServer.StartAsync();
        var pull = await containerd.CtrAsync("images", "pull", "--hosts-dir", hostsDir, "--snapshotter", "native", $"{_upstream.Host}/library/ctrimage:1");
        Assert.True(pull.ExitCode == 0, pull.Describe());
        Assert.Contains(image.ManifestDigest, (await containerd.CtrAsync("images", "list")).EnsureSuccess().StandardOutput);

        // containerd never went upstream itself (it has no upstream credentials); Berth filled its mapped repository.
        Assert.Equal(0, CountUpstreamRequestsByContainerd());
        Assert.True(_upstream.CountRequests("GET", "Berth-ArtifactCache/") > 0, "the upstream log shows no user agents");
        using var cached = await _berth.GetManifestAsync("upstream-mirror/ctrimage", "1");
        Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        Assert.Equal(image.Manifest, await cached.Content.ReadAsByteArrayAsync());
    }

    private int CountUpstreamRequestsByContainerd() =>
        _upstream.CountRequests("GET", "containerd/") + _upstream.CountRequests("HEAD", "containerd/");

    [Fact]
    public async Task PushIntoACacheRulesRepository_IsDenied()
    {
        await _berth.CreateRuleAsync("push-rule", $"{_upstream.Host}/library/nopush", "nopush", "upstream-login");
        var layout = _work.Combine("push-denied");
        new TestImage().WriteLayout(layout, "1");
        var result = await _berthTools.SkopeoCopyAsync($"oci:{layout}:1", _berthTools.RegistryReference("nopush", "1"));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("cache rule", result.Output);
    }
}
