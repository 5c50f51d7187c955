using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Berth.Server.Tests.Web;

/// <summary>
/// What the pages show and how they are sent: annotations, labels and environment names pushed by anyone are encoded,
/// never markup; every page carries the security headers; the manifest page shows configuration, layers, platforms and
/// referrers grouped by kind; the session cookie holds a Berth token, never the password.
/// </summary>
public sealed class WebContentTests(UnthrottledBerthTestServer server) : IClassFixture<UnthrottledBerthTestServer>, IAsyncLifetime
{
    private const string Hostile = "<script>alert(1)</script>";
    private const string HostileImage = "<img src=x onerror=alert(2)>";
    private const string Repository = "webcontent/app";
    private const string EmptyConfig = "application/vnd.oci.empty.v1+json";

    /// <summary>Keeps &lt; and &gt; raw in the JSON, as a hostile client would send them.</summary>
    private static readonly JsonSerializerOptions Raw = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly TestImage _image = new();
    private string _imageDigest = "";

    public async Task InitializeAsync()
    {
        await server.SetAnonymousPullAsync(true);
        _imageDigest = await PushHostileImageAsync(Repository, "1.0");
    }

    public Task DisposeAsync() => server.SetAnonymousPullAsync(false);

    /// <summary>An image whose annotations, config labels and environment carry markup and a secret environment value.</summary>
    private async Task<string> PushHostileImageAsync(string repository, string tag)
    {
        var config = new JsonObject
        {
            ["created"] = "2026-01-02T03:04:05Z",
            ["architecture"] = "arm64",
            ["variant"] = "v8",
            ["os"] = "linux",
            ["config"] = new JsonObject
            {
                ["Entrypoint"] = new JsonArray("/bin/server"),
                ["Cmd"] = new JsonArray("--listen", ":8080"),
                ["Env"] = new JsonArray("PATH=/usr/bin", "API_SECRET=do-not-show-this-value", "<b>NAME</b>=x"),
                ["Labels"] = new JsonObject { ["org.example.hostile"] = HostileImage, ["<i>key</i>"] = "v" },
            },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray() },
        };
        var configBytes = Encoding.UTF8.GetBytes(config.ToJsonString(Raw));
        await server.Client.PushBlobAsync(repository, _image.Layer);
        await server.Client.PushBlobAsync(repository, configBytes);
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = TestImage.ManifestMediaType,
            ["config"] = Descriptor(TestImage.ConfigMediaType, configBytes),
            ["layers"] = new JsonArray(Descriptor(TestImage.LayerMediaType, _image.Layer)),
            ["annotations"] = new JsonObject
            {
                ["org.opencontainers.image.title"] = Hostile,
                ["org.opencontainers.image.description"] = HostileImage,
                ["org.opencontainers.image.source"] = "javascript:alert(3)",
                ["org.opencontainers.image.url"] = "https://example.com/\"><script>alert(4)</script>",
                ["org.opencontainers.image.licenses"] = "Apache-2.0",
                ["<svg onload=alert(5)>"] = "key",
            },
        };
        return await server.Client.PushManifestAsync(repository, tag, Encoding.UTF8.GetBytes(manifest.ToJsonString(Raw)));
    }

    private static JsonObject Descriptor(string mediaType, byte[] content, string? artifactType = null)
    {
        var descriptor = new JsonObject { ["mediaType"] = mediaType, ["digest"] = TestImage.DigestOf(content), ["size"] = content.Length };
        if (artifactType is not null) descriptor["artifactType"] = artifactType;
        return descriptor;
    }

    /// <summary>A referrer artifact of <paramref name="subjectDigest"/>: an OCI manifest with an artifactType (or a config type) and one layer.</summary>
    private async Task<string> PushReferrerAsync(string repository, string subjectDigest, string? artifactType, string layerType, string? tag = null, string configType = EmptyConfig)
    {
        var config = "{}"u8.ToArray();
        var layer = Encoding.UTF8.GetBytes("payload " + Guid.NewGuid());
        await server.Client.PushBlobAsync(repository, config);
        await server.Client.PushBlobAsync(repository, layer);
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = TestImage.ManifestMediaType,
            ["config"] = Descriptor(configType, config),
            ["layers"] = new JsonArray(Descriptor(layerType, layer)),
        };
        if (artifactType is not null) manifest["artifactType"] = artifactType;
        if (tag is null)
            manifest["subject"] = new JsonObject { ["mediaType"] = TestImage.ManifestMediaType, ["digest"] = subjectDigest, ["size"] = 1 };
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        return await server.Client.PushManifestAsync(repository, tag ?? TestImage.DigestOf(bytes), bytes);
    }

    [Fact]
    public async Task HostileAnnotationsAndLabels_AreEncodedOnTheRepositoryPage()
    {
        using var browser = new Browser(server);
        using var page = await browser.GetAsync($"/r/{Repository}");

        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.DoesNotContain(Hostile, page.Html);
        Assert.DoesNotContain(HostileImage, page.Html);
        Assert.DoesNotContain("<svg", page.Html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", page.Html);
        Assert.Equal(Hostile, page.One("h1")!.TextContent);
        Assert.Equal(HostileImage, page.One("p#description")!.TextContent);
        Assert.Equal([WebAssetPath("berth.js")], page.All("script").Select(s => s.GetAttribute("src")!.Split('?')[0]).ToList());
        Assert.Empty(page.All("img"));
        // Only http(s) values become links, and those cannot break out of the attribute.
        Assert.Empty(page.All("a[href^='javascript']"));
        Assert.Contains("javascript:alert(3)", page.One("dl#annotations")!.TextContent);
        Assert.Equal("https://example.com/\"><script>alert(4)</script>", page.One("dl#annotations a[rel~=nofollow]")!.GetAttribute("href"));
        Assert.Contains("Apache-2.0", page.One("dl#annotations")!.TextContent);
    }

    [Fact]
    public async Task HostileContent_IsEncodedOnTheManifestPage_AndEnvironmentValuesAreNotShown()
    {
        using var browser = new Browser(server);
        using var page = await browser.GetAsync($"/r/{Repository}/-/manifests/{_imageDigest}");

        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.DoesNotContain(Hostile, page.Html);
        Assert.DoesNotContain(HostileImage, page.Html);
        Assert.DoesNotContain("<b>NAME</b>", page.Html);
        Assert.DoesNotContain("do-not-show-this-value", page.Html);
        Assert.Single(page.All("script"));
        Assert.Empty(page.All("img, svg, b, i"));
        // The raw manifest is shown as text: its markup is encoded, its JSON intact.
        var raw = page.One("pre#raw-manifest")!.TextContent;
        Assert.Equal(_imageDigest, TestImage.DigestOf(Encoding.UTF8.GetBytes(raw)));
        var config = page.One("section#config")!;
        Assert.Equal(["PATH", "API_SECRET", "<b>NAME</b>"], config.QuerySelectorAll(".env li").Select(li => li.TextContent).ToList());
        Assert.Equal(["<i>key</i>", "org.example.hostile"], config.QuerySelectorAll("dl#labels dt").Select(dt => dt.TextContent).ToList());
        Assert.Equal(["v", HostileImage], config.QuerySelectorAll("dl#labels dd").Select(dd => dd.TextContent).ToList());
        Assert.Equal("linux/arm64/v8", config.QuerySelector(".platform")!.TextContent);
        Assert.Equal("2026-01-02T03:04:05Z", config.QuerySelector(".created")!.TextContent);
        Assert.Equal("/bin/server", config.QuerySelector(".entrypoint")!.TextContent);
        Assert.Equal("--listen :8080", config.QuerySelector(".cmd")!.TextContent);
        Assert.Equal(TestImage.ManifestMediaType, page.One("#media-type")!.TextContent);
        var layer = page.One("table#layers tbody tr td.size")!;
        Assert.Equal($"{_image.Layer.Length:N0} bytes", layer.GetAttribute("title"));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/r/webcontent/app")]
    [InlineData("/r/no/such")]
    [InlineData("/-/sign-in")]
    public async Task EveryPage_CarriesTheSecurityHeaders(string path)
    {
        using var browser = new Browser(server);
        using var page = await browser.GetAsync(path);

        Assert.Equal("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            page.Header("Content-Security-Policy"));
        Assert.Equal("nosniff", page.Header("X-Content-Type-Options"));
        Assert.Equal("no-referrer", page.Header("Referrer-Policy"));
        Assert.Equal("DENY", page.Header("X-Frame-Options"));
        Assert.StartsWith("text/html", page.Response.Content.Headers.ContentType!.ToString());
        // Nothing the page loads or links as a resource leaves the origin, and there is no inline script or style. The
        // empty data: icon only stops browsers asking for /favicon.ico.
        foreach (var element in page.All("link[href]:not([rel=icon][href='data:,']), script, img, iframe, style"))
            Assert.True(element.GetAttribute("href") is { } href && href.StartsWith("/-/assets/", StringComparison.Ordinal)
                || element.GetAttribute("src") is { } src && src.StartsWith("/-/assets/", StringComparison.Ordinal), element.OuterHtml);
        Assert.Empty(page.All("[style], [onclick], [onload]"));
    }

    [Fact]
    public async Task ManifestPage_WithSecurityHeaders_AndTheDigestPageOf404ForAnUnknownDigest()
    {
        using var browser = new Browser(server);
        using var known = await browser.GetAsync($"/r/{Repository}/-/manifests/{_imageDigest}");
        using var unknown = await browser.GetAsync($"/r/{Repository}/-/manifests/sha256:{new string('0', 64)}");
        using var malformed = await browser.GetAsync($"/r/{Repository}/-/manifests/not-a-digest");

        Assert.Equal("DENY", known.Header("X-Frame-Options"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal(HttpStatusCode.NotFound, malformed.Status);
        Assert.Equal("nosniff", unknown.Header("X-Content-Type-Options"));
    }

    [Fact]
    public async Task Assets_AreServedFromTheOrigin_WithALongCacheAndRevalidation()
    {
        using var browser = new Browser(server);
        using var page = await browser.GetAsync("/");
        var css = page.One("link[rel=stylesheet]")!.GetAttribute("href")!;
        using var client = server.CreateClient();

        using var response = await client.GetAsync(css);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/css", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("immutable", response.Headers.CacheControl!.ToString());
        Assert.Contains("prefers-color-scheme: dark", await response.Content.ReadAsStringAsync());
        using var again = new HttpRequestMessage(HttpMethod.Get, css);
        again.Headers.TryAddWithoutValidation("If-None-Match", response.Headers.ETag!.ToString());
        using var revalidated = await client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);

        using var script = await client.GetAsync(page.One("script")!.GetAttribute("src")!);
        Assert.Contains("navigator.clipboard.writeText", await script.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Root_WithoutHtmlInAccept_IsStillNotFound()
    {
        using var client = server.CreateClient();
        using var response = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task RepositoryPage_ShowsTagRows_PullCommandsAndPullCounts()
    {
        const string repository = "webcontent/tags";
        await server.Client.PushImageAsync(repository, _image, "old");
        await Task.Delay(20);
        await server.Client.PushImageAsync(repository, _image, "new");
        using (var pull = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/new"))
        {
            pull.Headers.Accept.ParseAdd(TestImage.ManifestMediaType);
            using var pulled = await server.Client.SendAsync(pull);
            Assert.Equal(HttpStatusCode.OK, pulled.StatusCode);
        }
        using var browser = new Browser(server);
        // The pull is counted in memory and reaches the database with a flush (the server's own may be running too).
        var page = await browser.GetAsync($"/r/{repository}");
        for (var attempt = 0; attempt < 100 && page.One("tr[data-tag=new] td.pulls")?.TextContent != "1"; attempt++)
        {
            page.Dispose();
            await server.Services.GetRequiredService<Berth.Core.PullCounts.PullCountFlush>().RunAsync(false, CancellationToken.None);
            await Task.Delay(100);
            page = await browser.GetAsync($"/r/{repository}");
        }
        using var _ = page;

        Assert.Equal(["new", "old"], Browser.Tags(page));
        var row = page.One("tr[data-tag=new]")!;
        var digest = row.QuerySelector("a.digest")!;
        Assert.Equal(_image.ManifestDigest, digest.GetAttribute("title"));
        Assert.Equal($"/r/{repository}/-/manifests/{_image.ManifestDigest}", digest.GetAttribute("href"));
        Assert.Equal(_image.ManifestDigest[..19], digest.TextContent);
        var size = _image.Manifest.Length + _image.Config.Length + _image.Layer.Length;
        Assert.Equal($"{size:N0} bytes", row.QuerySelector("td.size")!.GetAttribute("title"));
        Assert.Equal("linux/amd64", row.QuerySelector("td.platforms")!.TextContent);
        Assert.Equal("1", row.QuerySelector("td.pulls")!.TextContent);
        Assert.Equal("0", page.One("tr[data-tag=old] td.pulls")!.TextContent);
        Assert.NotNull(row.QuerySelector("td.pushed time[datetime]"));
        Assert.Equal($"podman pull {server.LoginServer}/{repository}:new", page.One("code#pull-podman")!.TextContent);
        Assert.Equal($"docker pull {server.LoginServer}/{repository}:new", page.One("code#pull-docker")!.TextContent);
        Assert.NotNull(page.One("button.copy[data-copy-target=pull-podman]"));
        Assert.NotNull(page.One("button.copy[data-copy-target=pull-docker]"));
    }

    [Fact]
    public async Task RepositoryPage_LeavesOutTagsWithListingDisabled_AsAcrListingsDo()
    {
        const string repository = "webcontent/hidden";
        await server.Client.PushImageAsync(repository, _image, "shown");
        await server.Client.PushImageAsync(repository, _image, "hidden");
        await server.Services.GetRequiredService<Berth.Core.Content.RepositoryDetailsService>().UpdateAttributesAsync(
            new Berth.Core.Storage.RepositoryKey(server.RegistryName, repository), Berth.Core.Storage.AttributeTarget.Tag, "hidden",
            new Berth.Core.Storage.AttributesPatch(null, null, null, ListEnabled: false), CancellationToken.None);

        using var browser = new Browser(server);
        using var page = await browser.GetAsync($"/r/{repository}");
        using var search = await browser.GetAsync($"/r/{repository}?q=hid");

        Assert.Equal(["shown"], Browser.Tags(page));
        Assert.Empty(Browser.Tags(search));
    }

    [Fact]
    public async Task IndexPage_ListsEveryPlatform_AndTheTagRowNamesThemAll()
    {
        const string repository = "webcontent/multi";
        var amd = new TestImage();
        var arm = new TestImage();
        await server.Client.PushImageAsync(repository, amd, "amd");
        await server.Client.PushImageAsync(repository, arm, "arm");
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.index.v1+json",
            ["manifests"] = new JsonArray(
                Platform(amd, "linux", "amd64", null), Platform(arm, "linux", "arm64", "v8")),
            ["annotations"] = new JsonObject { ["org.opencontainers.image.description"] = "multi-platform" },
        };
        var digest = await server.Client.PushManifestAsync(repository, "multi", Encoding.UTF8.GetBytes(index.ToJsonString()), "application/vnd.oci.image.index.v1+json");

        using var browser = new Browser(server);
        using var repositoryPage = await browser.GetAsync($"/r/{repository}");
        using var page = await browser.GetAsync($"/r/{repository}/-/manifests/{digest}");

        Assert.Equal("linux/amd64, linux/arm64/v8", repositoryPage.One("tr[data-tag=multi] td.platforms")!.TextContent);
        Assert.Equal("multi-platform", repositoryPage.One("p#description")!.TextContent);
        var rows = page.All("table#platforms tbody tr");
        Assert.Equal(["linux/amd64", "linux/arm64/v8"], rows.Select(r => r.QuerySelector("th")!.TextContent).ToList());
        Assert.Equal($"/r/{repository}/-/manifests/{arm.ManifestDigest}", rows[1].QuerySelector("a")!.GetAttribute("href"));
    }

    private static JsonObject Platform(TestImage image, string os, string architecture, string? variant)
    {
        var platform = new JsonObject { ["os"] = os, ["architecture"] = architecture };
        if (variant is not null) platform["variant"] = variant;
        return new JsonObject
        {
            ["mediaType"] = TestImage.ManifestMediaType, ["digest"] = image.ManifestDigest, ["size"] = image.Manifest.Length, ["platform"] = platform,
        };
    }

    [Fact]
    public async Task Referrers_AreGroupedByKind_AndLinkToTheirManifestPages()
    {
        const string repository = "webcontent/signed";
        await server.Client.PushImageAsync(repository, _image, "1");
        var subject = _image.ManifestDigest;
        var cosign = await PushReferrerAsync(repository, subject, "application/vnd.dev.cosign.artifact.sig.v1+json", "application/vnd.dev.cosign.simplesigning.v1+json");
        var notation = await PushReferrerAsync(repository, subject, "application/vnd.cncf.notary.signature", "application/jose+json");
        var spdx = await PushReferrerAsync(repository, subject, "application/spdx+json", "application/spdx+json");
        var cyclone = await PushReferrerAsync(repository, subject, "application/vnd.cyclonedx+json", "application/vnd.cyclonedx+json");
        var intoto = await PushReferrerAsync(repository, subject, "application/vnd.in-toto+json", "application/vnd.in-toto+json");
        var bundle = await PushReferrerAsync(repository, subject, "application/vnd.dev.sigstore.bundle.v0.3+json", "application/vnd.dev.sigstore.bundle.v0.3+json");
        var other = await PushReferrerAsync(repository, subject, "application/vnd.example.thing", "application/octet-stream");
        // cosign's tag scheme: sha256-<hex>.sig with a simple-signing layer and a plain image config type.
        var tagged = await PushReferrerAsync(repository, subject, null, "application/vnd.dev.cosign.simplesigning.v1+json",
            tag: subject.Replace(':', '-') + ".sig", configType: TestImage.ConfigMediaType);

        using var browser = new Browser(server);
        using var page = await browser.GetAsync($"/r/{repository}/-/manifests/{subject}");

        IReadOnlySet<string> Group(string key) =>
            page.All($"section#referrers section[data-artifact-group={key}] a.referrer").Select(a => a.GetAttribute("title")!).ToHashSet();
        Assert.Equal(new HashSet<string> { cosign, notation, tagged }, Group("signatures"));
        Assert.Equal(new HashSet<string> { spdx, cyclone }, Group("sboms"));
        Assert.Equal(new HashSet<string> { intoto, bundle }, Group("attestations"));
        Assert.Equal(new HashSet<string> { other }, Group("other"));
        Assert.Equal($"/r/{repository}/-/manifests/{spdx}", page.One($"a.referrer[title='{spdx}']")!.GetAttribute("href"));

        using var referrerPage = await browser.GetAsync($"/r/{repository}/-/manifests/{spdx}");
        Assert.Equal(HttpStatusCode.OK, referrerPage.Status);
        Assert.Equal("application/spdx+json", referrerPage.One("#artifact-type")!.TextContent);
        Assert.Equal($"/r/{repository}/-/manifests/{subject}", referrerPage.One("a#subject")!.GetAttribute("href"));
    }

    [Fact]
    public async Task SessionCookie_IsHttpOnlyStrictAndHoldsABerthTokenNotThePassword()
    {
        using var browser = new Browser(server);
        using var answer = await browser.SignInAsync(server.AdminUsername, server.AdminPassword);

        Assert.Equal(HttpStatusCode.SeeOther, answer.Status);
        var header = answer.Response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("berth_session=", StringComparison.Ordinal));
        var attributes = header.Split(';').Select(a => a.Trim().ToLowerInvariant()).ToList();
        Assert.Contains("httponly", attributes);
        Assert.Contains("samesite=strict", attributes);
        Assert.Contains("path=/", attributes);
        Assert.DoesNotContain("secure", attributes); // plain http here; see WebThrottlingTests for https
        Assert.Contains(attributes, a => a.StartsWith("expires=", StringComparison.Ordinal));
        var value = header.Split(';')[0]["berth_session=".Length..];
        Assert.DoesNotContain(server.AdminPassword, value);
        var parts = value.Split('.');
        Assert.Equal(3, parts.Length);
        var payload = Encoding.UTF8.GetString(Base64UrlDecode(parts[1]));
        Assert.DoesNotContain(server.AdminPassword, payload);
        using var claims = JsonDocument.Parse(payload);
        Assert.Equal("refresh", claims.RootElement.GetProperty("berth_typ").GetString());
        Assert.Equal(server.LoginServer, claims.RootElement.GetProperty("aud").GetString());
    }

    [Fact]
    public async Task SignIn_WithoutTheAntiforgeryField_IsRefused()
    {
        using var browser = new Browser(server);
        using var answer = await browser.PostFormAsync("/-/sign-in",
            [KeyValuePair.Create("username", server.AdminUsername), KeyValuePair.Create("password", server.AdminPassword)]);

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Null(browser.Cookies.GetCookies(server.BaseAddress)["berth_session"]);
        using var signOut = await browser.PostFormAsync("/-/sign-out", []);
        Assert.Equal(HttpStatusCode.BadRequest, signOut.Status);
    }

    [Theory]
    [InlineData("//evil.example/x")]
    [InlineData("https://evil.example/")]
    [InlineData("/\\evil.example")]
    public async Task SignIn_ReturnsOnlyToLocalPaths(string returnUrl)
    {
        using var browser = new Browser(server);
        using var answer = await browser.SignInAsync(server.AdminUsername, server.AdminPassword, returnUrl);

        Assert.Equal(HttpStatusCode.SeeOther, answer.Status);
        Assert.Equal("/", answer.Response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task PageRequests_AreCountedUnderTheirOwnMetricsGroup()
    {
        using var browser = new Browser(server);
        using (await browser.GetAsync("/")) { }
        using var client = server.CreateClient();
        var metrics = await client.GetStringAsync("/metrics");

        Assert.Contains("berth_http_requests_total{group=\"web\",status=\"200\"}", metrics);
    }

    private static string WebAssetPath(string name) => "/-/assets/" + name;

    private static byte[] Base64UrlDecode(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded.PadRight(padded.Length + (4 - padded.Length % 4) % 4, '='));
    }
}
