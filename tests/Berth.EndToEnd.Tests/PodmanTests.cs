using System.Formats.Tar;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Berth.EndToEnd.Tests.Infrastructure;

namespace Berth.EndToEnd.Tests;

/// <summary>podman pushes an image it built from a local archive to Berth and pulls the same image back.</summary>
public sealed class PodmanTests(BerthServer server) : IClassFixture<BerthServer>, IDisposable
{
    private readonly ContainerTools _tools = new(server);
    private readonly TempDirectory _work = new("podman");

    [Fact]
    public async Task PodmanPushRmiPull_ImportedImage_ComesBackWithTheSameIdDigestAndFiles()
    {
        var payload = RandomNumberGenerator.GetBytes(2 * 1024 * 1024 + 5);
        var rootfs = _work.Combine("rootfs.tar");
        await using (var file = File.Create(rootfs))
        await using (var tar = new TarWriter(file, TarEntryFormat.Pax))
        {
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "data/") { Mode = (UnixFileMode)0b111_101_101 });
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "data/payload.bin") { DataStream = new MemoryStream(payload), Mode = (UnixFileMode)0b110_100_100 });
        }
        const string local = "localhost/e2e/imported:1";
        var remote = $"{server.Host}/e2e/podman:1";
        var digestFile = _work.Combine("digest");

        (await _tools.PodmanAsync("import", rootfs, local)).EnsureSuccess();
        var imageId = await ImageIdAsync(local);
        (await _tools.PodmanAsync(["push", .. _tools.PodmanRegistryOptions(), "--digestfile", digestFile, local, $"docker://{remote}"])).EnsureSuccess();
        var pushedDigest = (await File.ReadAllTextAsync(digestFile)).Trim();
        (await _tools.PodmanAsync("rmi", "--force", imageId)).EnsureSuccess();
        var gone = await _tools.PodmanAsync("image", "exists", imageId);
        Assert.True(gone.ExitCode == 1, "the image should be gone after rmi\n" + gone.Describe());

        (await _tools.PodmanAsync(["pull", .. _tools.PodmanRegistryOptions(), remote])).EnsureSuccess();

        Assert.Equal(imageId, await ImageIdAsync(remote));
        var digest = (await _tools.PodmanAsync("image", "inspect", "--format", "{{.Digest}}", remote)).EnsureSuccess().StandardOutput.Trim();
        Assert.Equal(pushedDigest, digest);
        await AssertRegistryServesManifestAsync("e2e/podman", "1", pushedDigest);

        // The bytes themselves: the pulled image's filesystem holds the payload that went into the archive.
        var mountPoint = (await _tools.PodmanAsync("image", "mount", remote)).EnsureSuccess().StandardOutput.Trim();
        try
        {
            var pulledPayload = await File.ReadAllBytesAsync(Path.Combine(mountPoint, "data", "payload.bin"));
            Assert.True(payload.AsSpan().SequenceEqual(pulledPayload),
                "the pulled image's /data/payload.bin differs from the imported one");
        }
        finally
        {
            await _tools.PodmanAsync("image", "unmount", remote);
        }
    }

    private async Task<string> ImageIdAsync(string reference) =>
        (await _tools.PodmanAsync("image", "inspect", "--format", "{{.Id}}", reference)).EnsureSuccess().StandardOutput.Trim();

    private async Task AssertRegistryServesManifestAsync(string repository, string tag, string digest)
    {
        using var client = server.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/manifests/{tag}");
        foreach (var type in new[] { OciMediaTypes.ImageManifest, "application/vnd.docker.distribution.manifest.v2+json" })
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }
        using var response = await client.SendAsync(request);
        await RegistryHttp.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Equal(digest, RegistryHttp.Header(response, "Docker-Content-Digest"));
        Assert.Equal(digest, OciLayoutBuilder.Sha256Digest(await response.Content.ReadAsByteArrayAsync()));
    }

    public void Dispose()
    {
        _tools.Dispose();
        _work.Dispose();
    }
}
