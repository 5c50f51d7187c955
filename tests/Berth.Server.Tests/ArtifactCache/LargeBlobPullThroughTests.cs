using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Berth.Server.Tests.ArtifactCache;

/// <summary>A large layer through the cache: concurrent first pulls share one upstream fetch, and a crash mid-fetch leaves nothing visible.</summary>
public sealed class LargeBlobPullThroughTests : IAsyncLifetime
{
    private const long LayerSize = 256L << 20;
    private DistributionRegistry _upstream = null!;
    private readonly TempDirectory _work = new("cache-large");

    public async Task InitializeAsync() => _upstream = await DistributionRegistry.StartAsync(basicAuth: false);

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        _work.Dispose();
    }

    /// <summary>Writes <paramref name="size"/> random bytes to a file and pushes them to the upstream as a blob of <paramref name="repository"/>.</summary>
    private async Task<string> PushRandomBlobAsync(string repository, long size)
    {
        var path = _work.Combine($"blob-{Guid.NewGuid():N}");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var file = File.Create(path))
        {
            var buffer = new byte[1 << 20];
            for (long written = 0; written < size; written += buffer.Length)
            {
                Random.Shared.NextBytes(buffer);
                hash.AppendData(buffer);
                await file.WriteAsync(buffer);
            }
        }
        var digest = "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
        using var client = new HttpClient { BaseAddress = new Uri($"http://{_upstream.Host}/"), Timeout = TimeSpan.FromMinutes(5) };
        using var start = await client.PostAsync($"v2/{repository}/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var location = start.Headers.Location!.ToString();
        await using var body = File.OpenRead(path);
        using var content = new StreamContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var put = await client.PutAsync($"{location}{(location.Contains('?') ? '&' : '?')}digest={digest}", content);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        File.Delete(path);
        return digest;
    }

    private static async Task<(HttpStatusCode Status, string Digest)> DownloadDigestAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        return (response.StatusCode, "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(stream)));
    }

    /// <summary>Signs in as the owner (from the data folder) and PUTs a cache rule into the default registry of a server process.</summary>
    private static async Task CreateRuleAsync(BerthProcess berth, string dataPath, string name, string source, string target)
    {
        var owner = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(dataPath, "management", "owner.json")))!;
        var registry = (string)JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(dataPath, "admin-credentials.json")))!["registry"]!;
        using var client = berth.CreateClient();
        client.DefaultRequestHeaders.Authorization = null;
        using var signIn = await client.PostAsync("/adfs/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = (string)owner["clientId"]!,
            ["grant_type"] = "client_credentials",
            ["client_secret"] = (string)owner["clientSecret"]!,
            ["scope"] = ManagementAccess.ArmResource + "/.default",
        }));
        var token = (string)JsonNode.Parse(await signIn.Content.ReadAsStringAsync())!["access_token"]!;
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var path = $"/subscriptions/{owner["subscriptionId"]}/resourceGroups/{owner["resourceGroup"]}/providers/Microsoft.ContainerRegistry/registries/{registry}/cacheRules/{name}";
        using var put = await client.PutAsJsonAsync($"{path}?api-version=2023-01-01-preview",
            new JsonObject { ["properties"] = new JsonObject { ["sourceRepository"] = source, ["targetRepository"] = target } });
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task EightSimultaneousFirstPulls_OfA256MiBLayer_MakeOneUpstreamFetch_AndAllGetIdenticalBytes()
    {
        var digest = await PushRandomBlobAsync("library/big", LayerSize);
        await using var berth = new CacheBerthServer(_upstream.Host);
        await berth.InitializeAsync();
        await berth.CreateRuleAsync("big-rule", $"{_upstream.Host}/library/big", "big", null);

        using var client = berth.CreateClient(BerthTestServer.BasicAuthorization(berth.AdminUsername, berth.AdminPassword));
        client.Timeout = TimeSpan.FromMinutes(5);
        var pulls = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => DownloadDigestAsync(client, $"v2/big/blobs/{digest}")));

        Assert.All(pulls, pull => Assert.Equal((HttpStatusCode.OK, digest), pull));
        Assert.Equal(1, _upstream.CountRequests("GET", $"/blobs/{digest}"));
    }

    [Fact]
    public async Task ServerKilledMidFetch_LeavesNoPartialBlobVisible_AndTheNextPullCompletes()
    {
        var digest = await PushRandomBlobAsync("library/crash", 64L << 20);
        using var data = new TempDirectory("cache-crash-data");
        using var berth = new BerthProcess(data.Path) { Arguments = [$"--Berth:ArtifactCache:AllowHttpUpstreams:0={_upstream.Host}"] };
        await berth.StartAsync();
        await CreateRuleAsync(berth, data.Path, "crash-rule", $"{_upstream.Host}/library/crash", "crash");

        using (var client = berth.CreateClient())
        {
            // The fetch streams to this client and waits for it: reading one chunk and then nothing holds it mid-way.
            var response = await client.GetAsync($"v2/crash/blobs/{digest}", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var stream = await response.Content.ReadAsStreamAsync();
            await stream.ReadExactlyAsync(new byte[1 << 20]);
            berth.Kill();
            await berth.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        var blobFile = Path.Combine(data.Path, "storage", "blobs", "sha256", digest[7..9], digest[7..]);
        Assert.False(File.Exists(blobFile), "a partial blob became visible");
        // The fetch was cut mid-way: what it had received sits in an upload area, which garbage collection removes.
        Assert.NotEmpty(Directory.EnumerateFileSystemEntries(Path.Combine(data.Path, "storage", "uploads")));

        await berth.StartAsync();
        using var again = berth.CreateClient();
        Assert.Equal((HttpStatusCode.OK, digest), await DownloadDigestAsync(again, $"v2/crash/blobs/{digest}"));
        // The last bytes reach the client just before the fetch commits them: wait for the commit, then the blob is served from the store.
        for (var i = 0; i < 100 && !File.Exists(blobFile); i++) await Task.Delay(100);
        Assert.True(File.Exists(blobFile), "the completed fetch was not committed");
        _upstream.Stop();
        Assert.Equal((HttpStatusCode.OK, digest), await DownloadDigestAsync(again, $"v2/crash/blobs/{digest}"));
    }
}
