using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Berth.Server.Tests.Management;

/// <summary>A test server for management tests: throttling off.</summary>
public sealed class ManagementTestServer : BerthTestServer
{
    protected override IEnumerable<string> ExtraArguments =>
        ["--Berth:Throttling:Enabled=false"];
}

internal static class Arm
{
    public static async Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)> SendAsync(
        this HttpClient client, HttpMethod method, string path, object? body = null, string? rawBody = null)
    {
        using var request = new HttpRequestMessage(method, path.Contains('?') ? path : path + "?api-version=2022-02-01-preview");
        if (rawBody is not null)
            request.Content = new StringContent(rawBody, Encoding.UTF8, "application/json");
        else if (body is not null)
            request.Content = new StringContent(body is JsonNode node ? node.ToJsonString() : System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response);
    }

    public static async Task<JsonNode> GetJsonAsync(this HttpClient client, string path)
    {
        var (status, body, _) = await client.SendAsync(HttpMethod.Get, path);
        Assert.True(status == HttpStatusCode.OK, $"GET {path}: {(int)status} {body?.ToJsonString()}");
        return body!;
    }

    /// <summary>Asserts ARM's error shape and returns the error's code.</summary>
    public static string AssertArmError(HttpStatusCode expected, (HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response) result)
    {
        Assert.True(result.Status == expected, $"expected {(int)expected}, got {(int)result.Status}: {result.Body?.ToJsonString()}");
        var error = result.Body?["error"];
        Assert.NotNull(error);
        Assert.False(string.IsNullOrEmpty(error!["code"]?.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(error["message"]?.GetValue<string>()));
        return error["code"]!.GetValue<string>();
    }

    public static string NewRegistryName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..10];

    /// <summary>Creates a registry through ARM (PUT) and returns its JSON.</summary>
    public static async Task<JsonNode> CreateRegistryAsync(this HttpClient client, BerthTestServer server, string name, string sku = "Standard",
        bool adminUserEnabled = false, string? resourceGroup = null)
    {
        var (status, body, _) = await client.SendAsync(HttpMethod.Put, server.RegistryPath(name, resourceGroup), new
        {
            location = "local",
            sku = new { name = sku },
            properties = new { adminUserEnabled, anonymousPullEnabled = false },
        });
        Assert.True(status == HttpStatusCode.Created, $"PUT registry {name}: {(int)status} {body?.ToJsonString()}");
        return body!;
    }

    public static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>Pushes a config blob and an image manifest that references it, with requests addressed to <paramref name="host"/>.</summary>
    public static async Task<HttpStatusCode> PushSmallImageAsync(HttpClient client, string host, AuthenticationHeaderValue authorization, string repository, string tag) =>
        (await PushSmallImageReturningManifestAsync(client, host, authorization, repository, tag)).Status;

    /// <summary>As <see cref="PushSmallImageAsync"/>, also returning the pushed manifest's digest and size (when the push succeeded).</summary>
    public static async Task<(HttpStatusCode Status, string Digest, int Size)> PushSmallImageReturningManifestAsync(HttpClient client, string host,
        AuthenticationHeaderValue? authorization, string repository, string tag)
    {
        var config = Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[]}},\"n\":\"{Guid.NewGuid()}\"}}");
        var configDigest = Sha256(config);
        using (var upload = new HttpRequestMessage(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/?digest={configDigest}") { Content = new ByteArrayContent(config) })
        {
            upload.Headers.Host = host;
            upload.Headers.Authorization = authorization;
            upload.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var response = await client.SendAsync(upload);
            if (response.StatusCode != HttpStatusCode.Created) return (response.StatusCode, "", 0);
        }
        var manifest = Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}},\"layers\":[]}}");
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/v2/{repository}/manifests/{tag}") { Content = new ByteArrayContent(manifest) };
        put.Headers.Host = host;
        put.Headers.Authorization = authorization;
        put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        using var putResponse = await client.SendAsync(put);
        return (putResponse.StatusCode, Sha256(manifest), manifest.Length);
    }

    public static async Task<HttpStatusCode> GetManifestStatusAsync(HttpClient client, string host, AuthenticationHeaderValue? authorization, string repository, string tag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{tag}");
        request.Headers.Host = host;
        request.Headers.Authorization = authorization;
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
