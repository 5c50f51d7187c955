using System.Net;

namespace Berth.Conformance.Tests.Push;

/// <summary>Push: end-11 <c>POST /v2/&lt;name&gt;/blobs/uploads/?mount=&lt;digest&gt;&amp;from=&lt;other&gt;</c>.</summary>
public abstract class BlobMountTests<TRegistry>(TRegistry registry) : IClassFixture<TRegistry> where TRegistry : RegistryFixture
{
    private readonly HttpClient _client = registry.Client;

    private Task<HttpResponseMessage> MountAsync(string repo, string digest, string? from) =>
        _client.SendAsync(HttpMethod.Post,
            $"/v2/{repo}/blobs/uploads/?mount={Uri.EscapeDataString(digest)}" + (from is null ? "" : $"&from={Uri.EscapeDataString(from)}"),
            RegistryClient.Bytes([], null));

    [Fact]
    public async Task Mount_FromRepositoryHoldingTheBlob_Returns201WithLocation()
    {
        var source = Repo.New("mount");
        var blob = await _client.PushRandomBlobAsync(source);
        var target = Repo.New("mount");

        using var response = await MountAsync(target, blob.Digest, source);

        await response.ExpectAsync(HttpStatusCode.Created);
        Assert.EndsWith($"/v2/{target}/blobs/{blob.Digest}", _client.Location(response).AbsolutePath);
        response.HasHeader("Docker-Content-Digest", blob.Digest);
    }

    [Fact]
    public async Task Mount_MakesTheBlobPullableFromTheTarget()
    {
        var source = Repo.New("mount");
        var blob = await _client.PushRandomBlobAsync(source);
        var target = Repo.New("mount");
        using var mount = await MountAsync(target, blob.Digest, source);
        await mount.ExpectAsync(HttpStatusCode.Created);

        using var response = await _client.GetAsync($"/v2/{target}/blobs/{blob.Digest}");

        await response.ExpectAsync(HttpStatusCode.OK);
        await response.BodyEqualsAsync(blob.Bytes);
    }

    [Fact]
    public async Task Mount_UnknownBlob_Returns202AndAnUploadSessionThatWorks()
    {
        var target = Repo.New("mount");
        var source = Repo.New("mount");
        await _client.PushRandomBlobAsync(source);
        var blob = Content.Random(300);

        using var response = await MountAsync(target, blob.Digest, source);

        await response.ExpectAsync(HttpStatusCode.Accepted);
        var location = _client.Location(response);
        Assert.StartsWith($"/v2/{target}/blobs/uploads/", location.AbsolutePath);
        using var put = await _client.FinishUploadAsync(location, blob.Digest, blob.Bytes);
        await put.ExpectAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Mount_FromRepositoryWithoutTheBlob_Returns202()
    {
        var holder = Repo.New("mount");
        var blob = await _client.PushRandomBlobAsync(holder);
        var emptySource = Repo.New("mount");
        await _client.PushRandomBlobAsync(emptySource);
        var target = Repo.New("mount");

        using var response = await MountAsync(target, blob.Digest, emptySource);

        await response.ExpectAsync(HttpStatusCode.Accepted);
        _client.Location(response);
    }

    [Fact]
    public async Task Mount_FromRepositoryWithoutTheBlob_DoesNotExposeTheBlob()
    {
        var holder = Repo.New("mount");
        var blob = await _client.PushRandomBlobAsync(holder);
        var emptySource = Repo.New("mount");
        await _client.PushRandomBlobAsync(emptySource);
        var target = Repo.New("mount");
        using var mount = await MountAsync(target, blob.Digest, emptySource);

        using var response = await _client.SendAsync(HttpMethod.Head, $"/v2/{target}/blobs/{blob.Digest}");

        await response.ExpectAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Mount_WithoutFrom_WhenTheRegistryHasTheBlob_Returns201()
    {
        var source = Repo.New("mount");
        var blob = await _client.PushRandomBlobAsync(source);
        var target = Repo.New("mount");

        using var response = await MountAsync(target, blob.Digest, from: null);

        await response.ExpectAsync(HttpStatusCode.Created);
        Assert.EndsWith($"/v2/{target}/blobs/{blob.Digest}", _client.Location(response).AbsolutePath);
        using var pulled = await _client.GetAsync($"/v2/{target}/blobs/{blob.Digest}");
        await pulled.BodyEqualsAsync(blob.Bytes);
    }

    [Fact]
    public async Task Mount_Sha512Blob_Returns201()
    {
        var source = Repo.New("mount");
        var blob = Content.Random(256, "sha512");
        await _client.PushBlobAsync(source, blob);
        var target = Repo.New("mount");

        using var response = await MountAsync(target, blob.Digest, source);

        await response.ExpectAsync(HttpStatusCode.Created);
        using var pulled = await _client.GetAsync($"/v2/{target}/blobs/{blob.Digest}");
        await pulled.BodyEqualsAsync(blob.Bytes);
    }

    [Fact]
    public async Task Mount_MalformedDigest_IsRefusedOrFallsBackToAnUpload()
    {
        // The spec leaves this open: a registry "unable to mount" SHOULD answer 202; refusing the
        // malformed digest outright (400 DIGEST_INVALID) is as reasonable. Never 201.
        var source = Repo.New("mount");
        await _client.PushRandomBlobAsync(source);

        using var response = await MountAsync(Repo.New("mount"), "sha256:nothex", source);

        if (response.StatusCode == HttpStatusCode.Accepted)
            _client.Location(response);
        else
            await response.ErrorAsync(HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }
}

/// <summary>The tests above against the default set-up (SQLite metadata, filesystem blobs).</summary>
public sealed class BlobMountTests(RegistryFixture registry) : BlobMountTests<RegistryFixture>(registry);

/// <summary>The tests above in the scale-out configuration (metadata in PostgreSQL, blobs in Azure Blob Storage).</summary>
public sealed class BlobMountOnScaleOutTests(ScaleOutRegistryFixture registry) : BlobMountTests<ScaleOutRegistryFixture>(registry);
