using System.Net;

namespace Berth.Conformance.Tests.Pull;

/// <summary>Pull: end-3 <c>GET</c>/<c>HEAD /v2/&lt;name&gt;/manifests/&lt;reference&gt;</c>.</summary>
public abstract class ManifestPullTests<TRegistry>(TRegistry registry) : IClassFixture<TRegistry> where TRegistry : RegistryFixture
{
    private readonly HttpClient _client = registry.Client;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task GetManifest_ReturnsExactBytesWithTypeDigestAndLength(bool byTag)
    {
        var repo = Repo.New("pull");
        var image = await _client.PushImageAsync(repo, "v1");

        using var response = await _client.GetAsync($"/v2/{repo}/manifests/{(byTag ? "v1" : image.Manifest.Digest)}");

        await response.ExpectAsync(HttpStatusCode.OK);
        await response.BodyEqualsAsync(image.Manifest.Bytes);
        Assert.Equal(MediaTypes.OciManifest, response.Content.Headers.ContentType?.MediaType);
        response.HasHeader("Docker-Content-Digest", image.Manifest.Digest);
        Assert.Equal(image.Manifest.Size, response.Content.Headers.ContentLength);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task HeadManifest_ReturnsHeadersWithoutBody(bool byTag)
    {
        var repo = Repo.New("pull");
        var image = await _client.PushImageAsync(repo, "v1");

        using var response = await _client.SendAsync(HttpMethod.Head, $"/v2/{repo}/manifests/{(byTag ? "v1" : image.Manifest.Digest)}");

        await response.ExpectAsync(HttpStatusCode.OK);
        response.HasHeader("Docker-Content-Digest", image.Manifest.Digest);
        Assert.Equal(image.Manifest.Size, response.Content.Headers.ContentLength);
        Assert.Equal(MediaTypes.OciManifest, response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task GetManifest_UnknownTag_Returns404ManifestUnknown()
    {
        var repo = Repo.New("pull");
        await _client.PushImageAsync(repo, "v1");

        using var response = await _client.GetAsync($"/v2/{repo}/manifests/nope");

        await response.ErrorAsync(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task GetManifest_UnknownDigest_Returns404ManifestUnknown()
    {
        var repo = Repo.New("pull");
        await _client.PushImageAsync(repo, "v1");

        using var response = await _client.GetAsync($"/v2/{repo}/manifests/{Digests.Unknown()}");

        await response.ErrorAsync(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task GetManifest_UnknownRepository_Returns404()
    {
        using var response = await _client.GetAsync($"/v2/{Repo.New("absent")}/manifests/latest");

        await response.ErrorAsync(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN", "NAME_UNKNOWN");
    }

    [Fact]
    public async Task HeadManifest_Unknown_Returns404WithoutBody()
    {
        var repo = Repo.New("pull");
        await _client.PushImageAsync(repo, "v1");

        using var response = await _client.SendAsync(HttpMethod.Head, $"/v2/{repo}/manifests/nope");

        await response.ExpectAsync(HttpStatusCode.NotFound);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    /// <summary>The OCI conformance suite's "nonexistent manifest" is a name no tag can have: not there, rather than a bad request.</summary>
    [Theory]
    [InlineData(".INVALID_MANIFEST_NAME")]
    [InlineData("-starts-with-a-dash")]
    public async Task GetAndHeadManifest_ReferenceThatIsNoTag_Returns404ManifestUnknown(string reference)
    {
        var repo = Repo.New("pull");
        await _client.PushImageAsync(repo, "v1");

        using var get = await _client.GetAsync($"/v2/{repo}/manifests/{reference}");
        using var head = await _client.SendAsync(HttpMethod.Head, $"/v2/{repo}/manifests/{reference}");

        await get.ErrorAsync(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        await head.ExpectAsync(HttpStatusCode.NotFound);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task GetManifest_FromAnotherRepository_Returns404()
    {
        var image = await _client.PushImageAsync(Repo.New("pull"), "v1");
        var other = Repo.New("pull");
        await _client.PushImageAsync(other, "v1");

        using var response = await _client.GetAsync($"/v2/{other}/manifests/{image.Manifest.Digest}");

        await response.ErrorAsync(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Theory]
    [InlineData("sha256:xyz")]
    [InlineData("sha256:abc")]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    public async Task GetManifest_MalformedDigest_Returns400DigestInvalid(string digest)
    {
        var repo = Repo.New("pull");
        await _client.PushImageAsync(repo, "v1");

        using var response = await _client.GetAsync($"/v2/{repo}/manifests/{digest}");

        await response.ErrorAsync(HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task GetManifest_TagMovedToNewManifest_ServesTheNewOne()
    {
        var repo = Repo.New("pull");
        await _client.PushImageAsync(repo, "moving");
        var second = await _client.PushImageAsync(repo, "moving");

        using var response = await _client.GetAsync($"/v2/{repo}/manifests/moving");

        await response.ExpectAsync(HttpStatusCode.OK);
        await response.BodyEqualsAsync(second.Manifest.Bytes);
        response.HasHeader("Docker-Content-Digest", second.Manifest.Digest);
    }
}

/// <summary>The tests above against the default set-up (SQLite metadata, filesystem blobs).</summary>
public sealed class ManifestPullTests(RegistryFixture registry) : ManifestPullTests<RegistryFixture>(registry);

/// <summary>The tests above in the scale-out configuration (metadata in PostgreSQL, blobs in Azure Blob Storage).</summary>
public sealed class ManifestPullOnScaleOutTests(ScaleOutRegistryFixture registry) : ManifestPullTests<ScaleOutRegistryFixture>(registry);
