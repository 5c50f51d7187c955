using System.Net;
using System.Net.Http.Headers;

namespace Berth.Testing;

/// <summary>Pushes content over the real /v2 API with an already-authorized client (normally the admin's), for arranging tests.</summary>
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
}
