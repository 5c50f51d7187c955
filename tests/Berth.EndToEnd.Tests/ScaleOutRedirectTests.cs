using System.Net;
using Berth.EndToEnd.Tests.Infrastructure;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// skopeo and podman against the scale-out configuration (PostgreSQL + Azure Blob Storage on Azurite) with blob
/// downloads redirected to the object store: pushes go through Berth, layer downloads follow the 307 to a signed URL.
/// </summary>
public sealed class ScaleOutRedirectTests(ScaleOutBerthServer server) : IClassFixture<ScaleOutBerthServer>, IDisposable
{
    private readonly ContainerTools _tools = new(server);
    private readonly TempDirectory _work = new("scaleout");

    [Fact]
    public async Task SkopeoCopy_MultiLayerImageIntoBerthAndBack_FollowsTheRedirectAndKeepsEveryByte()
    {
        var input = _work.Combine("input");
        var output = _work.Combine("output");
        var layout = new OciLayoutBuilder(input);
        var layers = new List<Descriptor>();
        var diffIds = new System.Text.Json.Nodes.JsonArray();
        foreach (var (name, size) in new[] { ("base.bin", 5 * 1024 * 1024 + 11), ("app.bin", 700_000), ("config.bin", 3_000) })
        {
            var (layer, diffId) = OciLayoutBuilder.RandomLayer(name, size);
            layers.Add(layout.AddBlob(layer, OciMediaTypes.LayerGzip));
            diffIds.Add(diffId);
        }
        var config = new System.Text.Json.Nodes.JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["config"] = new System.Text.Json.Nodes.JsonObject(),
            ["rootfs"] = new System.Text.Json.Nodes.JsonObject { ["type"] = "layers", ["diff_ids"] = diffIds },
        };
        var configDescriptor = layout.AddBlob(System.Text.Encoding.UTF8.GetBytes(config.ToJsonString()), OciMediaTypes.ImageConfig);
        var manifest = layout.AddImageManifest(configDescriptor, layers);
        layout.Tag(manifest, "v1");

        var destination = _tools.RegistryReference("e2e/scaleout", "v1");
        (await _tools.SkopeoCopyAsync($"oci:{input}:v1", destination)).EnsureSuccess();
        await AssertRedirectsToStorageAsync("e2e/scaleout", layers[0].Digest);
        (await _tools.SkopeoCopyAsync(destination, $"oci:{output}:v1")).EnsureSuccess();

        Assert.Equal(manifest.Digest, OciLayout.FindReference(output, "v1")["digest"]!.GetValue<string>());
        OciLayout.AssertSameBlobs(input, output);

        // podman pulls the same image: its layer downloads take the same redirect.
        var remote = $"{server.Host}/e2e/scaleout:v1";
        (await _tools.PodmanAsync(["pull", .. _tools.PodmanRegistryOptions(), remote])).EnsureSuccess();
        var pulled = (await _tools.PodmanAsync("image", "inspect", "--format", "{{.Digest}}", remote)).EnsureSuccess().StandardOutput.Trim();
        Assert.Equal(manifest.Digest, pulled);
    }

    /// <summary>The registry answers a blob GET with 307 to Azurite, and the signed URL alone serves the layer.</summary>
    private async Task AssertRedirectsToStorageAsync(string repository, string digest)
    {
        using var client = server.CreateHttpClient();
        using var response = await client.GetAsync($"v2/{repository}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.Equal(server.StorageEndpoint.GetLeftPart(UriPartial.Authority), location.GetLeftPart(UriPartial.Authority));
        using var storage = new HttpClient();
        var bytes = await storage.GetByteArrayAsync(location);
        Assert.Equal(digest, OciLayoutBuilder.Sha256Digest(bytes));
    }

    public void Dispose()
    {
        _tools.Dispose();
        _work.Dispose();
    }
}
