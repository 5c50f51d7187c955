using System.Net;
using System.Security.Cryptography;
using Berth.ScaleOut.Tests.Infrastructure;

namespace Berth.ScaleOut.Tests;

/// <summary>Pushes and pulls through nginx, where consecutive requests of one push land on different nodes.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ImageTransferTests(Cluster cluster) : IDisposable
{
    private readonly TempDirectory _work = new("transfer");

    [Fact(Timeout = 300_000)]
    public async Task SkopeoCopy_MultiLayerImage_RoundTripsByteIdenticalThroughBothNodes()
    {
        var image = MultiLayerImage.Create(_work.Combine("in"), "v1", 512 * 1024, 3 * 1024 * 1024, 6 * 1024 * 1024, 9 * 1024 * 1024);
        using var tools = new ContainerTools(cluster);
        var logStart = cluster.Nginx.ReadAccessLog().Count;

        (await tools.SkopeoCopyAsync(image.OciReference, tools.RegistryReference("scaleout/multilayer", "v1"))).EnsureSuccess();
        var push = cluster.Nginx.ReadAccessLog().Skip(logStart).Where(e => e.Proxied).ToList();
        (await tools.SkopeoCopyAsync(tools.RegistryReference("scaleout/multilayer", "v1"), $"oci:{_work.Combine("out")}:v1")).EnsureSuccess();

        OciLayout.AssertSameBlobs(image.LayoutDirectory, _work.Combine("out"));
        // Every blob upload of the push went through more than one request, and the push as a whole used both nodes.
        Assert.Equal(cluster.Nodes.Select(n => n.Address).Order(), push.Select(e => e.ServedBy!).Distinct().Order());
        Assert.All(push, e => Assert.True(e.Status < 500, $"{e.Method} {e.Uri} answered {e.Status}\n{cluster.Diagnostics()}"));
    }

    [Fact(Timeout = 120_000)]
    public async Task ChunkedUpload_RequestsAlternateNodes_BlobVerifiesAndReadsBackFromBoth()
    {
        // skopeo sends each blob as one PATCH, so a spread-out chunked upload is driven here by hand.
        var content = RandomNumberGenerator.GetBytes(6 * 1024 * 1024 + 12345);
        var digest = OciLayoutBuilder.Sha256Digest(content);
        using var client = cluster.CreateHttpClient();
        var logStart = cluster.Nginx.ReadAccessLog().Count;

        var upload = await ChunkedUpload.StartAsync(client, "scaleout/chunked");
        const int chunkSize = 1024 * 1024;
        for (var offset = 0; offset < content.Length; offset += chunkSize)
        {
            await upload.PatchAsync(content.AsMemory(offset, Math.Min(chunkSize, content.Length - offset)));
        }
        await upload.FinishAsync(digest);

        // The POST, seven PATCHes and the PUT.
        var log = await cluster.Nginx.ReadAccessLogAsync(logStart + 9);
        var requests = log.Skip(logStart).Where(e => e.Uri.Contains(upload.Id, StringComparison.Ordinal)).ToList();
        Assert.Equal(7 + 1, requests.Count); // seven PATCHes and the PUT (the POST's URL has no id yet)
        Assert.Equal(cluster.Nodes.Select(n => n.Address).Order(), requests.Select(e => e.ServedBy!).Distinct().Order());

        // Read it back twice: round-robin sends the two GETs to different nodes.
        for (var i = 0; i < 2; i++)
        {
            using var response = await client.GetAsync($"v2/scaleout/chunked/blobs/{digest}");
            await RegistryHttp.ExpectAsync(response, HttpStatusCode.OK);
            var readBack = await response.Content.ReadAsByteArrayAsync();
            Assert.True(content.AsSpan().SequenceEqual(readBack), "the blob read back differs from what was uploaded");
        }
    }

    public void Dispose() => _work.Dispose();
}
