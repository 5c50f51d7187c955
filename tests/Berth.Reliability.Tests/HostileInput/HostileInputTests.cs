using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Berth.Reliability.Tests.Infrastructure;

namespace Berth.Reliability.Tests.HostileInput;

/// <summary>Malformed and hostile requests: each gets the spec's error, and nothing of it is stored.</summary>
public sealed class HostileInputTests(UnthrottledBerthTestServer server) : IClassFixture<UnthrottledBerthTestServer>
{
    private string Basic => server.Client.DefaultRequestHeaders.Authorization!.ToString();

    // ---- manifests ----

    [Fact]
    public async Task ManifestNotJson_400ManifestInvalidAndNothingStored()
    {
        var (status, code) = await PutManifestAsync("hostile/not-json", "v1", Encoding.UTF8.GetBytes("{\"schemaVersion\": 2, "), TestImage.ManifestMediaType);
        Assert.Equal((400, "MANIFEST_INVALID"), (status, code));
        await AssertRepositoryEmptyAsync("hostile/not-json");
    }

    [Theory]
    [InlineData("2.5")]
    [InlineData("1e400")]
    [InlineData("99999999999")]
    public async Task ManifestSchemaVersionNotAnInteger_400ManifestInvalid(string schemaVersion)
    {
        var body = Encoding.UTF8.GetBytes($$"""{"schemaVersion":{{schemaVersion}},"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}""");
        var (status, code) = await PutManifestAsync("hostile/schema-version", "v1", body, "application/vnd.oci.image.index.v1+json");
        Assert.Equal((400, "MANIFEST_INVALID"), (status, code));
        await AssertRepositoryEmptyAsync("hostile/schema-version");
    }

    [Fact]
    public async Task ManifestOver4MiB_413SizeInvalidAndNothingStored()
    {
        var image = new TestImage();
        var manifest = JsonNode.Parse(image.Manifest)!.AsObject();
        manifest["annotations"] = new JsonObject { ["pad"] = new string('x', 4 * 1024 * 1024) };
        var (status, code) = await PutManifestAsync("hostile/huge-manifest", "v1", Encoding.UTF8.GetBytes(manifest.ToJsonString()), TestImage.ManifestMediaType);
        Assert.Equal((413, "SIZE_INVALID"), (status, code));
        await AssertRepositoryEmptyAsync("hostile/huge-manifest");
    }

    [Fact]
    public async Task ManifestContentTypeDisagreesWithItsMediaType_400ManifestInvalidAndNothingStored()
    {
        const string repository = "hostile/media-type-lie";
        var image = new TestImage();
        await server.Client.PushBlobAsync(repository, image.Layer);
        await server.Client.PushBlobAsync(repository, image.Config);
        var (status, code) = await PutManifestAsync(repository, "v1", image.Manifest, "application/vnd.docker.distribution.manifest.v2+json");
        Assert.Equal((400, "MANIFEST_INVALID"), (status, code));
        await AssertManifestAbsentAsync(repository, "v1");
        await AssertManifestAbsentAsync(repository, image.ManifestDigest);
    }

    [Fact]
    public async Task ManifestDescriptorLiesAboutBlobSize_400AndNothingStored()
    {
        const string repository = "hostile/size-lie";
        var image = new TestImage();
        await server.Client.PushBlobAsync(repository, image.Layer);
        await server.Client.PushBlobAsync(repository, image.Config);
        var manifest = JsonNode.Parse(image.Manifest)!.AsObject();
        manifest["layers"]![0]!["size"] = image.Layer.Length + 1000;
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var (status, code) = await PutManifestAsync(repository, "v1", bytes, TestImage.ManifestMediaType);
        Assert.Equal(400, status);
        Assert.Contains(code, new[] { "MANIFEST_INVALID", "SIZE_INVALID", "MANIFEST_BLOB_UNKNOWN" });
        await AssertManifestAbsentAsync(repository, "v1");
        await AssertManifestAbsentAsync(repository, TestImage.DigestOf(bytes));
    }

    [Fact]
    public async Task ManifestDigestMismatch_400DigestInvalidAndNothingStored()
    {
        const string repository = "hostile/manifest-digest";
        var image = new TestImage();
        await server.Client.PushBlobAsync(repository, image.Layer);
        await server.Client.PushBlobAsync(repository, image.Config);
        var wrong = TestImage.DigestOf(Encoding.UTF8.GetBytes("something else"));
        var (status, code) = await PutManifestAsync(repository, wrong, image.Manifest, TestImage.ManifestMediaType);
        Assert.Equal((400, "DIGEST_INVALID"), (status, code));
        await AssertManifestAbsentAsync(repository, wrong);
        await AssertManifestAbsentAsync(repository, image.ManifestDigest);
    }

    // ---- blobs and uploads ----

    [Fact]
    public async Task BlobDigestMismatch_400DigestInvalidAndNoFileStored()
    {
        var content = RandomNumberGenerator.GetBytes(10_000);
        var claimed = TestImage.DigestOf(Encoding.UTF8.GetBytes("claimed"));
        using var response = await server.Client.PostAsync($"/v2/hostile/blob-digest/blobs/uploads/?digest={claimed}", Octets(content));
        Assert.Equal((400, "DIGEST_INVALID"), ((int)response.StatusCode, await CodeAsync(response)));
        await AssertBlobAbsentAsync("hostile/blob-digest", claimed);
        await AssertBlobAbsentAsync("hostile/blob-digest", TestImage.DigestOf(content));
    }

    [Theory]
    [InlineData("md5:9e107d9d372bb6826bd81d3542a419d6")]
    [InlineData("sha1:2fd4e1c67a2d28fced849ee1bb76e7391b93eb12")]
    [InlineData("sha256:ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789")]
    [InlineData("sha256:123")]
    [InlineData("sha256")]
    public async Task UnsupportedOrMalformedDigest_400DigestInvalidAndNothingStored(string digest)
    {
        using var response = await server.Client.PostAsync($"/v2/hostile/algorithms/blobs/uploads/?digest={Uri.EscapeDataString(digest)}", Octets([1, 2, 3]));
        Assert.Equal((400, "DIGEST_INVALID"), ((int)response.StatusCode, await CodeAsync(response)));
        using var get = await server.Client.GetAsync($"/v2/hostile/algorithms/blobs/{Uri.EscapeDataString(digest)}");
        Assert.Equal(HttpStatusCode.BadRequest, get.StatusCode);
        await AssertBlobAbsentAsync("hostile/algorithms", TestImage.DigestOf([1, 2, 3]));
    }

    [Theory]
    [InlineData("bytes=abc")]
    [InlineData("10-5")]
    [InlineData("-5")]
    [InlineData("5-10")]
    [InlineData("0-99999999999999999999999")]
    public async Task InvalidContentRange_416AndNothingAppended(string contentRange)
    {
        var location = await server.Client.StartUploadAsync("hostile/content-range");
        using var patch = new HttpRequestMessage(HttpMethod.Patch, location) { Content = Octets(new byte[6]) };
        Assert.True(patch.Content!.Headers.TryAddWithoutValidation("Content-Range", contentRange));
        using var response = await server.Client.SendAsync(patch);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Contains(await CodeAsync(response), new[] { "RANGE_INVALID", "BLOB_UPLOAD_INVALID", "SIZE_INVALID" });
        Assert.Equal(0, UploadFileLength(location));
    }

    [Fact]
    public async Task ContentLengthDisagreesWithContentRange_416AndNothingAppended()
    {
        var location = await server.Client.StartUploadAsync("hostile/length-vs-range");
        using var patch = new HttpRequestMessage(HttpMethod.Patch, location) { Content = Octets(new byte[100]) };
        patch.Content!.Headers.TryAddWithoutValidation("Content-Range", "0-49");
        using var response = await server.Client.SendAsync(patch);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal(0, UploadFileLength(location));
    }

    [Theory]
    [InlineData("-5")]
    [InlineData("abc")]
    [InlineData("5, 6")]
    public async Task InvalidContentLength_400(string contentLength)
    {
        var location = await server.Client.StartUploadAsync("hostile/content-length");
        var response = await RawHttp.SendAsync(server.BaseAddress,
            $"PATCH {location} HTTP/1.1\nHost: {server.Host}\nAuthorization: {Basic}\nContent-Length: {contentLength}\n", Encoding.ASCII.GetBytes("hello"));
        Assert.Equal(400, response.Status);
        Assert.Equal(0, UploadFileLength(location));
    }

    /// <summary>
    /// The challenge's realm names the host the client reached (docs/security.md): it can only ever reflect a
    /// syntactically valid host, so no header or parameter can be smuggled into <c>WWW-Authenticate</c> through it.
    /// </summary>
    [Theory]
    [InlineData("evil\",x=\"y")]
    [InlineData("evil host")]
    [InlineData("evil/path")]
    public async Task HostThatIsNoHost_400WithoutAChallenge(string host)
    {
        var response = await RawHttp.SendAsync(server.BaseAddress, $"GET /v2/ HTTP/1.1\nHost: {host}\n");
        Assert.Equal(400, response.Status);
        Assert.DoesNotContain("WWW-Authenticate", response.Head, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task HugeDeclaredManifestLength_413WithoutReadingTheBody()
    {
        var response = await RawHttp.SendAsync(server.BaseAddress,
            $"PUT /v2/hostile/huge-declared/manifests/v1 HTTP/1.1\nHost: {server.Host}\nAuthorization: {Basic}\nContent-Type: {TestImage.ManifestMediaType}\nContent-Length: 1099511627776\n",
            Encoding.ASCII.GetBytes("{}"), timeout: TimeSpan.FromSeconds(30));
        Assert.Equal(413, response.Status);
        Assert.Contains("SIZE_INVALID", response.Body);
        await AssertRepositoryEmptyAsync("hostile/huge-declared");
    }

    [Fact]
    public async Task HugeDeclaredChunkThatEndsEarly_ChunkRolledBackAndUploadResumable()
    {
        var location = await server.Client.StartUploadAsync("hostile/huge-chunk");
        var response = await RawHttp.SendAsync(server.BaseAddress,
            $"PATCH {location} HTTP/1.1\nHost: {server.Host}\nAuthorization: {Basic}\nContent-Type: application/octet-stream\nContent-Length: 1000000000000\n",
            new byte[4096], closeAfterSending: true, timeout: TimeSpan.FromSeconds(10));
        Assert.NotEqual(500, response.Status);
        await AssertUploadEmptyAndResumableAsync("hostile/huge-chunk", location);
    }

    [Fact]
    public async Task ChunkBodyEndsEarly_ChunkRolledBackAndUploadResumable()
    {
        var location = await server.Client.StartUploadAsync("hostile/short-chunk");
        var response = await RawHttp.SendAsync(server.BaseAddress,
            $"PATCH {location} HTTP/1.1\nHost: {server.Host}\nAuthorization: {Basic}\nContent-Type: application/octet-stream\nContent-Range: 0-999\nContent-Length: 1000\n",
            new byte[500], closeAfterSending: true, timeout: TimeSpan.FromSeconds(10));
        Assert.NotEqual(500, response.Status);
        await AssertUploadEmptyAndResumableAsync("hostile/short-chunk", location);
    }

    [Fact]
    public async Task MonolithicBodyEndsEarly_NoBlobStored()
    {
        var content = RandomNumberGenerator.GetBytes(2000);
        var digest = TestImage.DigestOf(content);
        var response = await RawHttp.SendAsync(server.BaseAddress,
            $"POST /v2/hostile/short-blob/blobs/uploads/?digest={digest} HTTP/1.1\nHost: {server.Host}\nAuthorization: {Basic}\nContent-Type: application/octet-stream\nContent-Length: 2000\n",
            content[..1000], closeAfterSending: true, timeout: TimeSpan.FromSeconds(10));
        Assert.NotEqual(500, response.Status);
        await AssertBlobAbsentAsync("hostile/short-blob", digest);
    }

    [Fact]
    public async Task ManifestBodyEndsEarly_NothingStored()
    {
        var image = new TestImage();
        await server.Client.PushBlobAsync("hostile/short-manifest", image.Layer);
        await server.Client.PushBlobAsync("hostile/short-manifest", image.Config);
        var response = await RawHttp.SendAsync(server.BaseAddress,
            $"PUT /v2/hostile/short-manifest/manifests/v1 HTTP/1.1\nHost: {server.Host}\nAuthorization: {Basic}\nContent-Type: {TestImage.ManifestMediaType}\nContent-Length: {image.Manifest.Length + 10}\n",
            image.Manifest, closeAfterSending: true, timeout: TimeSpan.FromSeconds(10));
        Assert.NotEqual(500, response.Status);
        await AssertManifestAbsentAsync("hostile/short-manifest", "v1");
    }

    [Fact]
    public async Task StalledUploadBody_TimesOutAndChunkRolledBack()
    {
        var location = await server.Client.StartUploadAsync("hostile/stalled-body");
        var (response, elapsed) = await RawHttp.StallAsync(server.BaseAddress,
            $"PATCH {location} HTTP/1.1\nHost: {server.Host}\nAuthorization: {Basic}\nContent-Type: application/octet-stream\nContent-Length: 100000\n\n",
            new byte[100], TimeSpan.FromSeconds(25));
        // Kestrel's minimum body data rate (240 B/s after a 5 s grace) ends it with 408 or a closed connection.
        Assert.True(elapsed < TimeSpan.FromSeconds(20), $"a stalled body held the connection for {elapsed}");
        Assert.True(response.Status is 0 or 408, $"a stalled body got {response.Status}");
        await AssertUploadEmptyAndResumableAsync("hostile/stalled-body", location);
    }

    [Fact]
    public async Task StalledRequestHeaders_ConnectionClosedWithinHeaderTimeout()
    {
        var (response, elapsed) = await RawHttp.StallAsync(server.BaseAddress,
            $"GET /v2/ HTTP/1.1\nHost: {server.Host}\nX-Slow: 1\n", null, TimeSpan.FromSeconds(30));
        Assert.True(elapsed < TimeSpan.FromSeconds(20), $"stalled headers held the connection for {elapsed}");
        Assert.True(response.Status is 0 or 408, $"stalled headers got {response.Status}");
    }

    [Fact]
    public async Task ManyHeaders_431()
    {
        var head = new StringBuilder($"GET /v2/ HTTP/1.1\nHost: {server.Host}\n");
        for (var i = 0; i < 300; i++) head.Append($"X-Flood-{i}: {i}\n");
        var response = await RawHttp.SendAsync(server.BaseAddress, head.ToString());
        Assert.Equal(431, response.Status);
    }

    [Fact]
    public async Task HugeHeader_431()
    {
        var response = await RawHttp.SendAsync(server.BaseAddress, $"GET /v2/ HTTP/1.1\nHost: {server.Host}\nX-Huge: {new string('a', 64 * 1024)}\n");
        Assert.Equal(431, response.Status);
    }

    // ---- names ----

    [Fact]
    public async Task DotSegmentPath_NormalizedInsideV2BeforeRouting()
    {
        // RFC 3986 dot-segment removal happens in Kestrel before routing: "hostile/../dotseg" is the repository "dotseg",
        // never a path outside /v2 or a name containing "..".
        var manifest = Encoding.UTF8.GetBytes("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}""");
        var response = await RawHttp.SendAsync(server.BaseAddress,
            $"PUT /v2/hostile/../dotseg/manifests/latest HTTP/1.1\nHost: {server.Host}\nAuthorization: {Basic}\nContent-Type: application/vnd.oci.image.index.v1+json\nContent-Length: {manifest.Length}\n", manifest);
        Assert.Equal(201, response.Status);
        Assert.Contains("Location: /v2/dotseg/manifests/sha256:", response.Head);
        Assert.DoesNotContain("..", await CatalogAsync());
    }

    [Theory]
    [InlineData("/v2/hostile/%2e%2e/%2e%2e/%2e%2e/manifests/latest")]
    [InlineData("/v2/%2e%2e/manifests/latest")]
    [InlineData("/v2/hostile/..%2fescape/manifests/latest")]
    [InlineData("/v2/hostile%2f..%2f..%2fescape/manifests/latest")]
    [InlineData("/v2/Hostile/Upper/manifests/latest")]
    [InlineData("/v2/hostile/a..b/manifests/latest")]
    [InlineData("/v2/hostile//double/manifests/latest")]
    [InlineData("/v2/hostile/x/manifests/..")]
    [InlineData("/v2/hostile/x/manifests/%2e%2e")]
    public async Task HostileRepositoryPath_RejectedAndNothingStored(string path)
    {
        var catalogBefore = await CatalogAsync();
        var manifest = Encoding.UTF8.GetBytes("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}""");
        var response = await RawHttp.SendAsync(server.BaseAddress,
            $"PUT {path} HTTP/1.1\nHost: {server.Host}\nAuthorization: {Basic}\nContent-Type: application/vnd.oci.image.index.v1+json\nContent-Length: {manifest.Length}\n", manifest);
        Assert.True(response.Status is 400 or 404 or 405, $"PUT {path} answered {response.Status}: {response.Body}");
        if (response.Body.Length > 0) Assert.Matches("NAME_INVALID|NAME_UNKNOWN|TAG_INVALID|DIGEST_INVALID|UNSUPPORTED", response.Body);
        Assert.Equal(catalogBefore, await CatalogAsync());
    }

    [Fact]
    public async Task OverlongRepositoryName_400NameInvalid()
    {
        var name = string.Join('/', Enumerable.Repeat("abcdefghij", 30));
        using var response = await server.Client.PostAsync($"/v2/{name}/blobs/uploads/", null);
        Assert.Equal((400, "NAME_INVALID"), ((int)response.StatusCode, await CodeAsync(response)));
    }

    [Fact]
    public async Task OverlongRequestPath_414OrNameInvalid()
    {
        var name = string.Join('/', Enumerable.Repeat("abcdefghij", 1200));
        var response = await RawHttp.SendAsync(server.BaseAddress, $"GET /v2/{name}/tags/list HTTP/1.1\nHost: {server.Host}\nAuthorization: {Basic}\n");
        Assert.True(response.Status is 414 or 400 or 431, $"a 13 KB path answered {response.Status}");
    }

    // ---- credentials ----

    [Theory]
    [InlineData("Basic")]
    [InlineData("Basic ")]
    [InlineData("Basic !!!not-base64!!!")]
    [InlineData("Basic bm9jb2xvbg==")]
    [InlineData("Basic /w==")]
    [InlineData("Basic Og==")]
    [InlineData("Bearer")]
    [InlineData("Bearer a.b.c")]
    [InlineData("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")]
    [InlineData("Bearer ....")]
    [InlineData("Bearer eyJ.eyJ.!!")]
    [InlineData("Digest username=\"x\"")]
    [InlineData("basic\tZm9vOmJhcg==")]
    [InlineData("Negotiate YII=")]
    public async Task MalformedAuthorization_401Unauthorized(string authorization)
    {
        var response = await RawHttp.SendAsync(server.BaseAddress, $"GET /v2/hostile/auth/tags/list HTTP/1.1\nHost: {server.Host}\nAuthorization: {authorization}\n");
        Assert.Equal(401, response.Status);
        Assert.Contains("UNAUTHORIZED", response.Body);
        Assert.Contains("WWW-Authenticate: Bearer realm=", response.Head);
    }

    [Fact]
    public async Task HugeGarbageBearer_401()
    {
        var garbage = Convert.ToBase64String(RandomNumberGenerator.GetBytes(6000)).Replace('+', '-').Replace('/', '_');
        using var client = server.CreateClient(new AuthenticationHeaderValue("Bearer", $"{garbage[..2000]}.{garbage[2000..6000]}.{garbage[6000..]}"));
        using var response = await client.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("repository:hostile/allowed:pull,push")]
    [InlineData("repository:hostile/other:pull")]
    [InlineData("repository:*:pull,push,delete")]
    [InlineData("repository:hostile/allowed/../other:pull")]
    [InlineData("repository:hostile/allowed:pull repository:hostile/other:*")]
    [InlineData("repository:hostile/allowed:pull\",error=\"x")]
    [InlineData("repository:hostile/allowed:pull\r\nX-Injected: 1")]
    [InlineData("registry:catalog:*")]
    [InlineData("repository(evil):hostile/other:pull")]
    [InlineData("repository:hostile/allowed:pull:push")]
    public async Task ScopeInjection_TokenGrantsNoMoreThanTheScopeMap(string scope)
    {
        var password = await server.CreateTokenAsync("injtoken", "injmap", ["repositories/hostile/allowed/content/read"]);
        using var client = server.CreateClient(BerthTestServer.BasicAuthorization("injtoken", password));
        using var response = await client.GetAsync($"/oauth2/token?service={Uri.EscapeDataString(server.LoginServer)}&scope={Uri.EscapeDataString(scope)}");
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"token request answered {(int)response.StatusCode}");
        Assert.DoesNotContain("X-Injected", response.Headers.ToString());
        if (response.StatusCode != HttpStatusCode.OK) return;
        var token = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
        foreach (var grant in Jwt.Parse(token).Payload.GetProperty("access").EnumerateArray())
        {
            Assert.Equal("repository", grant.GetProperty("type").GetString());
            Assert.Equal("hostile/allowed", grant.GetProperty("name").GetString());
            Assert.All(grant.GetProperty("actions").EnumerateArray(), a => Assert.Equal("pull", a.GetString()));
        }
        using var bearer = server.CreateClient(new AuthenticationHeaderValue("Bearer", token));
        using var other = await bearer.GetAsync("/v2/hostile/other/tags/list");
        Assert.Equal(HttpStatusCode.Unauthorized, other.StatusCode);
    }

    // ---- helpers ----

    private async Task<(int Status, string? Code)> PutManifestAsync(string repository, string reference, byte[] manifest, string mediaType)
    {
        using var body = new ByteArrayContent(manifest);
        body.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var response = await server.Client.PutAsync($"/v2/{repository}/manifests/{reference}", body);
        return ((int)response.StatusCode, await CodeAsync(response));
    }

    private static async Task<string?> CodeAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (text.Length == 0) return null;
        return JsonDocument.Parse(text).RootElement.GetProperty("errors")[0].GetProperty("code").GetString();
    }

    private static ByteArrayContent Octets(byte[] content)
    {
        var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return body;
    }

    private async Task AssertRepositoryEmptyAsync(string repository)
    {
        using var tags = await server.Client.GetAsync($"/v2/{repository}/tags/list");
        if (tags.StatusCode == HttpStatusCode.NotFound) return;
        Assert.Equal(HttpStatusCode.OK, tags.StatusCode);
        var list = JsonDocument.Parse(await tags.Content.ReadAsStringAsync()).RootElement.GetProperty("tags");
        Assert.True(list.ValueKind == JsonValueKind.Null || list.GetArrayLength() == 0, $"{repository} has tags: {list}");
    }

    private async Task AssertManifestAbsentAsync(string repository, string reference)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{reference}");
        request.Headers.Accept.ParseAdd(TestImage.ManifestMediaType);
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private async Task AssertBlobAbsentAsync(string repository, string digest)
    {
        using var response = await server.Client.GetAsync($"/v2/{repository}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.False(File.Exists(Path.Combine(server.DataPath, "storage", "blobs", "sha256", digest[7..9], digest[7..])), $"{digest} is on disk");
    }

    private async Task AssertUploadEmptyAndResumableAsync(string repository, string location)
    {
        Assert.Equal(0, UploadFileLength(location));
        var content = RandomNumberGenerator.GetBytes(3000);
        using var patch = new HttpRequestMessage(HttpMethod.Patch, location) { Content = Octets(content) };
        patch.Content!.Headers.TryAddWithoutValidation("Content-Range", "0-2999");
        using var patched = await server.Client.SendAsync(patch);
        Assert.Equal(HttpStatusCode.Accepted, patched.StatusCode);
        var digest = TestImage.DigestOf(content);
        using var put = await server.Client.PutAsync($"{location}?digest={digest}", null);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(content, await server.Client.GetByteArrayAsync($"/v2/{repository}/blobs/{digest}"));
    }

    private long UploadFileLength(string location) =>
        new FileInfo(Path.Combine(server.DataPath, "storage", "uploads", location.TrimEnd('/').Split('/')[^1])).Length;

    private async Task<string> CatalogAsync()
    {
        using var response = await server.Client.GetAsync("/v2/_catalog");
        return await response.Content.ReadAsStringAsync();
    }
}
