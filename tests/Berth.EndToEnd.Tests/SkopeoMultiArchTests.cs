using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Berth.EndToEnd.Tests.Infrastructure;

namespace Berth.EndToEnd.Tests;

/// <summary>A multi-platform index and an artifact that refers to it, as supply-chain tooling pushes them.</summary>
public sealed class SkopeoMultiArchTests(BerthServer server) : IClassFixture<BerthServer>, IDisposable
{
    private const string SbomArtifactType = "application/vnd.example.sbom";

    private readonly ContainerTools _tools = new(server);
    private readonly TempDirectory _work = new("multiarch");

    [Fact]
    public async Task SkopeoCopyAll_MultiArchIndexIntoBerthAndBack_EveryBlobAndTheIndexDigestAreUnchanged()
    {
        var (input, index) = BuildMultiArchLayout("input");
        var output = _work.Combine("output");
        var destination = _tools.RegistryReference("e2e/multiarch", "v1");

        (await _tools.SkopeoCopyAsync($"oci:{input}:v1", destination, "--all")).EnsureSuccess();
        (await _tools.SkopeoCopyAsync(destination, $"oci:{output}:v1", "--all")).EnsureSuccess();

        Assert.Equal(index.Digest, OciLayout.FindReference(output, "v1")["digest"]!.GetValue<string>());
        OciLayout.AssertSameBlobs(input, output);
    }

    [Fact]
    public async Task ArtifactWithIndexAsSubject_IsListedByTheReferrersApi()
    {
        var (input, index) = BuildMultiArchLayout("referrers-input");
        const string repository = "e2e/referred";
        (await _tools.SkopeoCopyAsync($"oci:{input}:v1", _tools.RegistryReference(repository, "v1"), "--all")).EnsureSuccess();

        // The artifact goes in the way supply-chain tools publish one: its own manifest, pushed by a real client.
        var artifactLayout = new OciLayoutBuilder(_work.Combine("artifact"));
        var emptyConfig = artifactLayout.AddBlob("{}"u8.ToArray(), OciMediaTypes.Empty);
        Assert.Equal(Descriptor.EmptyConfig, emptyConfig);
        var sbom = artifactLayout.AddBlob(Encoding.UTF8.GetBytes("""{"spdxVersion":"SPDX-2.3","name":"berth-e2e"}"""), "application/spdx+json");
        var artifact = artifactLayout.AddImageManifest(emptyConfig, [sbom], artifactType: SbomArtifactType, subject: index with { Platform = null });
        artifactLayout.Tag(artifact, "sbom");
        (await _tools.SkopeoCopyAsync($"oci:{artifactLayout.Directory}:sbom", _tools.RegistryReference(repository, "sbom"))).EnsureSuccess();

        using var client = server.CreateHttpClient();
        using (var head = new HttpRequestMessage(HttpMethod.Head, $"v2/{repository}/manifests/sbom"))
        {
            head.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OciMediaTypes.ImageManifest));
            using var stored = await client.SendAsync(head);
            await RegistryHttp.ExpectAsync(stored, HttpStatusCode.OK);
            // Same digest means skopeo pushed our exact bytes, subject included.
            Assert.Equal(artifact.Digest, RegistryHttp.Header(stored, "Docker-Content-Digest"));
        }

        using var referrers = await client.GetAsync($"v2/{repository}/referrers/{index.Digest}");
        await RegistryHttp.ExpectAsync(referrers, HttpStatusCode.OK);
        Assert.Equal(OciMediaTypes.ImageIndex, referrers.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(await referrers.Content.ReadAsStringAsync())!;
        Assert.Equal(2, body["schemaVersion"]!.GetValue<int>());
        Assert.Equal(OciMediaTypes.ImageIndex, body["mediaType"]!.GetValue<string>());
        var listed = Assert.Single(body["manifests"]!.AsArray(), m => m!["digest"]!.GetValue<string>() == artifact.Digest)!;
        Assert.Equal(OciMediaTypes.ImageManifest, listed["mediaType"]!.GetValue<string>());
        Assert.Equal(artifact.Size, listed["size"]!.GetValue<long>());
        Assert.Equal(SbomArtifactType, listed["artifactType"]!.GetValue<string>());
    }

    /// <summary>An index of linux/amd64 and linux/arm64 images, each with its own random layer.</summary>
    private (string Directory, Descriptor Index) BuildMultiArchLayout(string name)
    {
        var layout = new OciLayoutBuilder(_work.Combine(name));
        var amd64 = layout.AddRandomImage("linux", "amd64", 256 * 1024);
        var arm64 = layout.AddRandomImage("linux", "arm64", 300 * 1024);
        var index = layout.AddImageIndex([amd64, arm64]);
        layout.Tag(index, "v1");
        return (layout.Directory, index);
    }

    public void Dispose()
    {
        _tools.Dispose();
        _work.Dispose();
    }
}
