using System.Net;
using System.Net.Http.Headers;
using Berth.ScaleOut.Tests.Infrastructure;

namespace Berth.ScaleOut.Tests;

/// <summary>
/// A node dies (SIGKILL) while a chunk of a push is streaming into it. nginx sends everything after that to the
/// surviving node; the client asks where its upload stands, resumes, and retries the push. Whatever the registry had
/// acknowledged must be intact, and the image must pull back byte for byte.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class NodeFailureTests(Cluster cluster) : IDisposable
{
    private const string Repository = "scaleout/survivor";
    private const int ChunkSize = 1024 * 1024;
    private readonly TempDirectory _work = new("failure");

    [Fact(Timeout = 300_000)]
    public async Task NodeKilledDuringChunk_PushResumedAndRetriedThroughNginx_ImagePullsIdentical()
    {
        var image = MultiLayerImage.Create(_work.Combine("in"), "v1", 2 * 1024 * 1024, 4 * 1024 * 1024, 12 * 1024 * 1024);
        using var client = cluster.CreateHttpClient();
        BerthNode? killed = null;
        try
        {
            // Acknowledged before the failure: the config and the first layer whole, the big layer's first chunks.
            var acknowledgedBlobs = new[] { image.Config, image.Layers[0] };
            foreach (var blob in acknowledgedBlobs)
            {
                await RegistryHttp.PushBlobInTwoRequestsAsync(client, Repository, image.Blobs[blob.Digest]);
            }
            var big = image.Blobs[image.Layers[2].Digest];
            var upload = await ChunkedUpload.StartAsync(client, Repository);
            for (var i = 0; i < 4; i++)
            {
                await upload.PatchAsync(big.AsMemory(i * ChunkSize, ChunkSize));
            }
            var acknowledged = upload.Acknowledged;

            // The next request goes to the node that did not serve the last one (round-robin, one nginx worker).
            var log = await cluster.Nginx.ReadAccessLogAsync(
                entries => entries.Count(e => e.Method == "PATCH" && e.Uri.Contains(upload.Id, StringComparison.Ordinal)) == 4, "the four PATCHes");
            var lastServedBy = log[^1].ServedBy!;
            killed = cluster.Nodes.Single(n => n.Address != lastServedBy);
            var survivor = cluster.NodeAt(lastServedBy);
            var logBefore = log.Count;
            var sentBeforeKill = await SendChunkAndKillMidwayAsync(upload, big, acknowledged, killed);
            var interrupted = await cluster.Nginx.WaitForAccessLogEntryAsync(logBefore);
            var killedAt = logBefore + 1;

            // The interrupted PATCH went to the killed node and was not acknowledged.
            Assert.Equal(("PATCH", killed.Address), (interrupted.Method, interrupted.Upstreams[0]));
            Assert.True(interrupted.Status >= 500, $"the interrupted PATCH answered {interrupted.Status}");

            // The survivor knows the upload: at least what was acknowledged, at most what was sent (bytes the dead
            // node had written before it died count; they are the right bytes, so the client resumes after them).
            var offset = await upload.GetStatusAsync();
            Assert.InRange(offset, acknowledged, acknowledged + sentBeforeKill);
            for (var start = (int)offset; start < big.Length; start += ChunkSize)
            {
                await upload.PatchAsync(big.AsMemory(start, Math.Min(ChunkSize, big.Length - start)));
            }
            await upload.FinishAsync(image.Layers[2].Digest);

            // The client retries the whole push: skopeo finds what is there and sends the rest and the manifest.
            using var tools = new ContainerTools(cluster);
            (await tools.SkopeoCopyAsync(image.OciReference, tools.RegistryReference(Repository, "v1"))).EnsureSuccess();
            (await tools.SkopeoCopyAsync(tools.RegistryReference(Repository, "v1"), $"oci:{_work.Combine("out")}:v1")).EnsureSuccess();
            OciLayout.AssertSameBlobs(image.LayoutDirectory, _work.Combine("out"));
            foreach (var blob in acknowledgedBlobs.Append(image.Layers[2]))
            {
                using var response = await client.GetAsync($"v2/{Repository}/blobs/{blob.Digest}");
                await RegistryHttp.ExpectAsync(response, HttpStatusCode.OK);
                var readBack = await response.Content.ReadAsByteArrayAsync();
                Assert.True(image.Blobs[blob.Digest].AsSpan().SequenceEqual(readBack), $"blob {blob.Digest} changed");
            }

            // After the kill every response came from the survivor, some after nginx found the dead node refusing.
            var afterKill = cluster.Nginx.ReadAccessLog().Skip(killedAt).Where(e => e.Proxied).ToList();
            Assert.All(afterKill, e => Assert.Equal(survivor.Address, e.ServedBy));
        }
        finally
        {
            if (killed is not null)
            {
                await killed.StartAsync();
                await cluster.WaitUntilBalancedAsync();
            }
        }

        Assert.NotNull(killed);
        // The restarted node serves the image too (it kept nothing of its own that the push needed).
        using var direct = killed.CreateHttpClient(cluster.Credentials);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{Repository}/manifests/v1");
        request.Headers.Accept.ParseAdd(OciMediaTypes.ImageManifest);
        using var manifest = await direct.SendAsync(request);
        await RegistryHttp.ExpectAsync(manifest, HttpStatusCode.OK);
        var manifestBytes = await manifest.Content.ReadAsByteArrayAsync();
        Assert.True(image.Blobs[image.Manifest.Digest].AsSpan().SequenceEqual(manifestBytes), "the restarted node serves a different manifest");
    }

    /// <summary>
    /// Streams the next chunk (4 MiB) but stops after 2.5 MiB, kills <paramref name="node"/> (which is receiving it),
    /// and lets the request fail. Returns how many bytes of the chunk had been sent.
    /// </summary>
    private async Task<long> SendChunkAndKillMidwayAsync(ChunkedUpload upload, byte[] blob, long start, BerthNode node)
    {
        const int chunkLength = 4 * ChunkSize;
        const int sentBeforeKill = 5 * ChunkSize / 2;
        var paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var content = new PausingContent(blob.AsMemory((int)start, chunkLength), sentBeforeKill, paused, resume.Task);
        using var request = upload.PatchRequest(content, start, chunkLength);
        using var client = cluster.CreateHttpClient();
        var send = client.SendAsync(request);

        await paused.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // Give nginx and the node a moment to pass on and write what was sent, then pull the plug.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.True(node.IsRunning, $"node {node.Name} stopped before it was killed\n{cluster.Diagnostics()}");
        node.Kill();
        resume.SetResult();
        try
        {
            using var response = await send.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True((int)response.StatusCode >= 500, $"the PATCH into the killed node answered {(int)response.StatusCode}");
        }
        catch (HttpRequestException)
        {
            // nginx may close the connection while the rest of the body is still being sent.
        }
        return sentBeforeKill;
    }

    public void Dispose() => _work.Dispose();

    /// <summary>A known-length body that sends its first part, signals, and waits before sending the rest.</summary>
    private sealed class PausingContent(ReadOnlyMemory<byte> data, int pauseAfter, TaskCompletionSource paused, Task resume) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(data[..pauseAfter]);
            await stream.FlushAsync();
            paused.TrySetResult();
            await resume;
            await stream.WriteAsync(data[pauseAfter..]);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = data.Length;
            return true;
        }
    }
}
