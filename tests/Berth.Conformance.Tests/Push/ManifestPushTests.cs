using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Berth.Conformance.Tests.Push;

/// <summary>Push: end-7 <c>PUT /v2/&lt;name&gt;/manifests/&lt;reference&gt;</c> for every manifest kind, and its validation.</summary>
public abstract class ManifestPushTests<TRegistry>(TRegistry registry) : IClassFixture<TRegistry> where TRegistry : RegistryFixture
{
    private readonly HttpClient _client = registry.Client;

    /// <summary>A repository holding a config and a layer, with the descriptors that name them.</summary>
    private async Task<(string Repo, JsonObject Config, JsonObject Layer)> RepoWithBlobsAsync(
        string configType = MediaTypes.OciConfig, string layerType = MediaTypes.OciLayer)
    {
        var repo = Repo.New("manifest");
        var config = await _client.PushRandomBlobAsync(repo, 200);
        var layer = await _client.PushRandomBlobAsync(repo, 900);
        return (repo, Manifests.Descriptor(configType, config), Manifests.Descriptor(layerType, layer));
    }

    private async Task AssertServedAsync(string repo, string reference, Content manifest, string mediaType)
    {
        using var response = await _client.GetAsync($"/v2/{repo}/manifests/{reference}");
        await response.ExpectAsync(HttpStatusCode.OK);
        await response.BodyEqualsAsync(manifest.Bytes);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        response.HasHeader("Docker-Content-Digest", manifest.Digest);
    }

    private async Task AssertAbsentAsync(string repo, string reference)
    {
        using var response = await _client.SendAsync(HttpMethod.Head, $"/v2/{repo}/manifests/{reference}");
        await response.ExpectAsync(HttpStatusCode.NotFound);
    }

    // --- accepted manifests ------------------------------------------------------------------

    [Fact]
    public async Task PutByTag_Returns201WithLocationAndDigest()
    {
        var (repo, config, layer) = await RepoWithBlobsAsync();
        var manifest = Manifests.OciImage(config, [layer]);

        using var response = await _client.PutManifestAsync(repo, "v1", manifest);

        await response.ExpectAsync(HttpStatusCode.Created);
        response.HasHeader("Docker-Content-Digest", manifest.Digest);
        using var pulled = await _client.GetAsync(_client.Location(response));
        await pulled.ExpectAsync(HttpStatusCode.OK);
        await pulled.BodyEqualsAsync(manifest.Bytes);
    }

    [Fact]
    public async Task PutByDigest_Returns201WithLocationAndDigest()
    {
        var (repo, config, layer) = await RepoWithBlobsAsync();
        var manifest = Manifests.OciImage(config, [layer]);

        using var response = await _client.PutManifestAsync(repo, manifest.Digest, manifest);

        await response.ExpectAsync(HttpStatusCode.Created);
        response.HasHeader("Docker-Content-Digest", manifest.Digest);
        Assert.EndsWith($"/v2/{repo}/manifests/{manifest.Digest}", _client.Location(response).AbsolutePath);
        await AssertServedAsync(repo, manifest.Digest, manifest, MediaTypes.OciManifest);
    }

    [Fact]
    public async Task PutBySha512Digest_Returns201WithThatDigest()
    {
        var (repo, config, layer) = await RepoWithBlobsAsync();
        var sha256 = Manifests.OciImage(config, [layer]);
        var manifest = Content.Of(sha256.Bytes, "sha512");

        using var response = await _client.PutManifestAsync(repo, manifest.Digest, manifest);

        await response.ExpectAsync(HttpStatusCode.Created);
        response.HasHeader("Docker-Content-Digest", manifest.Digest);
        using var pulled = await _client.GetAsync($"/v2/{repo}/manifests/{manifest.Digest}");
        await pulled.ExpectAsync(HttpStatusCode.OK);
        await pulled.BodyEqualsAsync(manifest.Bytes);
    }

    [Fact]
    public async Task OciImageManifest_IsStoredAndServed()
    {
        var (repo, config, layer) = await RepoWithBlobsAsync();
        var manifest = Manifests.OciImage(config, [layer], annotations: new Dictionary<string, string> { ["a"] = "b" });

        await _client.PushManifestAsync(repo, "v1", manifest);

        await AssertServedAsync(repo, "v1", manifest, MediaTypes.OciManifest);
        await AssertServedAsync(repo, manifest.Digest, manifest, MediaTypes.OciManifest);
    }

    [Fact]
    public async Task OciImageManifest_WithoutMediaTypeField_IsServedWithThePushedContentType()
    {
        var (repo, config, layer) = await RepoWithBlobsAsync();
        var manifest = Manifests.OciImage(config, [layer], includeMediaType: false);

        await _client.PushManifestAsync(repo, "v1", manifest);

        await AssertServedAsync(repo, "v1", manifest, MediaTypes.OciManifest);
    }

    [Fact]
    public async Task OciIndex_IsStoredAndServed()
    {
        var repo = Repo.New("manifest");
        var amd64 = await _client.PushImageAsync(repo);
        var arm64 = await _client.PushImageAsync(repo);
        var index = Manifests.OciIndex([
            Manifests.Descriptor(MediaTypes.OciManifest, amd64.Manifest, platform: Manifests.Platform("linux", "amd64")),
            Manifests.Descriptor(MediaTypes.OciManifest, arm64.Manifest, platform: Manifests.Platform("linux", "arm64")),
        ]);

        using var response = await _client.PutManifestAsync(repo, "multi", index, MediaTypes.OciIndex);

        await response.ExpectAsync(HttpStatusCode.Created);
        response.HasHeader("Docker-Content-Digest", index.Digest);
        await AssertServedAsync(repo, "multi", index, MediaTypes.OciIndex);
    }

    [Fact]
    public async Task DockerSchema2Manifest_IsStoredAndServed()
    {
        var (repo, config, layer) = await RepoWithBlobsAsync(MediaTypes.DockerConfig, MediaTypes.DockerLayer);
        var manifest = Manifests.DockerImage(config, [layer]);

        using var response = await _client.PutManifestAsync(repo, "v1", manifest, MediaTypes.DockerManifest);

        await response.ExpectAsync(HttpStatusCode.Created);
        response.HasHeader("Docker-Content-Digest", manifest.Digest);
        await AssertServedAsync(repo, "v1", manifest, MediaTypes.DockerManifest);
    }

    [Fact]
    public async Task DockerManifestList_IsStoredAndServed()
    {
        var (repo, config, layer) = await RepoWithBlobsAsync(MediaTypes.DockerConfig, MediaTypes.DockerLayer);
        var image = Manifests.DockerImage(config, [layer]);
        await _client.PushManifestAsync(repo, image.Digest, image, MediaTypes.DockerManifest);
        var list = Manifests.DockerList([
            Manifests.Descriptor(MediaTypes.DockerManifest, image, platform: Manifests.Platform("linux", "amd64")),
        ]);

        using var response = await _client.PutManifestAsync(repo, "multi", list, MediaTypes.DockerManifestList);

        await response.ExpectAsync(HttpStatusCode.Created);
        await AssertServedAsync(repo, "multi", list, MediaTypes.DockerManifestList);
    }

    [Fact]
    public async Task Artifact_WithArtifactTypeAndEmptyConfig_IsStoredAndServed()
    {
        var repo = Repo.New("manifest");
        await _client.PushBlobAsync(repo, Manifests.EmptyConfig);
        var payload = await _client.PushRandomBlobAsync(repo);
        var manifest = Manifests.OciImage(
            Manifests.Descriptor(MediaTypes.OciEmpty, Manifests.EmptyConfig),
            [Manifests.Descriptor("application/vnd.example.thing", payload)],
            artifactType: "application/vnd.example.thing.v1");

        await _client.PushManifestAsync(repo, "artifact", manifest);

        await AssertServedAsync(repo, "artifact", manifest, MediaTypes.OciManifest);
    }

    [Fact]
    public async Task Artifact_WithEmptyLayersList_IsAccepted()
    {
        var repo = Repo.New("manifest");
        await _client.PushBlobAsync(repo, Manifests.EmptyConfig);
        var manifest = Manifests.OciImage(
            Manifests.Descriptor(MediaTypes.OciEmpty, Manifests.EmptyConfig), [], artifactType: "application/vnd.example.empty");

        using var response = await _client.PutManifestAsync(repo, "empty", manifest);

        await response.ExpectAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task ExactBytes_WithOddWhitespace_AreServedByteForByte()
    {
        var repo = Repo.New("manifest");
        var config = await _client.PushRandomBlobAsync(repo, 100);
        var layer = await _client.PushRandomBlobAsync(repo, 100);
        var text =
            "{\n\t\"schemaVersion\" :   2 ,\r\n  \"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\n" +
            $"  \"layers\": [ {{\"size\": {layer.Size}, \"digest\": \"{layer.Digest}\",\"mediaType\":\"{MediaTypes.OciLayer}\"}} ],\n" +
            $"     \"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{config.Digest}\",\"size\":{config.Size}}}" +
            ",\"annotations\":{\"z\":\"\\u00e9t\u00e9\",\"a\":\"1\"}}\n\n   ";
        var manifest = Content.Of(Encoding.UTF8.GetBytes(text));

        using var response = await _client.PutManifestAsync(repo, "odd", manifest);

        await response.ExpectAsync(HttpStatusCode.Created);
        response.HasHeader("Docker-Content-Digest", manifest.Digest);
        await AssertServedAsync(repo, "odd", manifest, MediaTypes.OciManifest);
        await AssertServedAsync(repo, manifest.Digest, manifest, MediaTypes.OciManifest);
    }

    [Fact]
    public async Task ManifestWithSubject_Returns201WithOciSubjectHeader()
    {
        var repo = Repo.New("manifest");
        var subject = await _client.PushImageAsync(repo, "v1");
        await _client.PushBlobAsync(repo, Manifests.EmptyConfig);
        var manifest = Manifests.OciImage(Manifests.Descriptor(MediaTypes.OciEmpty, Manifests.EmptyConfig), [],
            subject: subject.Descriptor(), artifactType: "application/vnd.example.sig");

        using var response = await _client.PutManifestAsync(repo, manifest.Digest, manifest);

        await response.ExpectAsync(HttpStatusCode.Created);
        response.HasHeader("OCI-Subject", subject.Manifest.Digest);
    }

    [Fact]
    public async Task ManifestWithSubjectThatDoesNotExist_IsAcceptedWithOciSubjectHeader()
    {
        var repo = Repo.New("manifest");
        await _client.PushBlobAsync(repo, Manifests.EmptyConfig);
        var missing = Manifests.Descriptor(MediaTypes.OciManifest, Content.Random(300));
        var manifest = Manifests.OciImage(Manifests.Descriptor(MediaTypes.OciEmpty, Manifests.EmptyConfig), [],
            subject: missing, artifactType: "application/vnd.example.sig");

        using var response = await _client.PutManifestAsync(repo, manifest.Digest, manifest);

        await response.ExpectAsync(HttpStatusCode.Created);
        response.HasHeader("OCI-Subject", (string)missing["digest"]!);
    }

    [Fact]
    public async Task ManifestWithoutSubject_HasNoOciSubjectHeader()
    {
        var (repo, config, layer) = await RepoWithBlobsAsync();

        using var response = await _client.PutManifestAsync(repo, "v1", Manifests.OciImage(config, [layer]));

        await response.ExpectAsync(HttpStatusCode.Created);
        response.LacksHeader("OCI-Subject");
    }

    [Fact]
    public async Task SameManifest_UnderTwoTags_ResolvesFromBoth()
    {
        var (repo, config, layer) = await RepoWithBlobsAsync();
        var manifest = Manifests.OciImage(config, [layer]);

        await _client.PushManifestAsync(repo, "one", manifest);
        await _client.PushManifestAsync(repo, "two", manifest);

        await AssertServedAsync(repo, "one", manifest, MediaTypes.OciManifest);
        await AssertServedAsync(repo, "two", manifest, MediaTypes.OciManifest);
    }

    [Fact]
    public async Task ManifestOfExactly4MiB_IsAccepted()
    {
        var (repo, config, _) = await RepoWithBlobsAsync();
        var manifest = Manifests.PaddedOciImage(config, 4 * 1024 * 1024);

        using var response = await _client.PutManifestAsync(repo, "big", manifest);

        await response.ExpectAsync(HttpStatusCode.Created);
        await AssertServedAsync(repo, "big", manifest, MediaTypes.OciManifest);
    }

    [Fact]
    public async Task Tag_Of128Characters_IsAccepted()
    {
        var (repo, config, layer) = await RepoWithBlobsAsync();
        var tag = "t" + new string('a', 127);

        using var response = await _client.PutManifestAsync(repo, tag, Manifests.OciImage(config, [layer]));

        await response.ExpectAsync(HttpStatusCode.Created);
    }

    // --- refused manifests -------------------------------------------------------------------

    [Fact]
    public async Task ManifestReferencingUnknownLayer_Returns400ManifestBlobUnknown()
    {
        var (repo, config, _) = await RepoWithBlobsAsync();
        var manifest = Manifests.OciImage(config, [Manifests.Descriptor(MediaTypes.OciLayer, Content.Random(50))]);

        using var response = await _client.PutManifestAsync(repo, "v1", manifest);

        await response.ErrorAsync(HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
        await AssertAbsentAsync(repo, "v1");
        await AssertAbsentAsync(repo, manifest.Digest);
    }

    [Fact]
    public async Task ManifestReferencingUnknownConfig_Returns400ManifestBlobUnknown()
    {
        var (repo, _, layer) = await RepoWithBlobsAsync();
        var manifest = Manifests.OciImage(Manifests.Descriptor(MediaTypes.OciConfig, Content.Random(50)), [layer]);

        using var response = await _client.PutManifestAsync(repo, "v1", manifest);

        await response.ErrorAsync(HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
    }

    [Fact]
    public async Task ManifestReferencingBlobOnlyInAnotherRepository_Returns400ManifestBlobUnknown()
    {
        var (repo, config, _) = await RepoWithBlobsAsync();
        var elsewhere = await _client.PushRandomBlobAsync(Repo.New("manifest"));
        var manifest = Manifests.OciImage(config, [Manifests.Descriptor(MediaTypes.OciLayer, elsewhere)]);

        using var response = await _client.PutManifestAsync(repo, "v1", manifest);

        await response.ErrorAsync(HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
    }

    [Fact]
    public async Task IndexReferencingUnknownManifest_Returns400ManifestBlobUnknown()
    {
        var repo = Repo.New("manifest");
        var known = await _client.PushImageAsync(repo);
        var index = Manifests.OciIndex([
            known.Descriptor(),
            Manifests.Descriptor(MediaTypes.OciManifest, Content.Random(400)),
        ]);

        using var response = await _client.PutManifestAsync(repo, "multi", index, MediaTypes.OciIndex);

        await response.ErrorAsync(HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
        await AssertAbsentAsync(repo, "multi");
    }

    [Fact]
    public async Task DockerManifestListReferencingUnknownManifest_Returns400ManifestBlobUnknown()
    {
        var repo = Repo.New("manifest");
        await _client.PushRandomBlobAsync(repo);
        var list = Manifests.DockerList([Manifests.Descriptor(MediaTypes.DockerManifest, Content.Random(400))]);

        using var response = await _client.PutManifestAsync(repo, "multi", list, MediaTypes.DockerManifestList);

        await response.ErrorAsync(HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"layers\":[]}")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"x\",\"digest\":\"nope\",\"size\":1},\"layers\":[]}")]
    public async Task InvalidManifest_Returns400ManifestInvalid(string body)
    {
        var repo = Repo.New("manifest");
        await _client.PushRandomBlobAsync(repo);

        using var response = await _client.PutManifestAsync(repo, "bad", Content.Of(body));

        await response.ErrorAsync(HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        await AssertAbsentAsync(repo, "bad");
    }

    [Theory]
    [InlineData(MediaTypes.DockerManifest)]
    [InlineData(MediaTypes.OciIndex)]
    [InlineData("application/json")]
    public async Task MediaTypeFieldNotMatchingContentType_Returns400ManifestInvalid(string contentType)
    {
        var (repo, config, layer) = await RepoWithBlobsAsync();
        var manifest = Manifests.OciImage(config, [layer]);

        using var response = await _client.PutManifestAsync(repo, "v1", manifest, contentType);

        await response.ErrorAsync(HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Theory]
    [InlineData(MediaTypes.DockerSchema1Signed)]
    [InlineData(MediaTypes.DockerSchema1)]
    public async Task DockerSchema1_IsRejectedWithAClearMessage(string contentType)
    {
        var repo = Repo.New("manifest");
        var layer = await _client.PushRandomBlobAsync(repo);
        var schema1 = Content.Of(
            "{\"schemaVersion\":1,\"name\":\"" + repo + "\",\"tag\":\"v1\",\"architecture\":\"amd64\"," +
            "\"fsLayers\":[{\"blobSum\":\"" + layer.Digest + "\"}],\"history\":[{\"v1Compatibility\":\"{}\"}]}");

        using var response = await _client.PutManifestAsync(repo, "v1", schema1, contentType);

        var error = await response.ErrorAsync(HttpStatusCode.BadRequest, "MANIFEST_INVALID", "UNSUPPORTED");
        Assert.Matches("(?i)schema ?1|schema ?version ?1|schemaVersion.{0,3}1", error.Message());
        await AssertAbsentAsync(repo, "v1");
    }

    [Fact]
    public async Task ManifestOver4MiB_IsRejected()
    {
        var (repo, config, _) = await RepoWithBlobsAsync();
        var manifest = Manifests.PaddedOciImage(config, 4 * 1024 * 1024 + 1);

        using var response = await _client.PutManifestAsync(repo, "huge", manifest);

        Assert.True(response.StatusCode is HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.BadRequest,
            $"{RegistryClient.Describe(response)}, expected 413 (or 400)");
        await AssertAbsentAsync(repo, "huge");
    }

    [Fact]
    public async Task PutByDigest_NotMatchingTheBody_Returns400DigestInvalid()
    {
        var (repo, config, layer) = await RepoWithBlobsAsync();
        var manifest = Manifests.OciImage(config, [layer]);
        var wrong = Digests.Unknown();

        using var response = await _client.PutManifestAsync(repo, wrong, manifest);

        await response.ErrorAsync(HttpStatusCode.BadRequest, "DIGEST_INVALID");
        await AssertAbsentAsync(repo, wrong);
        await AssertAbsentAsync(repo, manifest.Digest);
    }

    [Theory]
    [InlineData(".dot")]
    [InlineData("-dash")]
    [InlineData("has+plus")]
    public async Task PutWithInvalidTag_Returns400(string tag)
    {
        var (repo, config, layer) = await RepoWithBlobsAsync();

        using var response = await _client.PutManifestAsync(repo, tag, Manifests.OciImage(config, [layer]));

        await response.ErrorAsync(HttpStatusCode.BadRequest, "TAG_INVALID", "MANIFEST_INVALID");
    }

    [Fact]
    public async Task PutWithTagOf129Characters_Returns400()
    {
        var (repo, config, layer) = await RepoWithBlobsAsync();

        using var response = await _client.PutManifestAsync(repo, new string('a', 129), Manifests.OciImage(config, [layer]));

        await response.ErrorAsync(HttpStatusCode.BadRequest, "TAG_INVALID", "MANIFEST_INVALID");
    }
}

/// <summary>The tests above against the default set-up (SQLite metadata, filesystem blobs).</summary>
public sealed class ManifestPushTests(RegistryFixture registry) : ManifestPushTests<RegistryFixture>(registry);

/// <summary>The tests above in the scale-out configuration (metadata in PostgreSQL, blobs in Azure Blob Storage).</summary>
public sealed class ManifestPushOnScaleOutTests(ScaleOutRegistryFixture registry) : ManifestPushTests<ScaleOutRegistryFixture>(registry);
