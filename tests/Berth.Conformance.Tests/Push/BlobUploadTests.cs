using System.Net;
using System.Text.RegularExpressions;

namespace Berth.Conformance.Tests.Push;

/// <summary>
/// Push, blobs: end-4a/4b <c>POST /v2/&lt;name&gt;/blobs/uploads/</c>, end-5 <c>PATCH</c>, end-6 <c>PUT</c>,
/// end-13 <c>GET</c> and end-14 <c>DELETE &lt;location&gt;</c>.
/// </summary>
public abstract class BlobUploadTests<TRegistry>(TRegistry registry) : IClassFixture<TRegistry> where TRegistry : RegistryFixture
{
    private readonly HttpClient _client = registry.Client;

    private async Task AssertBlobAsync(string repo, Content blob)
    {
        using var response = await _client.GetAsync($"/v2/{repo}/blobs/{blob.Digest}");
        await response.ExpectAsync(HttpStatusCode.OK);
        await response.BodyEqualsAsync(blob.Bytes);
    }

    private async Task AssertNoBlobAsync(string repo, string digest)
    {
        using var response = await _client.SendAsync(HttpMethod.Head, $"/v2/{repo}/blobs/{digest}");
        await response.ExpectAsync(HttpStatusCode.NotFound);
    }

    private async Task AssertBlobLocationAsync(HttpResponseMessage response, string repo, Content blob)
    {
        var location = _client.Location(response);
        Assert.EndsWith($"/v2/{repo}/blobs/{blob.Digest}", location.AbsolutePath);
        using var pulled = await _client.GetAsync(location);
        await pulled.ExpectAsync(HttpStatusCode.OK);
        await pulled.BodyEqualsAsync(blob.Bytes);
    }

    // --- starting a session ------------------------------------------------------------------

    [Fact]
    public async Task PostUpload_Returns202WithLocationAndUploadUuid()
    {
        var repo = Repo.New("upload");

        using var response = await _client.SendAsync(HttpMethod.Post, $"/v2/{repo}/blobs/uploads/", RegistryClient.Bytes([], null));

        await response.ExpectAsync(HttpStatusCode.Accepted);
        var location = _client.Location(response);
        Assert.StartsWith($"/v2/{repo}/blobs/uploads/", location.AbsolutePath);
        var uuid = response.Header("Docker-Upload-UUID");
        Assert.False(string.IsNullOrEmpty(uuid), "Docker-Upload-UUID is missing");
        Assert.Contains(uuid!, location.AbsolutePath);
    }

    [Fact]
    public async Task PostUpload_TwoSessions_GetDistinctLocations()
    {
        var repo = Repo.New("upload");

        var first = await _client.StartUploadAsync(repo);
        var second = await _client.StartUploadAsync(repo);

        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task PostUpload_ChunkMinLength_WhenSent_IsAPositiveInteger()
    {
        using var response = await _client.SendAsync(HttpMethod.Post, $"/v2/{Repo.New("upload")}/blobs/uploads/", RegistryClient.Bytes([], null));

        await response.ExpectAsync(HttpStatusCode.Accepted);
        var minLength = response.Header("OCI-Chunk-Min-Length");
        if (minLength is not null)
            Assert.True(long.TryParse(minLength, out var value) && value > 0, $"OCI-Chunk-Min-Length: {minLength}");
    }

    // --- monolithic --------------------------------------------------------------------------

    [Fact]
    public async Task MonolithicPost_Returns201WithBlobLocation()
    {
        var repo = Repo.New("upload");
        var blob = Content.Random(3000);

        using var response = await _client.PostMonolithicAsync(repo, blob);

        await response.ExpectAsync(HttpStatusCode.Created);
        await AssertBlobLocationAsync(response, repo, blob);
    }

    [Fact]
    public async Task MonolithicPost_ReturnsDockerContentDigest()
    {
        var repo = Repo.New("upload");
        var blob = Content.Random(100);

        using var response = await _client.PostMonolithicAsync(repo, blob);

        await response.ExpectAsync(HttpStatusCode.Created);
        response.HasHeader("Docker-Content-Digest", blob.Digest);
    }

    [Fact]
    public async Task MonolithicPost_DigestMismatch_Returns400DigestInvalidAndBlobIsNotVisible()
    {
        var repo = Repo.New("upload");
        var blob = Content.Random(100);
        var claimed = Digests.Unknown();

        using var response = await _client.PostMonolithicAsync(repo, blob, claimed);

        await response.ErrorAsync(HttpStatusCode.BadRequest, "DIGEST_INVALID");
        await AssertNoBlobAsync(repo, claimed);
        await AssertNoBlobAsync(repo, blob.Digest);
    }

    [Theory]
    [InlineData("sha256:zzz")]
    [InlineData("nonsense")]
    public async Task MonolithicPost_MalformedDigest_Returns400DigestInvalid(string digest)
    {
        var repo = Repo.New("upload");

        using var response = await _client.PostMonolithicAsync(repo, Content.Random(10), digest);

        await response.ErrorAsync(HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task MonolithicPost_EmptyBlob_Returns201()
    {
        var repo = Repo.New("upload");
        var empty = Content.Of([]);

        using var response = await _client.PostMonolithicAsync(repo, empty);

        await response.ExpectAsync(HttpStatusCode.Created);
        await AssertBlobLocationAsync(response, repo, empty);
    }

    [Fact]
    public async Task SameBlob_UploadedConcurrently_BothUploadsSucceed()
    {
        var repo = Repo.New("upload");
        var blob = Content.Random(200_000);

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => _client.PostMonolithicAsync(repo, blob)));

        foreach (var response in responses)
        {
            using (response) await response.ExpectAsync(HttpStatusCode.Created);
        }
        await AssertBlobAsync(repo, blob);
    }

    [Fact]
    public async Task PostThenPut_Returns201WithBlobLocation()
    {
        var repo = Repo.New("upload");
        var blob = Content.Random(5000);
        var location = await _client.StartUploadAsync(repo);

        using var response = await _client.FinishUploadAsync(location, blob.Digest, blob.Bytes);

        await response.ExpectAsync(HttpStatusCode.Created);
        response.HasHeader("Docker-Content-Digest", blob.Digest);
        await AssertBlobLocationAsync(response, repo, blob);
    }

    [Fact]
    public async Task PostThenPut_DigestMismatch_Returns400DigestInvalidAndBlobIsNotVisible()
    {
        var repo = Repo.New("upload");
        var blob = Content.Random(100);
        var claimed = Digests.Unknown();
        var location = await _client.StartUploadAsync(repo);

        using var response = await _client.FinishUploadAsync(location, claimed, blob.Bytes);

        await response.ErrorAsync(HttpStatusCode.BadRequest, "DIGEST_INVALID");
        await AssertNoBlobAsync(repo, claimed);
        await AssertNoBlobAsync(repo, blob.Digest);
    }

    [Fact]
    public async Task PutWithoutDigest_Returns400()
    {
        var repo = Repo.New("upload");
        var location = await _client.StartUploadAsync(repo);

        using var response = await _client.SendAsync(HttpMethod.Put, location, RegistryClient.Bytes(Content.RandomBytes(10)));

        await response.ErrorAsync(HttpStatusCode.BadRequest, "DIGEST_INVALID", "BLOB_UPLOAD_INVALID");
    }

    [Fact]
    public async Task Sha512_MonolithicPost_IsStoredAndServedBySha512Digest()
    {
        var repo = Repo.New("upload");
        var blob = Content.Random(2048, "sha512");

        using var response = await _client.PostMonolithicAsync(repo, blob);

        await response.ExpectAsync(HttpStatusCode.Created);
        using var pulled = await _client.GetAsync($"/v2/{repo}/blobs/{blob.Digest}");
        await pulled.ExpectAsync(HttpStatusCode.OK);
        await pulled.BodyEqualsAsync(blob.Bytes);
        pulled.HasHeader("Docker-Content-Digest", blob.Digest);
    }

    [Fact]
    public async Task Sha512_ChunkedUpload_IsVerifiedAgainstSha512()
    {
        var repo = Repo.New("upload");
        var blob = Content.Random(3000, "sha512");
        var location = await _client.StartUploadAsync(repo);
        using var patch = await _client.PatchChunkAsync(location, blob.Bytes, 0);
        await patch.ExpectAsync(HttpStatusCode.Accepted);

        using var response = await _client.FinishUploadAsync(_client.Location(patch), blob.Digest);

        await response.ExpectAsync(HttpStatusCode.Created);
        await AssertBlobAsync(repo, blob);
    }

    [Fact]
    public async Task Sha512_DigestMismatch_Returns400DigestInvalid()
    {
        var repo = Repo.New("upload");
        var blob = Content.Random(100, "sha512");

        using var response = await _client.PostMonolithicAsync(repo, blob, Digests.Of(Content.RandomBytes(8), "sha512"));

        await response.ErrorAsync(HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    // --- chunked -----------------------------------------------------------------------------

    [Fact]
    public async Task PatchChunk_Returns202WithRangeAndLocation()
    {
        var repo = Repo.New("chunk");
        var location = await _client.StartUploadAsync(repo);

        using var response = await _client.PatchChunkAsync(location, Content.RandomBytes(100), 0);

        await response.ExpectAsync(HttpStatusCode.Accepted);
        response.HasHeader("Range", "0-99");
        Assert.StartsWith($"/v2/{repo}/blobs/uploads/", _client.Location(response).AbsolutePath);
    }

    [Fact]
    public async Task PatchChunks_InOrder_RangeGrowsAndPutCompletesTheBlob()
    {
        var repo = Repo.New("chunk");
        var blob = Content.Random(3 * 1024 * 1024 + 17);
        var location = await _client.StartUploadAsync(repo);
        var chunkSize = 1024 * 1024;

        for (var start = 0; start < blob.Bytes.Length; start += chunkSize)
        {
            var end = Math.Min(start + chunkSize, blob.Bytes.Length);
            using var patch = await _client.PatchChunkAsync(location, blob.Bytes[start..end], start);
            await patch.ExpectAsync(HttpStatusCode.Accepted);
            patch.HasHeader("Range", $"0-{end - 1}");
            location = _client.Location(patch);
        }
        using var put = await _client.FinishUploadAsync(location, blob.Digest);

        await put.ExpectAsync(HttpStatusCode.Created);
        await AssertBlobLocationAsync(put, repo, blob);
    }

    [Fact]
    public async Task PatchThenPutWithFinalChunk_Returns201()
    {
        var repo = Repo.New("chunk");
        var blob = Content.Random(2000);
        var location = await _client.StartUploadAsync(repo);
        using var patch = await _client.PatchChunkAsync(location, blob.Bytes[..1200], 0);
        await patch.ExpectAsync(HttpStatusCode.Accepted);

        using var put = await _client.SendAsync(HttpMethod.Put, _client.Location(patch).WithQuery("digest", blob.Digest),
            RegistryClient.Chunk(blob.Bytes[1200..], 1200));

        await put.ExpectAsync(HttpStatusCode.Created);
        await AssertBlobLocationAsync(put, repo, blob);
    }

    [Fact]
    public async Task PatchChunk_OutOfOrder_Returns416()
    {
        var repo = Repo.New("chunk");
        var location = await _client.StartUploadAsync(repo);
        using var first = await _client.PatchChunkAsync(location, Content.RandomBytes(100), 0);
        await first.ExpectAsync(HttpStatusCode.Accepted);

        using var skipped = await _client.PatchChunkAsync(_client.Location(first), Content.RandomBytes(100), 200);

        await skipped.ExpectAsync(HttpStatusCode.RequestedRangeNotSatisfiable);
    }

    [Fact]
    public async Task PatchChunk_RepeatedRange_Returns416()
    {
        var repo = Repo.New("chunk");
        var location = await _client.StartUploadAsync(repo);
        using var first = await _client.PatchChunkAsync(location, Content.RandomBytes(100), 0);
        await first.ExpectAsync(HttpStatusCode.Accepted);

        using var again = await _client.PatchChunkAsync(_client.Location(first), Content.RandomBytes(100), 0);

        await again.ExpectAsync(HttpStatusCode.RequestedRangeNotSatisfiable);
    }

    [Fact]
    public async Task PatchChunk_FirstChunkNotAtZero_Returns416()
    {
        var repo = Repo.New("chunk");
        var location = await _client.StartUploadAsync(repo);

        using var response = await _client.PatchChunkAsync(location, Content.RandomBytes(100), 50);

        await response.ExpectAsync(HttpStatusCode.RequestedRangeNotSatisfiable);
    }

    [Fact]
    public async Task PatchChunk_AfterOutOfOrderChunk_UploadCanStillComplete()
    {
        var repo = Repo.New("chunk");
        var blob = Content.Random(200);
        var location = await _client.StartUploadAsync(repo);
        using var first = await _client.PatchChunkAsync(location, blob.Bytes[..100], 0);
        location = _client.Location(first);
        using var wrong = await _client.PatchChunkAsync(location, blob.Bytes[100..], 150);
        await wrong.ExpectAsync(HttpStatusCode.RequestedRangeNotSatisfiable);

        using var status = await _client.GetAsync(location);
        await status.ExpectAsync(HttpStatusCode.NoContent);
        status.HasHeader("Range", "0-99");
        using var right = await _client.PatchChunkAsync(_client.Location(status), blob.Bytes[100..], 100);
        await right.ExpectAsync(HttpStatusCode.Accepted);
        using var put = await _client.FinishUploadAsync(_client.Location(right), blob.Digest);

        await put.ExpectAsync(HttpStatusCode.Created);
        await AssertBlobAsync(repo, blob);
    }

    [Fact]
    public async Task PutWithFinalChunkOutOfOrder_Returns416()
    {
        var repo = Repo.New("chunk");
        var blob = Content.Random(300);
        var location = await _client.StartUploadAsync(repo);
        using var patch = await _client.PatchChunkAsync(location, blob.Bytes[..100], 0);
        await patch.ExpectAsync(HttpStatusCode.Accepted);

        using var put = await _client.SendAsync(HttpMethod.Put, _client.Location(patch).WithQuery("digest", blob.Digest),
            RegistryClient.Chunk(blob.Bytes[150..], 150));

        await put.ExpectAsync(HttpStatusCode.RequestedRangeNotSatisfiable);
        await AssertNoBlobAsync(repo, blob.Digest);
    }

    [Fact]
    public async Task PatchStreamed_WithChunkedTransferEncoding_Returns202WithRange()
    {
        var repo = Repo.New("stream");
        var blob = Content.Random(300_000);
        var location = await _client.StartUploadAsync(repo);

        using var patch = await _client.SendAsync(HttpMethod.Patch, location, new StreamedContent(blob.Bytes),
            r => r.Headers.TransferEncodingChunked = true);

        await patch.ExpectAsync(HttpStatusCode.Accepted);
        patch.HasHeader("Range", $"0-{blob.Size - 1}");
        using var put = await _client.FinishUploadAsync(_client.Location(patch), blob.Digest);
        await put.ExpectAsync(HttpStatusCode.Created);
        await AssertBlobAsync(repo, blob);
    }

    [Fact]
    public async Task PutStreamed_WithChunkedTransferEncoding_Returns201()
    {
        var repo = Repo.New("stream");
        var blob = Content.Random(200_000);
        var location = await _client.StartUploadAsync(repo);

        using var put = await _client.SendAsync(HttpMethod.Put, location.WithQuery("digest", blob.Digest), new StreamedContent(blob.Bytes),
            r => r.Headers.TransferEncodingChunked = true);

        await put.ExpectAsync(HttpStatusCode.Created);
        await AssertBlobAsync(repo, blob);
    }

    [Fact]
    public async Task ChunkedUpload_DigestMismatch_Returns400DigestInvalidAndBlobIsNotVisible()
    {
        var repo = Repo.New("chunk");
        var blob = Content.Random(500);
        var location = await _client.StartUploadAsync(repo);
        using var patch = await _client.PatchChunkAsync(location, blob.Bytes, 0);
        var claimed = Digests.Unknown();

        using var put = await _client.FinishUploadAsync(_client.Location(patch), claimed);

        await put.ErrorAsync(HttpStatusCode.BadRequest, "DIGEST_INVALID");
        await AssertNoBlobAsync(repo, claimed);
        await AssertNoBlobAsync(repo, blob.Digest);
    }

    // --- status, cancel, unknown sessions ----------------------------------------------------

    [Fact]
    public async Task GetUploadStatus_Returns204WithRangeAndLocation()
    {
        var repo = Repo.New("status");
        var location = await _client.StartUploadAsync(repo);
        using var patch = await _client.PatchChunkAsync(location, Content.RandomBytes(64), 0);
        await patch.ExpectAsync(HttpStatusCode.Accepted);

        using var status = await _client.GetAsync(_client.Location(patch));

        await status.ExpectAsync(HttpStatusCode.NoContent);
        status.HasHeader("Range", "0-63");
        Assert.StartsWith($"/v2/{repo}/blobs/uploads/", _client.Location(status).AbsolutePath);
    }

    [Fact]
    public async Task GetUploadStatus_BeforeAnyData_Returns204WithLocation()
    {
        var repo = Repo.New("status");
        var location = await _client.StartUploadAsync(repo);

        using var status = await _client.GetAsync(location);

        await status.ExpectAsync(HttpStatusCode.NoContent);
        _client.Location(status);
        var range = status.Header("Range");
        Assert.True(range is null || Regex.IsMatch(range, "^0-[0-9]+$"), $"Range: {range}");
    }

    [Fact]
    public async Task DeleteUpload_Returns204AndSessionIsGone()
    {
        var repo = Repo.New("cancel");
        var location = await _client.StartUploadAsync(repo);
        using var patch = await _client.PatchChunkAsync(location, Content.RandomBytes(64), 0);
        location = _client.Location(patch);

        using var delete = await _client.SendAsync(HttpMethod.Delete, location);

        await delete.ExpectAsync(HttpStatusCode.NoContent);
        using var status = await _client.GetAsync(location);
        await status.ErrorAsync(HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        using var again = await _client.PatchChunkAsync(location, Content.RandomBytes(10), 64);
        await again.ErrorAsync(HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task CompletedUpload_SessionIsGone()
    {
        var repo = Repo.New("status");
        var blob = Content.Random(64);
        var location = await _client.StartUploadAsync(repo);
        using var put = await _client.FinishUploadAsync(location, blob.Digest, blob.Bytes);
        await put.ExpectAsync(HttpStatusCode.Created);

        using var status = await _client.GetAsync(location);

        await status.ErrorAsync(HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    public static TheoryData<string> Methods => new() { "GET", "PATCH", "PUT", "DELETE" };

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task UnknownUploadId_Returns404BlobUploadUnknown(string method)
    {
        var repo = Repo.New("unknown");
        await _client.PushRandomBlobAsync(repo);
        var blob = Content.Random(10);
        var location = _client.Resolve($"/v2/{repo}/blobs/uploads/{Guid.NewGuid()}");
        if (method == "PUT") location = location.WithQuery("digest", blob.Digest);
        var content = method is "PATCH" or "PUT" ? RegistryClient.Chunk(blob.Bytes, 0) : null;

        using var response = await _client.SendAsync(new HttpMethod(method), location, content);

        await response.ErrorAsync(HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task UploadSession_IsBoundToItsRepository()
    {
        var repo = Repo.New("bound");
        var other = Repo.New("bound");
        await _client.PushRandomBlobAsync(other);
        var location = await _client.StartUploadAsync(repo);
        var hijacked = _client.Resolve(location.PathAndQuery.Replace($"/v2/{repo}/", $"/v2/{other}/"));

        using var response = await _client.GetAsync(hijacked);

        await response.ErrorAsync(HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }
}

/// <summary>The tests above against the default set-up (SQLite metadata, filesystem blobs).</summary>
public sealed class BlobUploadTests(RegistryFixture registry) : BlobUploadTests<RegistryFixture>(registry);

/// <summary>The tests above in the scale-out configuration (metadata in PostgreSQL, blobs in Azure Blob Storage).</summary>
public sealed class BlobUploadOnScaleOutTests(ScaleOutRegistryFixture registry) : BlobUploadTests<ScaleOutRegistryFixture>(registry);
