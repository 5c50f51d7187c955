using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Berth.Conformance.Tests.TestSupport;

/// <summary>An image pushed by <see cref="RegistryClient.PushImageAsync"/>: its manifest and the blobs it references.</summary>
public sealed record PushedImage(string Repository, Content Manifest, Content Config, Content Layer)
{
    public JsonObject Descriptor(string? artifactType = null) =>
        Manifests.Descriptor(MediaTypes.OciManifest, Manifest, artifactType);
}

/// <summary>The registry calls the tests make, as small steps over <see cref="HttpClient"/>.</summary>
public static class RegistryClient
{
    public static Task<HttpResponseMessage> SendAsync(
        this HttpClient client, HttpMethod method, string url, HttpContent? content = null,
        Action<HttpRequestMessage>? configure = null) =>
        client.SendAsync(method, new Uri(url, UriKind.RelativeOrAbsolute), content, configure);

    public static Task<HttpResponseMessage> SendAsync(
        this HttpClient client, HttpMethod method, Uri url, HttpContent? content = null,
        Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = content };
        configure?.Invoke(request);
        return client.SendAsync(request);
    }

    public static HttpContent Bytes(byte[] data, string? contentType = MediaTypes.OctetStream)
    {
        var content = new ByteArrayContent(data);
        if (contentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    /// <summary>A chunk for PATCH: octet-stream with the spec's <c>Content-Range: start-end</c> (no unit).</summary>
    public static HttpContent Chunk(byte[] data, long start)
    {
        var content = Bytes(data);
        content.Headers.TryAddWithoutValidation("Content-Range", $"{start}-{start + data.Length - 1}");
        return content;
    }

    public static Uri Resolve(this HttpClient client, string location) => new(client.BaseAddress!, location);

    public static Uri WithQuery(this Uri uri, string name, string value)
    {
        var builder = new UriBuilder(uri);
        var pair = name + "=" + Uri.EscapeDataString(value);
        builder.Query = string.IsNullOrEmpty(builder.Query) ? pair : builder.Query.TrimStart('?') + "&" + pair;
        return builder.Uri;
    }

    /// <summary>A response header wherever .NET filed it (response or content headers), values joined by ", ".</summary>
    public static string? Header(this HttpResponseMessage response, string name)
    {
        if (response.Headers.TryGetValues(name, out var values)) return string.Join(", ", values);
        if (response.Content.Headers.TryGetValues(name, out values)) return string.Join(", ", values);
        return null;
    }

    public static Uri Location(this HttpClient client, HttpResponseMessage response)
    {
        var location = response.Header("Location");
        Assert.False(string.IsNullOrEmpty(location), $"{Describe(response)} has no Location header");
        return client.Resolve(location!);
    }

    public static string Describe(HttpResponseMessage response) =>
        $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery} -> {(int)response.StatusCode}";

    // --- blobs -------------------------------------------------------------------------------

    public static Task<HttpResponseMessage> PostMonolithicAsync(this HttpClient client, string repo, Content blob, string? digest = null) =>
        client.SendAsync(HttpMethod.Post, $"/v2/{repo}/blobs/uploads/?digest={Uri.EscapeDataString(digest ?? blob.Digest)}", Bytes(blob.Bytes));

    /// <summary>Pushes a blob with a single monolithic POST and checks it was created.</summary>
    public static async Task PushBlobAsync(this HttpClient client, string repo, Content blob)
    {
        using var response = await client.PostMonolithicAsync(repo, blob);
        await response.ExpectAsync(HttpStatusCode.Created);
    }

    public static async Task<Content> PushRandomBlobAsync(this HttpClient client, string repo, int length = 512)
    {
        var blob = Content.Random(length);
        await client.PushBlobAsync(repo, blob);
        return blob;
    }

    /// <summary>Opens an upload session (POST, Content-Length: 0) and returns its absolute location.</summary>
    public static async Task<Uri> StartUploadAsync(this HttpClient client, string repo)
    {
        using var response = await client.SendAsync(HttpMethod.Post, $"/v2/{repo}/blobs/uploads/", Bytes([], null));
        await response.ExpectAsync(HttpStatusCode.Accepted);
        return client.Location(response);
    }

    public static Task<HttpResponseMessage> PatchChunkAsync(this HttpClient client, Uri location, byte[] data, long start) =>
        client.SendAsync(HttpMethod.Patch, location, Chunk(data, start));

    public static Task<HttpResponseMessage> FinishUploadAsync(this HttpClient client, Uri location, string digest, byte[]? finalChunk = null) =>
        client.SendAsync(HttpMethod.Put, location.WithQuery("digest", digest), Bytes(finalChunk ?? [], finalChunk is null ? null : MediaTypes.OctetStream));

    // --- manifests ---------------------------------------------------------------------------

    public static Task<HttpResponseMessage> PutManifestAsync(
        this HttpClient client, string repo, string reference, Content manifest, string mediaType = MediaTypes.OciManifest) =>
        client.SendAsync(HttpMethod.Put, $"/v2/{repo}/manifests/{reference}", Bytes(manifest.Bytes, mediaType));

    public static async Task PushManifestAsync(
        this HttpClient client, string repo, string reference, Content manifest, string mediaType = MediaTypes.OciManifest)
    {
        using var response = await client.PutManifestAsync(repo, reference, manifest, mediaType);
        await response.ExpectAsync(HttpStatusCode.Created);
    }

    /// <summary>Pushes a one-layer OCI image (config, layer, manifest), tagged when <paramref name="tag"/> is given.</summary>
    public static async Task<PushedImage> PushImageAsync(this HttpClient client, string repo, string? tag = null, JsonObject? subject = null)
    {
        var config = Content.Of($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"nonce\":\"{Guid.NewGuid():N}\"}}");
        var layer = Content.Random(700);
        await client.PushBlobAsync(repo, config);
        await client.PushBlobAsync(repo, layer);
        var manifest = Manifests.OciImage(
            Manifests.Descriptor(MediaTypes.OciConfig, config),
            [Manifests.Descriptor(MediaTypes.OciLayer, layer)],
            subject: subject);
        await client.PushManifestAsync(repo, tag ?? manifest.Digest, manifest);
        return new PushedImage(repo, manifest, config, layer);
    }

    /// <summary>Pushes an artifact manifest (empty config, one small layer) that refers to <paramref name="subject"/>.</summary>
    public static async Task<Content> PushArtifactAsync(
        this HttpClient client, string repo, JsonObject? subject, string artifactType,
        IReadOnlyDictionary<string, string>? annotations = null)
    {
        await client.PushBlobAsync(repo, Manifests.EmptyConfig);
        var payload = Content.Random(64);
        await client.PushBlobAsync(repo, payload);
        var manifest = Manifests.OciImage(
            Manifests.Descriptor(MediaTypes.OciEmpty, Manifests.EmptyConfig),
            [Manifests.Descriptor("application/vnd.example.payload", payload)],
            subject: subject, artifactType: artifactType, annotations: annotations);
        await client.PushManifestAsync(repo, manifest.Digest, manifest);
        return manifest;
    }

    public static async Task<JsonNode> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text) ?? throw new Xunit.Sdk.XunitException($"{Describe(response)}: body is JSON null");
    }
}
