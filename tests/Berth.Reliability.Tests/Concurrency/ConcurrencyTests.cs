using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Berth.Reliability.Tests.Concurrency;

/// <summary>Races on the same content: pushes, tag moves, deletes against pulls, mounts and pushes.</summary>
public sealed class ConcurrencyTests(UnthrottledBerthTestServer server) : IClassFixture<UnthrottledBerthTestServer>
{
    [Fact]
    public async Task SameBlobPushedBy20ClientsAtOnce_AllSucceedAndStoredOnce()
    {
        var content = RandomNumberGenerator.GetBytes(300 * 1024);
        var digest = TestImage.DigestOf(content);
        var clients = Enumerable.Range(0, 20).Select(_ => server.CreateClient(server.Client.DefaultRequestHeaders.Authorization)).ToList();
        using var start = new Barrier(20);
        var statuses = await Task.WhenAll(clients.Select((client, i) => Task.Run(async () =>
        {
            start.SignalAndWait();
            // Half monolithic, half as a session with one PATCH and a closing PUT: both paths commit the same file.
            if (i % 2 == 0)
            {
                using var body = Octets(content);
                using var response = await client.PostAsync($"/v2/race/same-blob/blobs/uploads/?digest={digest}", body);
                return response.StatusCode;
            }
            var location = await client.StartUploadAsync("race/same-blob");
            using (var patch = new HttpRequestMessage(HttpMethod.Patch, location) { Content = Octets(content) })
            using (var patched = await client.SendAsync(patch))
                Assert.Equal(HttpStatusCode.Accepted, patched.StatusCode);
            using var put = await client.PutAsync($"{location}?digest={digest}", null);
            return put.StatusCode;
        })));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Created, s));
        var files = Directory.EnumerateFiles(Path.Combine(server.DataPath, "storage", "blobs"), "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) == digest["sha256:".Length..]).ToList();
        Assert.Single(files);
        Assert.Equal(content, await File.ReadAllBytesAsync(files[0]));
        Assert.Equal(content, await server.Client.GetByteArrayAsync($"/v2/race/same-blob/blobs/{digest}"));
        foreach (var client in clients) client.Dispose();
    }

    [Fact]
    public async Task ConcurrentTagMoves_TagResolvesToOnePushedManifest()
    {
        const string repository = "race/tag-moves";
        var image = new TestImage();
        await server.Client.PushBlobAsync(repository, image.Layer);
        await server.Client.PushBlobAsync(repository, image.Config);
        var variants = Enumerable.Range(0, 12).Select(i => image.VariantManifest("v" + i)).ToList();
        var digests = variants.Select(TestImage.DigestOf).ToHashSet();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 48).Select(i => Task.Run(async () =>
        {
            using var body = new ByteArrayContent(variants[i % variants.Count]);
            body.Headers.ContentType = new MediaTypeHeaderValue(TestImage.ManifestMediaType);
            using var response = await server.Client.PutAsync($"/v2/{repository}/manifests/latest", body);
            return response.StatusCode;
        })));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Created, s));
        var (bytes, digest) = await GetManifestAsync(repository, "latest");
        Assert.Contains(digest, digests);
        Assert.Equal(digest, TestImage.DigestOf(bytes));
        Assert.Equal(bytes, (await GetManifestAsync(repository, digest)).Content);
        using var tags = await server.Client.GetAsync($"/v2/{repository}/tags/list");
        var listed = JsonDocument.Parse(await tags.Content.ReadAsStringAsync()).RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Equal(["latest"], listed);
        using var acr = await server.Client.GetAsync($"/acr/v1/{repository}/_tags/latest");
        Assert.Equal(HttpStatusCode.OK, acr.StatusCode);
        Assert.Equal(digest, JsonDocument.Parse(await acr.Content.ReadAsStringAsync()).RootElement.GetProperty("tag").GetProperty("digest").GetString());
    }

    [Fact]
    public async Task ManifestDeletedWhilePulled_PullsSeeWholeManifestOrNotFoundAndDeleteSticks()
    {
        const string repository = "race/delete-while-pull";
        var image = new TestImage();
        await server.Client.PushImageAsync(repository, image, "v1");

        using var stop = new CancellationTokenSource();
        var pulls = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var seen = new List<HttpStatusCode>();
            for (var n = 0; n < 200 && !stop.IsCancellationRequested; n++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{(i % 2 == 0 ? "v1" : image.ManifestDigest)}");
                request.Headers.Accept.ParseAdd(TestImage.ManifestMediaType);
                using var response = await server.Client.SendAsync(request);
                var bytes = await response.Content.ReadAsByteArrayAsync();
                if (response.StatusCode == HttpStatusCode.OK) Assert.Equal(image.Manifest, bytes);
                seen.Add(response.StatusCode);
            }
            return seen;
        })).ToList();
        await Task.Delay(50);
        using var delete = await server.Client.DeleteAsync($"/v2/{repository}/manifests/{image.ManifestDigest}");
        await Task.Delay(100);
        stop.Cancel();
        var statuses = (await Task.WhenAll(pulls)).SelectMany(s => s).ToList();

        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.NotFound, $"a pull answered {(int)s}"));
        Assert.Equal(HttpStatusCode.NotFound, (await TryGetManifestStatusAsync(repository, image.ManifestDigest)));
        Assert.Equal(HttpStatusCode.NotFound, (await TryGetManifestStatusAsync(repository, "v1")));
    }

    [Fact]
    public async Task BlobMountedWhileDeleted_MountsAreWholeOrFallBackAndSourceIsGone()
    {
        const string source = "race/mount-source";
        var content = RandomNumberGenerator.GetBytes(64 * 1024);
        var digest = await server.Client.PushBlobAsync(source, content);

        var mounts = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            using var response = await server.Client.PostAsync($"/v2/race/mount-target{i}/blobs/uploads/?mount={digest}&from={source}", null);
            return (Target: $"race/mount-target{i}", response.StatusCode);
        })).ToList();
        var delete = Task.Run(async () =>
        {
            using var response = await server.Client.DeleteAsync($"/v2/{source}/blobs/{digest}");
            return response.StatusCode;
        });
        var results = await Task.WhenAll(mounts);

        Assert.Equal(HttpStatusCode.Accepted, await delete);
        // A mount either happened (201, and the target serves the whole blob) or fell back to an upload session (202).
        foreach (var (target, status) in results)
        {
            Assert.True(status is HttpStatusCode.Created or HttpStatusCode.Accepted, $"mount into {target} answered {(int)status}");
            using var get = await server.Client.GetAsync($"/v2/{target}/blobs/{digest}");
            if (status == HttpStatusCode.Created)
            {
                Assert.Equal(HttpStatusCode.OK, get.StatusCode);
                Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
            }
            else
            {
                Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
            }
        }
        using var sourceGet = await server.Client.GetAsync($"/v2/{source}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.NotFound, sourceGet.StatusCode);
    }

    [Fact]
    public async Task RepositoryDeletedDuringPush_NoServerErrorAndEveryTagIsWhole()
    {
        const string repository = "race/delete-repo";
        await server.Client.PushImageAsync(repository, new TestImage(), "seed");
        var pushes = Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
        {
            var statuses = new List<(string What, HttpStatusCode Status)>();
            for (var n = 0; n < 4; n++)
            {
                var image = new TestImage(payloadSize: 2048);
                foreach (var blob in new[] { image.Layer, image.Config })
                {
                    using var body = Octets(blob);
                    using var response = await server.Client.PostAsync($"/v2/{repository}/blobs/uploads/?digest={TestImage.DigestOf(blob)}", body);
                    statuses.Add(("blob", response.StatusCode));
                }
                using var manifest = new ByteArrayContent(image.Manifest);
                manifest.Headers.ContentType = new MediaTypeHeaderValue(TestImage.ManifestMediaType);
                using var put = await server.Client.PutAsync($"/v2/{repository}/manifests/p{i}-{n}", manifest);
                statuses.Add(("manifest", put.StatusCode));
            }
            return statuses;
        })).ToList();
        var deletes = new List<HttpStatusCode>();
        for (var n = 0; n < 3; n++)
        {
            await Task.Delay(40);
            using var response = await server.Client.DeleteAsync($"/acr/v1/{repository}");
            deletes.Add(response.StatusCode);
        }
        var statuses = (await Task.WhenAll(pushes)).SelectMany(s => s).ToList();

        Assert.All(deletes, s => Assert.True(s is HttpStatusCode.Accepted or HttpStatusCode.OK or HttpStatusCode.NotFound, $"DELETE answered {(int)s}"));
        // A push racing the delete may lose its blobs (MANIFEST_BLOB_UNKNOWN, 400), but never with a server error.
        Assert.All(statuses, s => Assert.True(s.Status is HttpStatusCode.Created or HttpStatusCode.BadRequest, $"{s.What} push answered {(int)s.Status}"));
        using var tags = await server.Client.GetAsync($"/v2/{repository}/tags/list");
        if (tags.StatusCode == HttpStatusCode.NotFound) return;
        Assert.Equal(HttpStatusCode.OK, tags.StatusCode);
        foreach (var tag in JsonDocument.Parse(await tags.Content.ReadAsStringAsync()).RootElement.GetProperty("tags").EnumerateArray())
        {
            var (bytes, _) = await GetManifestAsync(repository, tag.GetString()!);
            var root = JsonDocument.Parse(bytes).RootElement;
            foreach (var descriptor in root.GetProperty("layers").EnumerateArray().Append(root.GetProperty("config")))
            {
                var digest = descriptor.GetProperty("digest").GetString()!;
                using var blob = await server.Client.GetAsync($"/v2/{repository}/blobs/{digest}");
                Assert.True(blob.StatusCode == HttpStatusCode.OK, $"tag {tag} references {digest}, which the repository no longer serves");
                Assert.Equal(digest, TestImage.DigestOf(await blob.Content.ReadAsByteArrayAsync()));
            }
        }
    }

    private static ByteArrayContent Octets(byte[] content)
    {
        var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return body;
    }

    private async Task<(byte[] Content, string Digest)> GetManifestAsync(string repository, string reference)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{reference}");
        request.Headers.Accept.ParseAdd(TestImage.ManifestMediaType);
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadAsByteArrayAsync(), response.Headers.GetValues("Docker-Content-Digest").Single());
    }

    private async Task<HttpStatusCode> TryGetManifestStatusAsync(string repository, string reference)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{reference}");
        request.Headers.Accept.ParseAdd(TestImage.ManifestMediaType);
        using var response = await server.Client.SendAsync(request);
        return response.StatusCode;
    }
}
