using System.Net;
using System.Net.Http.Headers;

namespace Berth.Conformance.Tests.Pull;

/// <summary>Pull: end-2 <c>GET</c>/<c>HEAD /v2/&lt;name&gt;/blobs/&lt;digest&gt;</c>, including <c>Range</c> (RFC 9110).</summary>
public abstract class BlobPullTests<TRegistry>(TRegistry registry) : IClassFixture<TRegistry> where TRegistry : RegistryFixture
{
    private readonly HttpClient _client = registry.Client;

    private async Task<(string Repo, Content Blob)> PushedBlobAsync(int length = 1000)
    {
        var repo = Repo.New("blob");
        return (repo, await _client.PushRandomBlobAsync(repo, length));
    }

    [Fact]
    public async Task GetBlob_ReturnsBytesLengthAndDigest()
    {
        var (repo, blob) = await PushedBlobAsync();

        using var response = await _client.GetAsync($"/v2/{repo}/blobs/{blob.Digest}");

        await response.ExpectAsync(HttpStatusCode.OK);
        await response.BodyEqualsAsync(blob.Bytes);
        Assert.Equal(blob.Size, response.Content.Headers.ContentLength);
        response.HasHeader("Docker-Content-Digest", blob.Digest);
    }

    [Fact]
    public async Task HeadBlob_ReturnsLengthAndDigestWithoutBody()
    {
        var (repo, blob) = await PushedBlobAsync();

        using var response = await _client.SendAsync(HttpMethod.Head, $"/v2/{repo}/blobs/{blob.Digest}");

        await response.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(blob.Size, response.Content.Headers.ContentLength);
        response.HasHeader("Docker-Content-Digest", blob.Digest);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task GetBlob_Unknown_Returns404BlobUnknown()
    {
        var (repo, _) = await PushedBlobAsync();

        using var response = await _client.GetAsync($"/v2/{repo}/blobs/{Digests.Unknown()}");

        await response.ErrorAsync(HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task HeadBlob_Unknown_Returns404WithoutBody()
    {
        var (repo, _) = await PushedBlobAsync();

        using var response = await _client.SendAsync(HttpMethod.Head, $"/v2/{repo}/blobs/{Digests.Unknown()}");

        await response.ExpectAsync(HttpStatusCode.NotFound);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task GetBlob_UnknownRepository_Returns404()
    {
        using var response = await _client.GetAsync($"/v2/{Repo.New("absent")}/blobs/{Digests.Unknown()}");

        await response.ErrorAsync(HttpStatusCode.NotFound, "BLOB_UNKNOWN", "NAME_UNKNOWN");
    }

    [Fact]
    public async Task GetBlob_PushedToAnotherRepositoryOnly_Returns404BlobUnknown()
    {
        var (_, blob) = await PushedBlobAsync();
        var (other, _) = await PushedBlobAsync();

        using var response = await _client.GetAsync($"/v2/{other}/blobs/{blob.Digest}");

        await response.ErrorAsync(HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Theory]
    [InlineData("sha256:not-hex")]
    [InlineData("sha256:0123")]
    [InlineData("notadigest")]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    public async Task GetBlob_MalformedDigest_Returns400DigestInvalid(string digest)
    {
        var (repo, _) = await PushedBlobAsync();

        using var response = await _client.GetAsync($"/v2/{repo}/blobs/{digest}");

        await response.ErrorAsync(HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task GetBlob_Range_Returns206WithContentRangeAndSlice()
    {
        var (repo, blob) = await PushedBlobAsync(1000);

        using var response = await _client.SendAsync(HttpMethod.Get, $"/v2/{repo}/blobs/{blob.Digest}",
            configure: r => r.Headers.Range = new RangeHeaderValue(100, 199));

        await response.ExpectAsync(HttpStatusCode.PartialContent);
        response.HasHeader("Content-Range", "bytes 100-199/1000");
        Assert.Equal(100, response.Content.Headers.ContentLength);
        await response.BodyEqualsAsync(blob.Bytes[100..200]);
    }

    [Fact]
    public async Task GetBlob_OpenEndedRange_ReturnsTheRest()
    {
        var (repo, blob) = await PushedBlobAsync(1000);

        using var response = await _client.SendAsync(HttpMethod.Get, $"/v2/{repo}/blobs/{blob.Digest}",
            configure: r => r.Headers.Range = new RangeHeaderValue(900, null));

        await response.ExpectAsync(HttpStatusCode.PartialContent);
        response.HasHeader("Content-Range", "bytes 900-999/1000");
        await response.BodyEqualsAsync(blob.Bytes[900..]);
    }

    [Fact]
    public async Task GetBlob_SuffixRange_ReturnsTheLastBytes()
    {
        var (repo, blob) = await PushedBlobAsync(1000);

        using var response = await _client.SendAsync(HttpMethod.Get, $"/v2/{repo}/blobs/{blob.Digest}",
            configure: r => r.Headers.Range = new RangeHeaderValue(null, 10));

        await response.ExpectAsync(HttpStatusCode.PartialContent);
        response.HasHeader("Content-Range", "bytes 990-999/1000");
        await response.BodyEqualsAsync(blob.Bytes[990..]);
    }

    [Fact]
    public async Task GetBlob_RangePastTheEnd_IsClampedToTheBlob()
    {
        var (repo, blob) = await PushedBlobAsync(1000);

        using var response = await _client.SendAsync(HttpMethod.Get, $"/v2/{repo}/blobs/{blob.Digest}",
            configure: r => r.Headers.Range = new RangeHeaderValue(950, 5000));

        await response.ExpectAsync(HttpStatusCode.PartialContent);
        response.HasHeader("Content-Range", "bytes 950-999/1000");
        await response.BodyEqualsAsync(blob.Bytes[950..]);
    }

    [Fact]
    public async Task GetBlob_UnsatisfiableRange_Returns416WithLength()
    {
        var (repo, blob) = await PushedBlobAsync(1000);

        using var response = await _client.SendAsync(HttpMethod.Get, $"/v2/{repo}/blobs/{blob.Digest}",
            configure: r => r.Headers.Range = new RangeHeaderValue(1000, null));

        await response.ExpectAsync(HttpStatusCode.RequestedRangeNotSatisfiable);
        response.HasHeader("Content-Range", "bytes */1000");
    }

    [Fact]
    public async Task GetBlob_MalformedRange_IsIgnored()
    {
        var (repo, blob) = await PushedBlobAsync(1000);

        using var response = await _client.SendAsync(HttpMethod.Get, $"/v2/{repo}/blobs/{blob.Digest}",
            configure: r => r.Headers.TryAddWithoutValidation("Range", "bytes=abc"));

        await response.ExpectAsync(HttpStatusCode.OK);
        await response.BodyEqualsAsync(blob.Bytes);
    }

    [Fact]
    public async Task GetBlob_EmptyBlob_ReturnsZeroBytes()
    {
        var repo = Repo.New("blob");
        var empty = Content.Of([]);
        await _client.PushBlobAsync(repo, empty);

        using var response = await _client.GetAsync($"/v2/{repo}/blobs/{empty.Digest}");

        await response.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(0, response.Content.Headers.ContentLength);
        response.HasHeader("Docker-Content-Digest", empty.Digest);
    }
}

/// <summary>The tests above against the default set-up (SQLite metadata, filesystem blobs).</summary>
public sealed class BlobPullTests(RegistryFixture registry) : BlobPullTests<RegistryFixture>(registry);

/// <summary>The tests above in the scale-out configuration (metadata in PostgreSQL, blobs in Azure Blob Storage).</summary>
public sealed class BlobPullOnScaleOutTests(ScaleOutRegistryFixture registry) : BlobPullTests<ScaleOutRegistryFixture>(registry);
