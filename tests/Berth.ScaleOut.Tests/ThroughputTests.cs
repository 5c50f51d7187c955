using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Berth.ScaleOut.Tests.Infrastructure;

namespace Berth.ScaleOut.Tests;

/// <summary>
/// Push and pull rates of one large blob through nginx, written to the measurements file scripts/test.sh prints. Only
/// correctness is asserted: the figures depend on the machine and on whatever else runs on it.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ThroughputTests(Cluster cluster) : IDisposable
{
    private const long BlobSize = 256L * 1024 * 1024;
    private const string Repository = "scaleout/throughput";
    private readonly TempDirectory _work = new("throughput");

    [Fact(Timeout = 600_000)]
    public async Task LargeBlob_PushedAndPulledThroughNginx_RecordsThroughput()
    {
        var path = _work.Combine("blob.bin");
        var digest = await WriteRandomFileAsync(path, BlobSize);
        using var client = cluster.CreateHttpClient();

        // POST then one streamed PUT: the POST and the PUT land on different nodes.
        var pushTime = Stopwatch.StartNew();
        using (var start = await client.PostAsync($"v2/{Repository}/blobs/uploads/", content: null))
        {
            await RegistryHttp.ExpectAsync(start, HttpStatusCode.Accepted);
            await using var file = File.OpenRead(path);
            using var put = new HttpRequestMessage(HttpMethod.Put, RegistryHttp.AppendQuery(RegistryHttp.ResolveLocation(start, client), "digest=" + Uri.EscapeDataString(digest)))
            {
                Content = new StreamContent(file, 1024 * 1024),
            };
            put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var finish = await client.SendAsync(put);
            await RegistryHttp.ExpectAsync(finish, HttpStatusCode.Created);
        }
        pushTime.Stop();

        // Two pulls: round-robin serves one from each node.
        var pulls = new List<(string Node, double Seconds)>();
        for (var i = 0; i < 2; i++)
        {
            var logStart = cluster.Nginx.ReadAccessLog().Count;
            var pullTime = Stopwatch.StartNew();
            using var response = await client.GetAsync($"v2/{Repository}/blobs/{digest}", HttpCompletionOption.ResponseHeadersRead);
            await RegistryHttp.ExpectAsync(response, HttpStatusCode.OK);
            await using var body = await response.Content.ReadAsStreamAsync();
            var (pulledDigest, pulledBytes) = await HashAsync(body);
            pullTime.Stop();
            Assert.Equal((digest, BlobSize), (pulledDigest, pulledBytes));
            var servedBy = (await cluster.Nginx.WaitForAccessLogEntryAsync(logStart)).ServedBy!;
            pulls.Add((cluster.NodeAt(servedBy).Name, pullTime.Elapsed.TotalSeconds));
        }

        MeasurementLog.Write(
            $"Scale-out, 2 nodes behind nginx ({cluster.Services.Description}): {BlobSize / (1024 * 1024)} MiB blob push {Rate(pushTime.Elapsed.TotalSeconds)}, " +
            string.Join(", ", pulls.Select(p => $"pull from node {p.Node} {Rate(p.Seconds)}")));
    }

    public void Dispose() => _work.Dispose();

    private static string Rate(double seconds) => $"{BlobSize / (1024.0 * 1024.0) / seconds:F0} MiB/s ({seconds:F2} s)";

    private static async Task<string> WriteRandomFileAsync(string path, long size)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[4 * 1024 * 1024];
        await using var file = File.Create(path);
        for (long written = 0; written < size; written += buffer.Length)
        {
            RandomNumberGenerator.Fill(buffer);
            hash.AppendData(buffer);
            await file.WriteAsync(buffer);
        }
        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static async Task<(string Digest, long Length)> HashAsync(Stream stream)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1024 * 1024];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            total += read;
        }
        return ("sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset()), total);
    }
}
