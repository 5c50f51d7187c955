using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Berth.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// A blob far larger than any buffer the server may keep: pushed in chunks and pulled back, with the
/// server's memory measured from the outside. Streaming is the property under test, so the test itself
/// never holds the blob either: it generates the bytes as it sends them and hashes them as it reads.
/// </summary>
public sealed class LargeBlobTests(BerthServer server, ITestOutputHelper output) : IClassFixture<BerthServer>
{
    private const long BlobSize = 2L * 1024 * 1024 * 1024;
    private const int ChunkSize = 64 * 1024 * 1024;
    private const long MaxPeakGrowthBytes = 512L * 1024 * 1024;
    private const long RequiredFreeDisk = 5L * 1024 * 1024 * 1024; // the blob, an upload copy, and headroom

    [Fact]
    public async Task TwoGiBBlob_PushedInChunksAndPulledBack_HashesMatchAndServerMemoryStaysFlat()
    {
        var freeDisk = new DriveInfo(server.DataDirectory).AvailableFreeSpace;
        Assert.True(freeDisk >= RequiredFreeDisk,
            $"This test needs {RequiredFreeDisk >> 30} GiB free under {server.DataDirectory}; only {freeDisk >> 20} MiB are free.");

        const string repository = "e2e/large";
        using var client = server.CreateHttpClient(TimeSpan.FromMinutes(10));
        using (var ping = await client.GetAsync("v2/"))
        {
            await RegistryHttp.ExpectAsync(ping, HttpStatusCode.OK);
        }
        var rssBefore = server.ReadProcStatusKiB("VmRSS");
        var peakBefore = server.ReadProcStatusKiB("VmHWM");
        var stopwatch = Stopwatch.StartNew();

        // Push: one session, 32 PATCHes of 64 MiB, then a PUT with the digest and no body.
        using var start = await client.PostAsync($"v2/{repository}/blobs/uploads/", content: null);
        await RegistryHttp.ExpectAsync(start, HttpStatusCode.Accepted);
        var location = RegistryHttp.ResolveLocation(start, client);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (long offset = 0; offset < BlobSize; offset += ChunkSize)
        {
            var length = (int)Math.Min(ChunkSize, BlobSize - offset);
            using var patch = new HttpRequestMessage(HttpMethod.Patch, location)
            {
                Content = new GeneratedChunkContent(offset, length, sha),
            };
            patch.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            patch.Content.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{offset + length - 1}");
            using var accepted = await client.SendAsync(patch);
            await RegistryHttp.ExpectAsync(accepted, HttpStatusCode.Accepted);
            Assert.Equal($"0-{offset + length - 1}", RegistryHttp.Header(accepted, "Range"));
            location = RegistryHttp.ResolveLocation(accepted, client);
        }
        var digest = "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset());
        using (var put = new HttpRequestMessage(HttpMethod.Put, RegistryHttp.AppendQuery(location, "digest=" + Uri.EscapeDataString(digest))))
        {
            put.Content = new ByteArrayContent([]);
            using var created = await client.SendAsync(put);
            await RegistryHttp.ExpectAsync(created, HttpStatusCode.Created);
            Assert.Equal(digest, RegistryHttp.Header(created, "Docker-Content-Digest"));
        }
        var pushTime = stopwatch.Elapsed;

        // Pull: stream the body through a hash; the length and the digest must both come back.
        stopwatch.Restart();
        using (var get = await client.GetAsync($"v2/{repository}/blobs/{digest}", HttpCompletionOption.ResponseHeadersRead))
        {
            await RegistryHttp.ExpectAsync(get, HttpStatusCode.OK);
            Assert.Equal(BlobSize, get.Content.Headers.ContentLength);
            await using var body = await get.Content.ReadAsStreamAsync();
            var buffer = new byte[1024 * 1024];
            long received = 0;
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                received += read;
            }
            Assert.Equal(BlobSize, received);
            Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset()));
        }
        var pullTime = stopwatch.Elapsed;

        var rssAfter = server.ReadProcStatusKiB("VmRSS");
        var peakAfter = server.ReadProcStatusKiB("VmHWM");
        var growthBytes = (peakAfter - rssBefore) * 1024;
        var report =
            $"2 GiB blob: server peak RSS grew by {growthBytes / (1024.0 * 1024):F0} MiB " +
            $"(RSS before {rssBefore / 1024} MiB, peak before {peakBefore / 1024} MiB, peak after {peakAfter / 1024} MiB, RSS after {rssAfter / 1024} MiB; " +
            $"push {pushTime.TotalSeconds:F1} s = {BlobSize / pushTime.TotalSeconds / (1 << 20):F0} MiB/s, pull {pullTime.TotalSeconds:F1} s = {BlobSize / pullTime.TotalSeconds / (1 << 20):F0} MiB/s)";
        output.WriteLine(report);
        // Also on the test host's own stdout, so the figure reaches the `dotnet test` log for passing runs too.
        Console.WriteLine(report);
        MeasurementLog.Write(report);

        Assert.True(growthBytes < MaxPeakGrowthBytes, report + $"; the limit is {MaxPeakGrowthBytes >> 20} MiB");
    }

    /// <summary>
    /// Request content that generates one chunk of pseudo-random bytes as it is sent (SplitMix64 seeded by
    /// the chunk's offset, so a resend is identical) and feeds them to the running blob hash the first time.
    /// </summary>
    private sealed class GeneratedChunkContent(long offset, int length, IncrementalHash sha) : HttpContent
    {
        private bool _hashed;

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var buffer = new byte[1024 * 1024];
            var state = (ulong)offset * 0x9E3779B97F4A7C15UL + 0x1234567;
            for (var sent = 0; sent < length; sent += buffer.Length)
            {
                var count = Math.Min(buffer.Length, length - sent);
                Fill(buffer, ref state);
                if (!_hashed) sha.AppendData(buffer, 0, count);
                await stream.WriteAsync(buffer.AsMemory(0, count));
            }
            _hashed = true;
        }

        protected override bool TryComputeLength(out long length1)
        {
            length1 = length;
            return true;
        }

        private static void Fill(byte[] buffer, ref ulong state)
        {
            foreach (ref var word in MemoryMarshal.Cast<byte, ulong>(buffer.AsSpan()))
            {
                var z = state += 0x9E3779B97F4A7C15UL;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                word = z ^ (z >> 31);
            }
        }
    }
}
