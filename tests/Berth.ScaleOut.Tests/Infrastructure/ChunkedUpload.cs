using System.Net;
using System.Net.Http.Headers;

namespace Berth.ScaleOut.Tests.Infrastructure;

/// <summary>
/// One blob upload driven by hand (OCI distribution-spec "pushing a blob in chunks"): POST, PATCHes with
/// <c>Content-Range</c>, a status GET when the client has lost track, and the closing PUT with the digest. Every URL
/// comes from the previous response's <c>Location</c>, as clients must follow it.
/// </summary>
public sealed class ChunkedUpload
{
    private readonly HttpClient _client;

    private ChunkedUpload(HttpClient client, Uri location)
    {
        _client = client;
        Location = location;
    }

    public Uri Location { get; private set; }

    /// <summary>The upload's id: the last segment of its URL (what the access log shows).</summary>
    public string Id => Location.AbsolutePath.TrimEnd('/').Split('/')[^1];

    /// <summary>How many bytes the registry has acknowledged (by its last <c>Range</c> header).</summary>
    public long Acknowledged { get; private set; }

    public static async Task<ChunkedUpload> StartAsync(HttpClient client, string repository)
    {
        using var response = await client.PostAsync($"v2/{repository}/blobs/uploads/", content: null);
        await RegistryHttp.ExpectAsync(response, HttpStatusCode.Accepted);
        var upload = new ChunkedUpload(client, RegistryHttp.ResolveLocation(response, client));
        upload.AssertLocationOnBalancer();
        return upload;
    }

    /// <summary>Sends the next chunk; it must be acknowledged with 202 and a Range ending at its last byte.</summary>
    public async Task PatchAsync(ReadOnlyMemory<byte> chunk)
    {
        using var request = PatchRequest(new ReadOnlyMemoryContent(chunk), Acknowledged, chunk.Length);
        using var response = await _client.SendAsync(request);
        await AcceptAsync(response);
        Assert.Equal(Acknowledged, RangeEnd(response) + 1);
    }

    /// <summary>A PATCH whose body the caller streams (e.g. to kill a node half way); the caller reads the outcome.</summary>
    public HttpRequestMessage PatchRequest(HttpContent content, long start, long length)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, Location) { Content = content };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Content.Headers.ContentLength = length;
        // Content-Range is a content header for HttpClient (it drops it from request headers); the registry reads both.
        request.Content.Headers.TryAddWithoutValidation("Content-Range", $"{start}-{start + length - 1}");
        return request;
    }

    /// <summary>GET on the upload URL: where the registry says the upload stands (after a failure, this is the truth).</summary>
    public async Task<long> GetStatusAsync()
    {
        using var response = await _client.GetAsync(Location);
        await RegistryHttp.ExpectAsync(response, HttpStatusCode.NoContent);
        Location = RegistryHttp.ResolveLocation(response, _client);
        Acknowledged = RangeEnd(response) + 1;
        return Acknowledged;
    }

    /// <summary>The closing PUT with the expected digest; the registry answers 201 only if the bytes hash to it.</summary>
    public async Task FinishAsync(string digest)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, RegistryHttp.AppendQuery(Location, "digest=" + Uri.EscapeDataString(digest)));
        using var response = await _client.SendAsync(request);
        await RegistryHttp.ExpectAsync(response, HttpStatusCode.Created);
        Assert.Equal(digest, RegistryHttp.Header(response, "Docker-Content-Digest"));
    }

    private async Task AcceptAsync(HttpResponseMessage response)
    {
        await RegistryHttp.ExpectAsync(response, HttpStatusCode.Accepted);
        Location = RegistryHttp.ResolveLocation(response, _client);
        AssertLocationOnBalancer();
        Acknowledged = RangeEnd(response) + 1;
    }

    /// <summary>A Location naming a node instead of the balancer would send the client around nginx.</summary>
    private void AssertLocationOnBalancer() =>
        Assert.True(Location.Authority == _client.BaseAddress!.Authority, $"Location {Location} does not point back at the load balancer {_client.BaseAddress}");

    /// <summary>
    /// The end of <c>Range: 0-N</c> (inclusive). An empty upload is also reported as <c>0-0</c>; the tests ask only
    /// once bytes have arrived.
    /// </summary>
    private static long RangeEnd(HttpResponseMessage response)
    {
        var range = RegistryHttp.Header(response, "Range") ?? throw new InvalidOperationException("The upload response has no Range header.");
        return long.Parse(range[(range.IndexOf('-') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
