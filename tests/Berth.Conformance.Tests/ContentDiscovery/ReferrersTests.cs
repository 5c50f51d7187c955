using System.Net;
using System.Text.Json.Nodes;

namespace Berth.Conformance.Tests.ContentDiscovery;

/// <summary>Content discovery: end-12a/12b <c>GET /v2/&lt;name&gt;/referrers/&lt;digest&gt;[?artifactType=]</c>.</summary>
public abstract class ReferrersTests<TRegistry>(TRegistry registry) : IClassFixture<TRegistry> where TRegistry : RegistryFixture
{
    private const string Sbom = "application/vnd.example.sbom.v1";
    private const string Signature = "application/vnd.example.signature.v1";

    private readonly HttpClient _client = registry.Client;

    private async Task<(HttpResponseMessage Response, JsonObject[] Manifests)> ReferrersAsync(string repo, string digest, string? artifactType = null)
    {
        var url = $"/v2/{repo}/referrers/{digest}" + (artifactType is null ? "" : $"?artifactType={Uri.EscapeDataString(artifactType)}");
        var response = await _client.GetAsync(url);
        await response.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(MediaTypes.OciIndex, response.Content.Headers.ContentType?.MediaType);
        var index = await response.ReadJsonAsync();
        Assert.Equal(2, (int?)index["schemaVersion"]);
        Assert.Equal(MediaTypes.OciIndex, (string?)index["mediaType"]);
        var manifests = Assert.IsType<JsonArray>(index["manifests"]);
        return (response, manifests.Cast<JsonObject>().ToArray());
    }

    private static JsonObject Single(JsonObject[] manifests, Content manifest)
    {
        var matches = manifests.Where(m => (string?)m["digest"] == manifest.Digest).ToArray();
        Assert.True(matches.Length == 1, $"expected one descriptor of {manifest.Digest}, found {matches.Length}: {string.Join(", ", manifests.Select(m => m.ToJsonString()))}");
        return matches[0];
    }

    [Fact]
    public async Task Referrers_ListsDescriptorsOfManifestsWithThatSubject()
    {
        var repo = Repo.New("referrers");
        var image = await _client.PushImageAsync(repo, "v1");
        var sbom = await _client.PushArtifactAsync(repo, image.Descriptor(), Sbom,
            new Dictionary<string, string> { ["org.example.format"] = "spdx", ["org.opencontainers.image.created"] = "2024-01-01T00:00:00Z" });
        var signature = await _client.PushArtifactAsync(repo, image.Descriptor(), Signature);

        var (response, manifests) = await ReferrersAsync(repo, image.Manifest.Digest);

        using (response)
        {
            Assert.Equal(2, manifests.Length);
            var sbomDescriptor = Single(manifests, sbom);
            Assert.Equal(MediaTypes.OciManifest, (string?)sbomDescriptor["mediaType"]);
            Assert.Equal(sbom.Size, (long?)sbomDescriptor["size"]);
            Assert.Equal(Sbom, (string?)sbomDescriptor["artifactType"]);
            Assert.Equal("spdx", (string?)sbomDescriptor["annotations"]?["org.example.format"]);
            Assert.Equal("2024-01-01T00:00:00Z", (string?)sbomDescriptor["annotations"]?["org.opencontainers.image.created"]);
            var signatureDescriptor = Single(manifests, signature);
            Assert.Equal(Signature, (string?)signatureDescriptor["artifactType"]);
            Assert.Equal(signature.Size, (long?)signatureDescriptor["size"]);
        }
    }

    [Fact]
    public async Task Referrers_WithArtifactTypeFilter_ListsOnlyThatTypeAndSaysSo()
    {
        var repo = Repo.New("referrers");
        var image = await _client.PushImageAsync(repo, "v1");
        var sbom = await _client.PushArtifactAsync(repo, image.Descriptor(), Sbom);
        await _client.PushArtifactAsync(repo, image.Descriptor(), Signature);

        var (response, manifests) = await ReferrersAsync(repo, image.Manifest.Digest, Sbom);

        using (response)
        {
            Assert.Equal(sbom.Digest, (string?)Assert.Single(manifests)["digest"]);
            response.HasHeader("OCI-Filters-Applied", "artifactType");
        }
    }

    [Fact]
    public async Task Referrers_WithFilterMatchingNothing_ReturnsEmptyListAndFilterHeader()
    {
        var repo = Repo.New("referrers");
        var image = await _client.PushImageAsync(repo, "v1");
        await _client.PushArtifactAsync(repo, image.Descriptor(), Sbom);

        var (response, manifests) = await ReferrersAsync(repo, image.Manifest.Digest, "application/vnd.example.none");

        using (response)
        {
            Assert.Empty(manifests);
            response.HasHeader("OCI-Filters-Applied", "artifactType");
        }
    }

    [Fact]
    public async Task Referrers_WithoutFilter_HasNoFiltersAppliedHeader()
    {
        var repo = Repo.New("referrers");
        var image = await _client.PushImageAsync(repo, "v1");
        await _client.PushArtifactAsync(repo, image.Descriptor(), Sbom);

        var (response, _) = await ReferrersAsync(repo, image.Manifest.Digest);

        using (response) response.LacksHeader("OCI-Filters-Applied");
    }

    [Fact]
    public async Task Referrers_NoneExist_ReturnsEmptyIndex()
    {
        var repo = Repo.New("referrers");
        var image = await _client.PushImageAsync(repo, "v1");

        var (response, manifests) = await ReferrersAsync(repo, image.Manifest.Digest);

        using (response) Assert.Empty(manifests);
    }

    [Fact]
    public async Task Referrers_SubjectManifestDoesNotExist_StillListsReferrers()
    {
        var repo = Repo.New("referrers");
        var missing = Manifests.Descriptor(MediaTypes.OciManifest, Content.Random(321));
        var sbom = await _client.PushArtifactAsync(repo, missing, Sbom);

        var (response, manifests) = await ReferrersAsync(repo, (string)missing["digest"]!);

        using (response) Assert.Equal(sbom.Digest, (string?)Assert.Single(manifests)["digest"]);
    }

    [Fact]
    public async Task Referrers_UnknownDigestInExistingRepository_ReturnsEmptyIndex()
    {
        var repo = Repo.New("referrers");
        await _client.PushImageAsync(repo, "v1");

        var (response, manifests) = await ReferrersAsync(repo, Digests.Unknown());

        using (response) Assert.Empty(manifests);
    }

    [Fact]
    public async Task Referrer_WithoutArtifactType_IsListedWithTheConfigMediaType()
    {
        var repo = Repo.New("referrers");
        var image = await _client.PushImageAsync(repo, "v1");
        var config = Content.Of("{\"kind\":\"custom\"}");
        await _client.PushBlobAsync(repo, config);
        var referrer = Manifests.OciImage(Manifests.Descriptor("application/vnd.example.config.v1+json", config), [],
            subject: image.Descriptor());
        await _client.PushManifestAsync(repo, referrer.Digest, referrer);

        var (response, manifests) = await ReferrersAsync(repo, image.Manifest.Digest);

        using (response) Assert.Equal("application/vnd.example.config.v1+json", (string?)Single(manifests, referrer)["artifactType"]);
    }

    [Fact]
    public async Task Referrer_ThatIsAnIndex_IsListedWithTheIndexMediaType()
    {
        var repo = Repo.New("referrers");
        var image = await _client.PushImageAsync(repo, "v1");
        var child = await _client.PushImageAsync(repo);
        var index = Manifests.OciIndex([child.Descriptor()], subject: image.Descriptor(), artifactType: "application/vnd.example.bundle");
        await _client.PushManifestAsync(repo, index.Digest, index, MediaTypes.OciIndex);

        var (response, manifests) = await ReferrersAsync(repo, image.Manifest.Digest);

        using (response)
        {
            var descriptor = Single(manifests, index);
            Assert.Equal(MediaTypes.OciIndex, (string?)descriptor["mediaType"]);
            Assert.Equal(index.Size, (long?)descriptor["size"]);
            Assert.Equal("application/vnd.example.bundle", (string?)descriptor["artifactType"]);
        }
    }

    [Fact]
    public async Task Referrer_IndexWithoutArtifactType_IsListedWithoutArtifactType()
    {
        var repo = Repo.New("referrers");
        var image = await _client.PushImageAsync(repo, "v1");
        var child = await _client.PushImageAsync(repo);
        var index = Manifests.OciIndex([child.Descriptor()], subject: image.Descriptor(),
            annotations: new Dictionary<string, string> { ["org.example.kind"] = "bundle" });
        using var put = await _client.PutManifestAsync(repo, index.Digest, index, MediaTypes.OciIndex);
        await put.ExpectAsync(HttpStatusCode.Created);
        put.HasHeader("OCI-Subject", image.Manifest.Digest);

        var (response, manifests) = await ReferrersAsync(repo, image.Manifest.Digest);

        using (response)
        {
            var descriptor = Single(manifests, index);
            Assert.Null(descriptor["artifactType"]);
            Assert.Equal("bundle", (string?)descriptor["annotations"]?["org.example.kind"]);
        }
    }

    [Fact]
    public async Task Referrers_AreScopedToTheRepository()
    {
        var repo = Repo.New("referrers");
        var other = Repo.New("referrers");
        var image = await _client.PushImageAsync(repo, "v1");
        await _client.PushArtifactAsync(other, image.Descriptor(), Sbom);

        var (response, manifests) = await ReferrersAsync(repo, image.Manifest.Digest);

        using (response) Assert.Empty(manifests);
    }

    [Fact]
    public async Task Referrers_AfterTheReferrerIsDeleted_OmitIt()
    {
        var repo = Repo.New("referrers");
        var image = await _client.PushImageAsync(repo, "v1");
        var sbom = await _client.PushArtifactAsync(repo, image.Descriptor(), Sbom);
        var signature = await _client.PushArtifactAsync(repo, image.Descriptor(), Signature);
        using var delete = await _client.DeleteAsync($"/v2/{repo}/manifests/{sbom.Digest}");
        await delete.ExpectAsync(HttpStatusCode.Accepted);

        var (response, manifests) = await ReferrersAsync(repo, image.Manifest.Digest);

        using (response) Assert.Equal(signature.Digest, (string?)Assert.Single(manifests)["digest"]);
    }

    [Fact]
    public async Task Referrers_Sha512Subject_IsFound()
    {
        var repo = Repo.New("referrers");
        var subject = Manifests.Descriptor(MediaTypes.OciManifest, Content.Random(99, "sha512"));
        var sbom = await _client.PushArtifactAsync(repo, subject, Sbom);

        var (response, manifests) = await ReferrersAsync(repo, (string)subject["digest"]!);

        using (response) Assert.Equal(sbom.Digest, (string?)Assert.Single(manifests)["digest"]);
    }

    [Theory]
    [InlineData("sha256:nothex")]
    [InlineData("latest")]
    public async Task Referrers_InvalidDigest_Returns400(string digest)
    {
        var repo = Repo.New("referrers");
        await _client.PushImageAsync(repo, "v1");

        using var response = await _client.GetAsync($"/v2/{repo}/referrers/{digest}");

        await response.ExpectAsync(HttpStatusCode.BadRequest);
    }
}

/// <summary>The tests above against the default set-up (SQLite metadata, filesystem blobs).</summary>
public sealed class ReferrersTests(RegistryFixture registry) : ReferrersTests<RegistryFixture>(registry);

/// <summary>The tests above in the scale-out configuration (metadata in PostgreSQL, blobs in Azure Blob Storage).</summary>
public sealed class ReferrersOnScaleOutTests(ScaleOutRegistryFixture registry) : ReferrersTests<ScaleOutRegistryFixture>(registry);
