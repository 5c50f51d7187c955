using System.Net;

namespace Berth.Conformance.Tests.ContentManagement;

/// <summary>Content management: end-9 <c>DELETE /v2/&lt;name&gt;/manifests/&lt;reference&gt;</c>, end-10 <c>DELETE /v2/&lt;name&gt;/blobs/&lt;digest&gt;</c>.</summary>
public abstract class DeletionTests<TRegistry>(TRegistry registry) : IClassFixture<TRegistry> where TRegistry : RegistryFixture
{
    private readonly HttpClient _client = registry.Client;

    private async Task<HttpStatusCode> StatusAsync(HttpMethod method, string url)
    {
        using var response = await _client.SendAsync(method, url);
        return response.StatusCode;
    }

    // --- manifests ---------------------------------------------------------------------------

    [Fact]
    public async Task DeleteManifestByDigest_Returns202()
    {
        var repo = Repo.New("delete");
        var image = await _client.PushImageAsync(repo, "v1");

        using var response = await _client.DeleteAsync($"/v2/{repo}/manifests/{image.Manifest.Digest}");

        await response.ExpectAsync(HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task DeleteManifestByDigest_ThenGetByDigest_Returns404ManifestUnknown()
    {
        var repo = Repo.New("delete");
        var image = await _client.PushImageAsync(repo, "v1");
        using var delete = await _client.DeleteAsync($"/v2/{repo}/manifests/{image.Manifest.Digest}");
        await delete.ExpectAsync(HttpStatusCode.Accepted);

        using var response = await _client.GetAsync($"/v2/{repo}/manifests/{image.Manifest.Digest}");

        await response.ErrorAsync(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task DeleteManifestByDigest_RemovesTagsPointingAtIt()
    {
        var repo = Repo.New("delete");
        var image = await _client.PushImageAsync(repo, "v1");
        await _client.PushManifestAsync(repo, "v1-alias", image.Manifest);
        using var delete = await _client.DeleteAsync($"/v2/{repo}/manifests/{image.Manifest.Digest}");
        await delete.ExpectAsync(HttpStatusCode.Accepted);

        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Get, $"/v2/{repo}/manifests/v1"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Get, $"/v2/{repo}/manifests/v1-alias"));
        using var tags = await _client.GetAsync($"/v2/{repo}/tags/list");
        if (tags.StatusCode == HttpStatusCode.OK)
        {
            var listed = (await tags.ReadJsonAsync())["tags"]?.AsArray().Select(t => (string)t!) ?? [];
            Assert.DoesNotContain("v1", listed);
            Assert.DoesNotContain("v1-alias", listed);
        }
        else
        {
            await tags.ErrorAsync(HttpStatusCode.NotFound, "NAME_UNKNOWN");
        }
    }

    [Fact]
    public async Task DeleteManifestByDigest_LeavesOtherManifestsOfTheRepository()
    {
        var repo = Repo.New("delete");
        var doomed = await _client.PushImageAsync(repo, "old");
        var kept = await _client.PushImageAsync(repo, "new");
        using var delete = await _client.DeleteAsync($"/v2/{repo}/manifests/{doomed.Manifest.Digest}");
        await delete.ExpectAsync(HttpStatusCode.Accepted);

        using var response = await _client.GetAsync($"/v2/{repo}/manifests/new");

        await response.ExpectAsync(HttpStatusCode.OK);
        await response.BodyEqualsAsync(kept.Manifest.Bytes);
    }

    [Fact]
    public async Task DeleteTag_Returns202AndRemovesOnlyTheTag()
    {
        var repo = Repo.New("delete");
        var image = await _client.PushImageAsync(repo, "v1");

        using var delete = await _client.DeleteAsync($"/v2/{repo}/manifests/v1");

        await delete.ExpectAsync(HttpStatusCode.Accepted);
        using var byTag = await _client.GetAsync($"/v2/{repo}/manifests/v1");
        await byTag.ErrorAsync(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        using var byDigest = await _client.GetAsync($"/v2/{repo}/manifests/{image.Manifest.Digest}");
        await byDigest.ExpectAsync(HttpStatusCode.OK);
        await byDigest.BodyEqualsAsync(image.Manifest.Bytes);
    }

    [Fact]
    public async Task DeleteTag_LeavesOtherTagsOfTheSameManifest()
    {
        var repo = Repo.New("delete");
        var image = await _client.PushImageAsync(repo, "v1");
        await _client.PushManifestAsync(repo, "stable", image.Manifest);

        using var delete = await _client.DeleteAsync($"/v2/{repo}/manifests/v1");

        await delete.ExpectAsync(HttpStatusCode.Accepted);
        using var response = await _client.GetAsync($"/v2/{repo}/manifests/stable");
        await response.ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task DeleteUnknownManifestDigest_Returns404ManifestUnknown()
    {
        var repo = Repo.New("delete");
        await _client.PushImageAsync(repo, "v1");

        using var response = await _client.DeleteAsync($"/v2/{repo}/manifests/{Digests.Unknown()}");

        await response.ErrorAsync(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task DeleteUnknownTag_Returns404ManifestUnknown()
    {
        var repo = Repo.New("delete");
        await _client.PushImageAsync(repo, "v1");

        using var response = await _client.DeleteAsync($"/v2/{repo}/manifests/nope");

        await response.ErrorAsync(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task DeleteManifest_ReferenceThatIsNoTag_Returns404ManifestUnknown()
    {
        var repo = Repo.New("delete");
        await _client.PushImageAsync(repo, "v1");

        using var response = await _client.DeleteAsync($"/v2/{repo}/manifests/.INVALID_MANIFEST_NAME");

        await response.ErrorAsync(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task DeleteManifestInUnknownRepository_Returns404()
    {
        using var response = await _client.DeleteAsync($"/v2/{Repo.New("absent")}/manifests/{Digests.Unknown()}");

        await response.ErrorAsync(HttpStatusCode.NotFound, "NAME_UNKNOWN", "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task DeleteManifest_MalformedDigest_Returns400DigestInvalid()
    {
        var repo = Repo.New("delete");
        await _client.PushImageAsync(repo, "v1");

        using var response = await _client.DeleteAsync($"/v2/{repo}/manifests/sha256:nothex");

        await response.ErrorAsync(HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task DeletedManifest_CanBePushedAgain()
    {
        var repo = Repo.New("delete");
        var image = await _client.PushImageAsync(repo, "v1");
        using var delete = await _client.DeleteAsync($"/v2/{repo}/manifests/{image.Manifest.Digest}");
        await delete.ExpectAsync(HttpStatusCode.Accepted);

        using var put = await _client.PutManifestAsync(repo, "v1", image.Manifest);

        await put.ExpectAsync(HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, $"/v2/{repo}/manifests/v1"));
    }

    // --- blobs -------------------------------------------------------------------------------

    [Fact]
    public async Task DeleteBlob_Returns202ThenBlobIs404BlobUnknown()
    {
        var repo = Repo.New("delete");
        var blob = await _client.PushRandomBlobAsync(repo);

        using var delete = await _client.DeleteAsync($"/v2/{repo}/blobs/{blob.Digest}");

        await delete.ExpectAsync(HttpStatusCode.Accepted);
        using var response = await _client.GetAsync($"/v2/{repo}/blobs/{blob.Digest}");
        await response.ErrorAsync(HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Head, $"/v2/{repo}/blobs/{blob.Digest}"));
    }

    [Fact]
    public async Task DeleteBlob_LeavesTheSameBlobInOtherRepositories()
    {
        var repo = Repo.New("delete");
        var other = Repo.New("delete");
        var blob = await _client.PushRandomBlobAsync(repo);
        await _client.PushBlobAsync(other, blob);

        using var delete = await _client.DeleteAsync($"/v2/{repo}/blobs/{blob.Digest}");

        await delete.ExpectAsync(HttpStatusCode.Accepted);
        using var response = await _client.GetAsync($"/v2/{other}/blobs/{blob.Digest}");
        await response.ExpectAsync(HttpStatusCode.OK);
        await response.BodyEqualsAsync(blob.Bytes);
    }

    [Fact]
    public async Task DeleteUnknownBlob_Returns404BlobUnknown()
    {
        var repo = Repo.New("delete");
        await _client.PushRandomBlobAsync(repo);

        using var response = await _client.DeleteAsync($"/v2/{repo}/blobs/{Digests.Unknown()}");

        await response.ErrorAsync(HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task DeleteBlob_Twice_SecondReturns404BlobUnknown()
    {
        var repo = Repo.New("delete");
        var blob = await _client.PushRandomBlobAsync(repo);
        using var first = await _client.DeleteAsync($"/v2/{repo}/blobs/{blob.Digest}");
        await first.ExpectAsync(HttpStatusCode.Accepted);

        using var second = await _client.DeleteAsync($"/v2/{repo}/blobs/{blob.Digest}");

        await second.ErrorAsync(HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task DeleteBlob_MalformedDigest_Returns400DigestInvalid()
    {
        var repo = Repo.New("delete");
        await _client.PushRandomBlobAsync(repo);

        using var response = await _client.DeleteAsync($"/v2/{repo}/blobs/sha256:nothex");

        await response.ErrorAsync(HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task DeletedBlob_CanBeUploadedAgain()
    {
        var repo = Repo.New("delete");
        var blob = await _client.PushRandomBlobAsync(repo);
        using var delete = await _client.DeleteAsync($"/v2/{repo}/blobs/{blob.Digest}");
        await delete.ExpectAsync(HttpStatusCode.Accepted);

        await _client.PushBlobAsync(repo, blob);

        using var response = await _client.GetAsync($"/v2/{repo}/blobs/{blob.Digest}");
        await response.BodyEqualsAsync(blob.Bytes);
    }
}

/// <summary>The tests above against the default set-up (SQLite metadata, filesystem blobs).</summary>
public sealed class DeletionTests(RegistryFixture registry) : DeletionTests<RegistryFixture>(registry);

/// <summary>The tests above in the scale-out configuration (metadata in PostgreSQL, blobs in Azure Blob Storage).</summary>
public sealed class DeletionOnScaleOutTests(ScaleOutRegistryFixture registry) : DeletionTests<ScaleOutRegistryFixture>(registry);
