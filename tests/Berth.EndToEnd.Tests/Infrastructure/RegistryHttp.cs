using System.Net;
using System.Net.Http.Headers;

namespace Berth.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The few OCI Distribution requests the tests make themselves, for what the real clients cannot do
/// (or to look behind them). Each failure message carries the request and the full response.
/// </summary>
public static class RegistryHttp
{
    /// <summary>POST an upload session, then PUT the whole blob to its Location with ?digest=.</summary>
    public static async Task<string> PushBlobAsync(HttpClient client, string repository, byte[] content)
    {
        var digest = OciLayoutBuilder.Sha256Digest(content);
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

    public static async Task<HttpResponseMessage> PutManifestAsync(HttpClient client, string repository, string reference, string mediaType, byte[] content)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"v2/{repository}/manifests/{reference}")
        {
            Content = new ByteArrayContent(content),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        var response = await client.SendAsync(request);
        await ExpectAsync(response, HttpStatusCode.Created);
        return response;
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

    /// <summary>Fails with the exact request and response when the status is not the expected one.</summary>
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
