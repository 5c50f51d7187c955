using System.Net;

namespace Berth.Conformance.Tests.Pull;

/// <summary>
/// <c>Accept</c> on manifest pulls, as ACR does it: an OCI manifest is only served to a client that
/// accepts OCI types (or anything); a Docker-only <c>Accept</c> gets MANIFEST_UNKNOWN saying why.
/// </summary>
public abstract class ContentNegotiationTests<TRegistry>(TRegistry registry) : IClassFixture<TRegistry> where TRegistry : RegistryFixture
{
    private readonly HttpClient _client = registry.Client;

    private Task<HttpResponseMessage> GetAsync(string repo, string reference, params string[] accept) =>
        _client.SendAsync(HttpMethod.Get, $"/v2/{repo}/manifests/{reference}", configure: r =>
        {
            foreach (var type in accept) r.Headers.TryAddWithoutValidation("Accept", type);
        });

    [Fact]
    public async Task OciManifest_WithDockerOnlyAccept_Returns404ManifestUnknownSayingOciWasNotAccepted()
    {
        var repo = Repo.New("accept");
        await _client.PushImageAsync(repo, "v1");

        using var response = await GetAsync(repo, "v1", MediaTypes.DockerManifest, MediaTypes.DockerManifestList);

        var error = await response.ErrorAsync(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        Assert.Contains("OCI", error.Message(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("accept", error.Message(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task OciIndex_WithDockerOnlyAccept_Returns404ManifestUnknown()
    {
        var repo = Repo.New("accept");
        var image = await _client.PushImageAsync(repo);
        var index = Manifests.OciIndex([image.Descriptor()]);
        await _client.PushManifestAsync(repo, "multi", index, MediaTypes.OciIndex);

        using var response = await GetAsync(repo, "multi", MediaTypes.DockerManifest, MediaTypes.DockerManifestList);

        var error = await response.ErrorAsync(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        Assert.Contains("OCI", error.Message(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task OciManifest_WithDockerOnlyAcceptByDigest_Returns404ManifestUnknown()
    {
        var repo = Repo.New("accept");
        var image = await _client.PushImageAsync(repo, "v1");

        using var response = await GetAsync(repo, image.Manifest.Digest, MediaTypes.DockerManifest);

        await response.ErrorAsync(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task OciManifest_WithDockerOnlyAccept_HeadReturns404()
    {
        var repo = Repo.New("accept");
        await _client.PushImageAsync(repo, "v1");

        using var response = await _client.SendAsync(HttpMethod.Head, $"/v2/{repo}/manifests/v1",
            configure: r => r.Headers.TryAddWithoutValidation("Accept", MediaTypes.DockerManifest));

        await response.ExpectAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("")]
    [InlineData("*/*")]
    [InlineData(MediaTypes.OciManifest)]
    [InlineData(MediaTypes.DockerManifest + "|" + MediaTypes.OciManifest + "|" + MediaTypes.OciIndex)]
    [InlineData(MediaTypes.DockerManifest + ", " + MediaTypes.OciManifest)]
    [InlineData("application/*")]
    public async Task OciManifest_WithAcceptIncludingOci_IsServed(string accept)
    {
        var repo = Repo.New("accept");
        var image = await _client.PushImageAsync(repo, "v1");

        using var response = await GetAsync(repo, "v1", accept.Split('|', StringSplitOptions.RemoveEmptyEntries));

        await response.ExpectAsync(HttpStatusCode.OK);
        await response.BodyEqualsAsync(image.Manifest.Bytes);
        Assert.Equal(MediaTypes.OciManifest, response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task DockerManifest_WithDockerAccept_IsServed()
    {
        var repo = Repo.New("accept");
        var config = await _client.PushRandomBlobAsync(repo);
        var layer = await _client.PushRandomBlobAsync(repo);
        var manifest = Manifests.DockerImage(
            Manifests.Descriptor(MediaTypes.DockerConfig, config), [Manifests.Descriptor(MediaTypes.DockerLayer, layer)]);
        await _client.PushManifestAsync(repo, "v1", manifest, MediaTypes.DockerManifest);

        using var response = await GetAsync(repo, "v1", MediaTypes.DockerManifest, MediaTypes.DockerManifestList);

        await response.ExpectAsync(HttpStatusCode.OK);
        await response.BodyEqualsAsync(manifest.Bytes);
        Assert.Equal(MediaTypes.DockerManifest, response.Content.Headers.ContentType?.MediaType);
    }
}

/// <summary>The tests above against the default set-up (SQLite metadata, filesystem blobs).</summary>
public sealed class ContentNegotiationTests(RegistryFixture registry) : ContentNegotiationTests<RegistryFixture>(registry);

/// <summary>The tests above in the scale-out configuration (metadata in PostgreSQL, blobs in Azure Blob Storage).</summary>
public sealed class ContentNegotiationOnScaleOutTests(ScaleOutRegistryFixture registry) : ContentNegotiationTests<ScaleOutRegistryFixture>(registry);
