using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Berth.Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Berth.Reliability.Tests.CrashSafety;

/// <summary>
/// Pushes from many concurrent clients while the server is SIGKILLed at random moments, round after round on the
/// same data folder. After every restart, everything the server acknowledged must be there and verify, nothing
/// unverified may be served, and unfinished uploads must be resumable or cleanly unknown.
/// </summary>
public sealed class CrashSafetyTests(ITestOutputHelper output) : IDisposable
{
    private const int Rounds = 15;
    private const int Workers = 8;
    private static readonly string[] Repositories = ["crash/alpha", "crash/beta"];
    private static readonly string[] Tags = ["t0", "t1", "t2", "t3"];

    private readonly string _data = Directory.CreateTempSubdirectory("berth-crash-").FullName;

    [Fact]
    public async Task KilledDuringPushes_AcknowledgedPushesSurviveAndNothingUnverifiedIsServed()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("BERTH_CRASH_SEED"), out var fixedSeed) ? fixedSeed : Environment.TickCount & 0x7fffffff;
        Log($"crash test seed {seed} (set BERTH_CRASH_SEED={seed} to replay the kill schedule)");
        var random = new Random(seed);
        var ledger = new Ledger();
        var checkedPushes = 0;
        var clock = Stopwatch.StartNew();

        using var server = ReliabilityServer.Create(_data);
        await server.StartAsync();
        for (var round = 1; round <= Rounds; round++)
        {
            var killAfter = TimeSpan.FromMilliseconds(random.Next(150, 1300));
            var stop = new StopSignal();
            using (var client = server.CreateClient())
            {
                var workers = Enumerable.Range(0, Workers)
                    .Select(w => Task.Run(() => WorkAsync(client, new Random(HashCode.Combine(seed, round, w)), ledger, round, stop)))
                    .ToArray();
                await Task.Delay(killAfter);
                // Kill first, then tell the workers: in-flight requests must die with the server, not be cancelled by the client.
                server.Kill();
                stop.Stop();
                await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));
            }

            await server.StartAsync();
            using (var client = server.CreateClient())
            {
                var final = round == Rounds;
                var verified = await VerifyAsync(client, ledger, round, final ? int.MaxValue : 30, random, server);
                checkedPushes += verified;
                Log($"round {round}: killed after {killAfter.TotalMilliseconds:F0} ms, {ledger.RoundAcks(round)} pushes acknowledged, {verified} pushes verified after restart");
            }
        }

        Log($"crash test: {Rounds} kill rounds, {ledger.AckedBlobs.Count} blobs + {ledger.AckedManifests.Count} manifests + {ledger.AckedTags.Count} tags acknowledged, " +
            $"{checkedPushes} push verifications, {ledger.ResumedUploads} uploads resumed and {ledger.UnknownUploads} cleanly unknown after a kill, {clock.Elapsed.TotalSeconds:F0} s");
        Assert.True(ledger.AckedBlobs.Count > Rounds, "the workload acknowledged too few blobs to prove anything");
        Assert.True(ledger.AckedManifests.Count > Rounds / 2, "the workload acknowledged too few manifests to prove anything");
    }

    private static async Task WorkAsync(HttpClient client, Random random, Ledger ledger, int round, StopSignal stop)
    {
        // Bounded even if the kill never came: a round is about a second of work.
        for (var i = 0; i < 500 && !stop.Stopped; i++)
        {
            try
            {
                var repository = Repositories[random.Next(Repositories.Length)];
                var choice = random.Next(100);
                if (choice < 35) await PushMonolithicAsync(client, random, ledger, round, repository);
                else if (choice < 60) await PushChunkedAsync(client, random, ledger, round, repository);
                else await PushManifestAsync(client, random, ledger, round, repository);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                // The server died under the request: not acknowledged, nothing to record.
                if (!stop.Stopped) await Task.Delay(10);
            }
        }
    }

    private static async Task PushMonolithicAsync(HttpClient client, Random random, Ledger ledger, int round, string repository)
    {
        var content = RandomBytes(random, random.Next(1, 96 * 1024));
        var digest = DigestOf(content);
        ledger.AttemptedBlobs[digest] = (repository, content, round);
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await client.PostAsync($"/v2/{repository}/blobs/uploads/?digest={digest}", body);
        if (response.StatusCode == HttpStatusCode.Created) ledger.AckBlob(repository, digest, content, round);
    }

    private static async Task PushChunkedAsync(HttpClient client, Random random, Ledger ledger, int round, string repository)
    {
        var content = RandomBytes(random, random.Next(64 * 1024, 768 * 1024));
        var digest = DigestOf(content);
        ledger.AttemptedBlobs[digest] = (repository, content, round);
        using var start = await client.PostAsync($"/v2/{repository}/blobs/uploads/", null);
        if (start.StatusCode != HttpStatusCode.Accepted) return;
        var upload = new OpenUpload(repository, start.Headers.Location!.OriginalString, content, round);
        ledger.OpenUploads[upload.Location] = upload;

        var chunks = random.Next(2, 5);
        var chunkSize = content.Length / chunks + 1;
        var location = upload.Location;
        for (var offset = 0; offset < content.Length; offset += chunkSize)
        {
            var length = Math.Min(chunkSize, content.Length - offset);
            upload.InFlightEnd = offset + length;
            using var body = new ByteArrayContent(content, offset, length);
            body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var patch = new HttpRequestMessage(HttpMethod.Patch, location) { Content = body };
            patch.Content!.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{offset + length - 1}");
            using var response = await client.SendAsync(patch);
            if (response.StatusCode != HttpStatusCode.Accepted) throw new InvalidOperationException($"PATCH answered {(int)response.StatusCode}");
            upload.Acknowledged = offset + length;
            location = response.Headers.Location!.OriginalString;
        }
        // Some sessions are left open on purpose: a restart must keep them resumable (or forget them cleanly).
        if (random.Next(5) == 0) return;
        upload.Finishing = true;
        using var put = await client.PutAsync($"{location}?digest={digest}", null);
        if (put.StatusCode == HttpStatusCode.Created)
        {
            ledger.OpenUploads.TryRemove(upload.Location, out _);
            ledger.AckBlob(repository, digest, content, round);
        }
    }

    private static async Task PushManifestAsync(HttpClient client, Random random, Ledger ledger, int round, string repository)
    {
        var blobs = ledger.AckedBlobList(repository);
        if (blobs.Count < 2)
        {
            await PushMonolithicAsync(client, random, ledger, round, repository);
            return;
        }
        var config = blobs[random.Next(blobs.Count)];
        var layer = blobs[random.Next(blobs.Count)];
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = TestImage.ManifestMediaType,
            ["config"] = new JsonObject { ["mediaType"] = TestImage.ConfigMediaType, ["digest"] = config.Digest, ["size"] = config.Size },
            ["layers"] = new JsonArray(new JsonObject { ["mediaType"] = TestImage.LayerMediaType, ["digest"] = layer.Digest, ["size"] = layer.Size }),
            ["annotations"] = new JsonObject { ["org.example.nonce"] = Convert.ToHexString(RandomBytes(random, 8)) },
        };
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var digest = DigestOf(bytes);
        var tag = random.Next(3) == 0 ? null : Tags[random.Next(Tags.Length)];
        if (tag is not null) ledger.TagAttempts.GetOrAdd((repository, tag), _ => new ConcurrentDictionary<string, byte>())[digest] = 0;
        ledger.AttemptedManifests[(repository, digest)] = bytes;

        using var body = new ByteArrayContent(bytes);
        body.Headers.ContentType = new MediaTypeHeaderValue(TestImage.ManifestMediaType);
        using var response = await client.PutAsync($"/v2/{repository}/manifests/{tag ?? digest}", body);
        if (response.StatusCode == HttpStatusCode.Created)
        {
            ledger.AckedManifests[(repository, digest)] = (bytes, round);
            if (tag is not null) ledger.AckedTags[(repository, tag)] = round;
            ledger.CountAck(round);
        }
    }

    /// <summary>Checks the restarted server; returns how many acknowledged pushes it verified.</summary>
    private async Task<int> VerifyAsync(HttpClient client, Ledger ledger, int round, int olderSample, Random random, BerthProcess server)
    {
        var verified = 0;

        // 1. Acknowledged blobs: all from this round, a sample of the older ones (all of them in the last round).
        var blobs = ledger.AckedBlobs.Where(b => b.Value.Round == round).ToList();
        blobs.AddRange(ledger.AckedBlobs.Where(b => b.Value.Round != round).OrderBy(_ => random.Next()).Take(olderSample));
        foreach (var ((repository, digest), (content, _)) in blobs)
        {
            var served = await GetBlobAsync(client, repository, digest);
            Assert.True(served is not null, $"acknowledged blob {digest} in {repository} is gone after the kill\n{server.Tail}");
            Assert.True(content.AsSpan().SequenceEqual(served), $"acknowledged blob {digest} in {repository} came back with other bytes");
            verified++;
        }

        // 2. Blobs tried but not acknowledged this round: absent, or complete and verified; never partial.
        foreach (var (digest, (repository, content, _)) in ledger.AttemptedBlobs.Where(a => a.Value.Round == round && !ledger.AckedBlobs.ContainsKey((a.Value.Repository, a.Key))))
        {
            var served = await GetBlobAsync(client, repository, digest);
            if (served is not null) Assert.True(content.AsSpan().SequenceEqual(served), $"unacknowledged blob {digest} is served with bytes that are not its content");
        }

        // 3. Acknowledged manifests, and every blob they reference.
        var manifests = ledger.AckedManifests.Where(m => m.Value.Round == round).ToList();
        manifests.AddRange(ledger.AckedManifests.Where(m => m.Value.Round != round).OrderBy(_ => random.Next()).Take(olderSample));
        foreach (var ((repository, digest), (bytes, _)) in manifests)
        {
            var (served, servedDigest) = await GetManifestAsync(client, repository, digest);
            Assert.True(served is not null, $"acknowledged manifest {digest} in {repository} is gone after the kill");
            Assert.True(bytes.AsSpan().SequenceEqual(served), $"manifest {digest} came back with other bytes");
            Assert.Equal(digest, servedDigest);
            await AssertReferencedBlobsAsync(client, repository, served!);
            verified++;
        }

        // 4. Every tag ever acknowledged resolves to a manifest pushed under it, whose bytes and blobs verify.
        foreach (var ((repository, tag), _) in ledger.AckedTags)
        {
            var (served, servedDigest) = await GetManifestAsync(client, repository, tag);
            Assert.True(served is not null, $"tag {repository}:{tag} was acknowledged but no longer resolves");
            Assert.Equal(servedDigest, DigestOf(served!));
            Assert.True(ledger.TagAttempts[(repository, tag)].ContainsKey(servedDigest!), $"tag {tag} points at {servedDigest}, which was never pushed under it");
            await AssertReferencedBlobsAsync(client, repository, served!);
            verified++;
        }
        foreach (var repository in Repositories.Where(r => ledger.AckedTags.Keys.Any(k => k.Repository == r)))
        {
            using var list = await client.GetAsync($"/v2/{repository}/tags/list");
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            var listed = JsonDocument.Parse(await list.Content.ReadAsByteArrayAsync()).RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ToHashSet();
            Assert.All(ledger.AckedTags.Keys.Where(k => k.Repository == repository), k => Assert.Contains(k.Tag, listed));
        }

        // 5. Uploads that were open at the kill: resumable from a consistent offset, or cleanly unknown.
        foreach (var (location, upload) in ledger.OpenUploads.Where(u => u.Value.Round == round).ToList())
        {
            ledger.OpenUploads.TryRemove(location, out _);
            await ResumeOrForgetAsync(client, ledger, upload);
        }

        // 6. On disk: every file in the content store is exactly the content its name says.
        foreach (var file in Directory.EnumerateFiles(Path.Combine(server.DataDirectory, "storage", "blobs"), "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(file);
            var algorithm = Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(file)));
            Assert.Equal("sha256", algorithm);
            Assert.Equal(name, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(file))));
        }
        return verified;
    }

    private static async Task ResumeOrForgetAsync(HttpClient client, Ledger ledger, OpenUpload upload)
    {
        using var status = await client.GetAsync(upload.Location);
        if (status.StatusCode == HttpStatusCode.NotFound)
        {
            var body = await status.Content.ReadAsStringAsync();
            Assert.Contains("BLOB_UPLOAD_UNKNOWN", body);
            Interlocked.Increment(ref ledger.UnknownUploads);
            return;
        }
        Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
        var range = status.Headers.GetValues("Range").Single();
        var end = long.Parse(range[(range.IndexOf('-') + 1)..]);
        // "0-0" is both "empty" and "one byte" (as distribution reports it); the chunk offset decides which.
        var candidates = end == 0 ? new long[] { 0, 1 } : [end + 1];
        foreach (var offset in candidates)
        {
            Assert.True(offset >= upload.Acknowledged || candidates.Length > 1,
                $"upload {upload.Location} reports {offset} bytes but {upload.Acknowledged} were acknowledged");
            Assert.True(offset <= Math.Max(upload.InFlightEnd, upload.Acknowledged),
                $"upload {upload.Location} reports {offset} bytes but only {upload.InFlightEnd} were ever sent");
            if (offset < upload.Content.Length)
            {
                using var body = new ByteArrayContent(upload.Content, (int)offset, upload.Content.Length - (int)offset);
                body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                using var patch = new HttpRequestMessage(HttpMethod.Patch, upload.Location) { Content = body };
                patch.Content!.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{upload.Content.Length - 1}");
                using var patched = await client.SendAsync(patch);
                if (patched.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && offset != candidates[^1]) continue;
                Assert.Equal(HttpStatusCode.Accepted, patched.StatusCode);
            }
            var digest = DigestOf(upload.Content);
            using var put = await client.PutAsync($"{upload.Location}?digest={digest}", null);
            Assert.True(put.StatusCode == HttpStatusCode.Created, $"resuming {upload.Location} at {offset}: PUT answered {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
            var served = await GetBlobAsync(client, upload.Repository, digest);
            Assert.True(upload.Content.AsSpan().SequenceEqual(served), "a resumed upload does not read back as what was sent");
            ledger.AckBlob(upload.Repository, digest, upload.Content, upload.Round);
            Interlocked.Increment(ref ledger.ResumedUploads);
            return;
        }
    }

    private static async Task AssertReferencedBlobsAsync(HttpClient client, string repository, byte[] manifest)
    {
        var root = JsonDocument.Parse(manifest).RootElement;
        var descriptors = root.GetProperty("layers").EnumerateArray().Append(root.GetProperty("config"));
        foreach (var descriptor in descriptors)
        {
            var digest = descriptor.GetProperty("digest").GetString()!;
            var bytes = await GetBlobAsync(client, repository, digest);
            Assert.True(bytes is not null, $"manifest in {repository} references {digest}, which is not retrievable");
            Assert.Equal(descriptor.GetProperty("size").GetInt64(), bytes!.Length);
        }
    }

    /// <summary>The blob's bytes, verified against the digest, or null on 404 BLOB_UNKNOWN.</summary>
    private static async Task<byte[]?> GetBlobAsync(HttpClient client, string repository, string digest)
    {
        using var response = await client.GetAsync($"/v2/{repository}/blobs/{digest}");
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            Assert.Contains("BLOB_UNKNOWN", Encoding.UTF8.GetString(bytes));
            return null;
        }
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(digest, DigestOf(bytes));
        return bytes;
    }

    private static async Task<(byte[]? Content, string? Digest)> GetManifestAsync(HttpClient client, string repository, string reference)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{reference}");
        request.Headers.Accept.ParseAdd(TestImage.ManifestMediaType);
        using var response = await client.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.NotFound) return (null, null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var digest = response.Headers.GetValues("Docker-Content-Digest").Single();
        Assert.Equal(digest, DigestOf(bytes));
        return (bytes, digest);
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string DigestOf(byte[] content) => TestImage.DigestOf(content);

    private void Log(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class StopSignal
    {
        private volatile bool _stopped;
        public bool Stopped => _stopped;
        public void Stop() => _stopped = true;
    }

    private sealed class OpenUpload(string repository, string location, byte[] content, int round)
    {
        public string Repository { get; } = repository;
        public string Location { get; } = location;
        public byte[] Content { get; } = content;
        public int Round { get; } = round;
        public long Acknowledged { get; set; }
        public long InFlightEnd { get; set; }
        public bool Finishing { get; set; }
    }

    private sealed class Ledger
    {
        private readonly ConcurrentDictionary<int, int> _acksByRound = new();
        public ConcurrentDictionary<string, (string Repository, byte[] Content, int Round)> AttemptedBlobs { get; } = new();
        public ConcurrentDictionary<(string Repository, string Digest), (byte[] Content, int Round)> AckedBlobs { get; } = new();
        public ConcurrentDictionary<(string Repository, string Digest), byte[]> AttemptedManifests { get; } = new();
        public ConcurrentDictionary<(string Repository, string Digest), (byte[] Content, int Round)> AckedManifests { get; } = new();
        public ConcurrentDictionary<(string Repository, string Tag), ConcurrentDictionary<string, byte>> TagAttempts { get; } = new();
        public ConcurrentDictionary<(string Repository, string Tag), int> AckedTags { get; } = new();
        public ConcurrentDictionary<string, OpenUpload> OpenUploads { get; } = new();
        public int ResumedUploads;
        public int UnknownUploads;

        public void AckBlob(string repository, string digest, byte[] content, int round)
        {
            AckedBlobs[(repository, digest)] = (content, round);
            CountAck(round);
        }

        public void CountAck(int round) => _acksByRound.AddOrUpdate(round, 1, (_, n) => n + 1);

        public int RoundAcks(int round) => _acksByRound.GetValueOrDefault(round);

        public List<(string Digest, long Size)> AckedBlobList(string repository) =>
            AckedBlobs.Where(b => b.Key.Repository == repository).Select(b => (b.Key.Digest, (long)b.Value.Content.Length)).ToList();
    }
}
