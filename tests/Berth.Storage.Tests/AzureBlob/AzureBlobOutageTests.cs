using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Berth.Storage.Tests.AzureBlob;

/// <summary>
/// Berth with its blobs on an Azurite of this class's own, stopped in the middle of the test: requests that need the
/// bytes answer 503 with an OCI error within seconds (no 500, no stack trace), and once the service is back the same
/// requests succeed and the earlier blobs are intact.
/// </summary>
public sealed class AzureBlobOutageTests : IAsyncLifetime
{
    private const string Repository = "outage/app";
    private AzuriteServer _azurite = null!;
    private OutageServer _server = null!;

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteServer.StartPrivateAsync();
        _server = new OutageServer(_azurite);
        await _server.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _azurite.DisposeAsync();
    }

    [Fact]
    public async Task StorageStopped_BlobAndUploadRequestsAnswer503_AndSucceedOnceItIsBack()
    {
        var client = _server.Client;
        var content = RandomNumberGenerator.GetBytes(300_000);
        var digest = await client.PushBlobAsync(Repository, content);
        var upload = await client.StartUploadAsync(Repository);
        var chunk = RandomNumberGenerator.GetBytes(50_000);

        await _azurite.StopAsync();
        var clock = Stopwatch.StartNew();
        using (var get = await client.GetAsync($"/v2/{Repository}/blobs/{digest}"))
            await AssertUnavailableAsync(get);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the blob GET took {clock.Elapsed} to fail");
        using (var patch = await client.SendAsync(Patch(upload, chunk)))
            await AssertUnavailableAsync(patch);
        // HEAD is answered from the metadata (the database is up), never by a 500.
        using (var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{Repository}/blobs/{digest}")))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(content.Length, head.Content.Headers.ContentLength);
        }

        await _azurite.StartAsync();
        Assert.Equal(content, await client.GetByteArrayAsync($"/v2/{Repository}/blobs/{digest}"));
        using (var patch = await client.SendAsync(Patch(upload, chunk)))
        {
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
            Assert.Equal($"0-{chunk.Length - 1}", patch.Headers.GetValues("Range").Single());
        }
        var chunkDigest = TestImage.DigestOf(chunk);
        using (var finish = await client.PutAsync($"{upload}{(upload.Contains('?') ? '&' : '?')}digest={chunkDigest}", null))
            Assert.Equal(HttpStatusCode.Created, finish.StatusCode);
        Assert.Equal(chunk, await client.GetByteArrayAsync($"/v2/{Repository}/blobs/{chunkDigest}"));
    }

    private static HttpRequestMessage Patch(string location, byte[] chunk) =>
        new(HttpMethod.Patch, location)
        {
            Content = new ByteArrayContent(chunk)
            {
                Headers =
                {
                    ContentType = new MediaTypeHeaderValue("application/octet-stream"),
                    ContentRange = null,
                },
            },
        };

    private static async Task AssertUnavailableAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"expected 503, got {(int)response.StatusCode}: {body}");
        Assert.True(response.Headers.RetryAfter is not null, "503 without Retry-After");
        Assert.DoesNotContain("   at ", body);
        using var document = JsonDocument.Parse(body);
        var error = Assert.Single(document.RootElement.GetProperty("errors").EnumerateArray());
        Assert.Equal("UNAVAILABLE", error.GetProperty("code").GetString());
        Assert.Contains("Azure Blob Storage", error.GetProperty("message").GetString());
    }

    /// <summary>The default server (SQLite metadata) with its blobs in the private Azurite.</summary>
    private sealed class OutageServer(AzuriteServer azurite) : BerthTestServer
    {
        protected override IEnumerable<string> ExtraArguments =>
        [
            "--Berth:Storage:Type=AzureBlob",
            "--Berth:Storage:AzureBlob:ConnectionString=" + azurite.ConnectionString,
            "--Berth:Storage:AzureBlob:ContainerName=outage",
            "--Berth:Throttling:Enabled=false",
        ];
    }
}
