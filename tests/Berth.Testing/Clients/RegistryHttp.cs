using System.Net;
using System.Net.Http.Headers;

namespace Berth.Testing;

/// <summary>
/// The OCI Distribution requests tests make themselves over the real /v2 API: pushes that arrange content with an
/// already-authorized client (normally the admin's), and the small pieces a test needs to look behind a real client
/// (a Location to follow, a header to read, a status to expect with the whole response in the failure message).
/// </summary>
public static class RegistryHttp
{
    /// <summary>A monolithic upload (<c>POST ?digest=</c>); returns the digest.</summary>
    public static async Task<string> PushBlobAsync(this HttpClient client, string repository, byte[] content)
    {
        var digest = TestImage.DigestOf(content);
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await client.PostAsync($"/v2/{repository}/blobs/uploads/?digest={digest}", body);
        await EnsureStatusAsync(response, HttpStatusCode.Created, $"pushing blob {digest} to {repository}");
        return digest;
    }

    public static async Task<string> PushManifestAsync(this HttpClient client, string repository, string reference, byte[] manifest, string mediaType = TestImage.ManifestMediaType)
    {
        using var body = new ByteArrayContent(manifest);
        body.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var response = await client.PutAsync($"/v2/{repository}/manifests/{reference}", body);
        await EnsureStatusAsync(response, HttpStatusCode.Created, $"pushing manifest {reference} to {repository}");
        return TestImage.DigestOf(manifest);
    }

    /// <summary>Pushes the image's blobs and its manifest under <paramref name="tag"/>.</summary>
    public static async Task PushImageAsync(this HttpClient client, string repository, TestImage image, string tag)
    {
        await client.PushBlobAsync(repository, image.Layer);
        await client.PushBlobAsync(repository, image.Config);
        await client.PushManifestAsync(repository, tag, image.Manifest);
    }

    /// <summary>Starts an upload session; returns its location path (<c>/v2/&lt;repo&gt;/blobs/uploads/&lt;id&gt;</c>).</summary>
    public static async Task<string> StartUploadAsync(this HttpClient client, string repository)
    {
        using var response = await client.PostAsync($"/v2/{repository}/blobs/uploads/", null);
        await EnsureStatusAsync(response, HttpStatusCode.Accepted, $"starting an upload in {repository}");
        var location = response.Headers.Location ?? throw new InvalidOperationException("the upload has no Location");
        return location.IsAbsoluteUri ? location.PathAndQuery : location.OriginalString;
    }

    public static async Task EnsureStatusAsync(HttpResponseMessage response, HttpStatusCode expected, string what)
    {
        if (response.StatusCode != expected)
            throw new InvalidOperationException($"{what}: expected {(int)expected}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>
    /// POST an upload session, then PUT the whole blob to its Location with <c>?digest=</c>: two requests, which behind
    /// a load balancer may reach different nodes. Asserts the digest the registry answers; returns it.
    /// </summary>
    public static async Task<string> PushBlobInTwoRequestsAsync(HttpClient client, string repository, byte[] content)
    {
        var digest = TestImage.DigestOf(content);
        using var start = await client.PostAsync($"v2/{repository}/blobs/uploads/", content: null);
        await ExpectAsync(start, HttpStatusCode.Accepted);
        var location = ResolveLocation(start, client);

        using var put = new HttpRequestMessage(HttpMethod.Put, AppendQuery(location, "digest=" + Uri.EscapeDataString(digest)))
        {
            Content = new ByteArrayContent(content),
        };
        put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var finish = await client.SendAsync(put);
        await ExpectAsync(finish, HttpStatusCode.Created);
        Assert.Equal(digest, Header(finish, "Docker-Content-Digest"));
        return digest;
    }

    public static Uri ResolveLocation(HttpResponseMessage response, HttpClient client)
    {
        var location = response.Headers.Location
            ?? throw new InvalidOperationException($"{Describe(response.RequestMessage)} answered {(int)response.StatusCode} without a Location header.");
        return location.IsAbsoluteUri ? location : new Uri(client.BaseAddress!, location);
    }

    public static Uri AppendQuery(Uri uri, string query)
    {
        var builder = new UriBuilder(uri);
        builder.Query = string.IsNullOrEmpty(builder.Query) ? query : builder.Query.TrimStart('?') + "&" + query;
        return builder.Uri;
    }

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault()
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? contentValues.FirstOrDefault()
        : null;

    /// <summary>Fails the test with the exact request and response when the status is not the expected one.</summary>
    public static async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
        {
            var body = await response.Content.ReadAsStringAsync();
            if (body.Length > 4000) body = body[..4000] + "…";
            var headers = string.Join("\n", response.Headers.Concat(response.Content.Headers).Select(h => $"{h.Key}: {string.Join(", ", h.Value)}"));
            Assert.Fail($"{Describe(response.RequestMessage)} answered {(int)response.StatusCode} {response.StatusCode}, expected {(int)expected} {expected}\n{headers}\n\n{body}");
        }
    }

    private static string Describe(HttpRequestMessage? request) =>
        request is null ? "(unknown request)"
        : $"{request.Method} {request.RequestUri} [{string.Join("; ", request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>()).Where(h => h.Key != "Authorization").Select(h => $"{h.Key}: {string.Join(", ", h.Value)}"))}]";
}
