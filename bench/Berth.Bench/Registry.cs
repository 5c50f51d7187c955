using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Berth.Bench;

/// <summary>
/// One registry under test, reached with one shared pooled <see cref="HttpClient"/> (SocketsHttpHandler, many
/// connections, no proxy): the same client code for Berth and distribution. Berth gets bearer tokens from its
/// /oauth2/token with the admin user's Basic credentials, cached per scope; distribution runs without auth.
/// </summary>
internal sealed class Registry
{
    public const string ManifestMediaType = "application/vnd.oci.image.manifest.v1+json";
    public const string ManifestAccept = ManifestMediaType + ", application/vnd.docker.distribution.manifest.v2+json";

    private readonly ConcurrentDictionary<string, Task<string>> _tokens = new();

    public string Name { get; }
    public Uri BaseUri { get; }
    public HttpClient Http { get; }
    public ProcessMemory? Memory { get; }
    public (string User, string Password)? Admin { get; }
    public string? Service { get; }
    public bool UsesAuth => Admin is not null;

    public Registry(string name, string baseUrl, int pid, (string, string)? admin, string? service)
    {
        Name = name;
        BaseUri = new Uri(baseUrl.TrimEnd('/') + "/");
        Memory = pid > 0 ? new ProcessMemory(pid) : null;
        Admin = admin;
        Service = service;
        Http = NewClient(BaseUri);
    }

    public static HttpClient NewClient(Uri baseUri) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        MaxConnectionsPerServer = 512,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        UseCookies = false,
        AllowAutoRedirect = true,
    })
    {
        BaseAddress = baseUri,
        Timeout = TimeSpan.FromMinutes(30),
        DefaultRequestVersion = HttpVersion.Version11,
    };

    // ---- authentication --------------------------------------------------------------------------------------------

    public string TokenPath(IEnumerable<string> scopes) =>
        $"oauth2/token?service={Uri.EscapeDataString(Service ?? "")}" + string.Concat(scopes.Select(s => "&scope=" + Uri.EscapeDataString(s)));

    /// <summary>A bearer token for the scopes (admin credentials), or null for a registry without auth.</summary>
    public async Task<AuthenticationHeaderValue?> AuthAsync(params string[] scopes)
    {
        if (Admin is null) return null;
        var key = string.Join(' ', scopes);
        var token = await _tokens.GetOrAdd(key, _ => FetchTokenAsync(scopes, anonymous: false));
        return new AuthenticationHeaderValue("Bearer", token);
    }

    public void ForgetTokens() => _tokens.Clear();

    public async Task<string> FetchTokenAsync(IEnumerable<string> scopes, bool anonymous)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, TokenPath(scopes));
        if (!anonymous && Admin is { } admin) request.Headers.Authorization = Headers.Basic(admin.User, admin.Password);
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new BenchException($"{Name}: token request failed: {(int)response.StatusCode} {Trim(body)}");
        var json = JsonNode.Parse(body)!;
        return (json["access_token"] ?? json["token"])!.GetValue<string>();
    }

    public static string Push(string repo) => $"repository:{repo}:pull,push";
    public static string Pull(string repo) => $"repository:{repo}:pull";

    /// <summary>Sends a request built by <paramref name="build"/> with the token for <paramref name="scopes"/>; one retry with a fresh token on 401.</summary>
    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> build, string[] scopes, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        for (var attempt = 0; ; attempt++)
        {
            var request = build();
            request.Headers.Authorization ??= await AuthAsync(scopes);
            var response = await Http.SendAsync(request, completion);
            if (response.StatusCode != HttpStatusCode.Unauthorized || attempt > 0 || Admin is null) return response;
            response.Dispose();
            _tokens.TryRemove(string.Join(' ', scopes), out _);
        }
    }

    // ---- blobs ------------------------------------------------------------------------------------------------------

    private async Task<Uri> StartUploadAsync(string repo, string[] scopes, string query = "")
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, $"v2/{repo}/blobs/uploads/{query}"), scopes);
        await Expect(response, HttpStatusCode.Accepted, "start upload");
        return Location(response);
    }

    /// <summary>POST, then one PUT with the whole body and the digest.</summary>
    public async Task PushMonolithicAsync(string repo, PatternBlob blob)
    {
        var scopes = new[] { Push(repo) };
        var location = await StartUploadAsync(repo, scopes);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Put, WithDigest(location, blob.Digest))
        {
            Content = Octets(blob.Content(0, blob.Size)),
        }, scopes);
        await Expect(response, HttpStatusCode.Created, "monolithic PUT");
    }

    /// <summary>POST, PATCHes of <paramref name="chunk"/> bytes with Content-Range, then a PUT with the digest and no body.</summary>
    public async Task PushChunkedAsync(string repo, PatternBlob blob, long chunk)
    {
        var scopes = new[] { Push(repo) };
        var location = await StartUploadAsync(repo, scopes);
        for (long offset = 0; offset < blob.Size; offset += chunk)
        {
            var length = Math.Min(chunk, blob.Size - offset);
            var target = location;
            var start = offset;
            using var patch = await SendAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Patch, target) { Content = Octets(blob.Content(start, length)) };
                request.Content.Headers.TryAddWithoutValidation("Content-Range", $"{start}-{start + length - 1}");
                return request;
            }, scopes);
            await Expect(patch, HttpStatusCode.Accepted, "PATCH chunk");
            location = Location(patch);
        }
        using var put = await SendAsync(() => new HttpRequestMessage(HttpMethod.Put, WithDigest(location, blob.Digest))
        {
            Content = Octets(new ByteArrayContent([])),
        }, scopes);
        await Expect(put, HttpStatusCode.Created, "closing PUT");
    }

    /// <summary>Pushes a small in-memory blob (POST + PUT with body).</summary>
    public async Task PushSmallAsync(string repo, byte[] content, string digest)
    {
        var scopes = new[] { Push(repo) };
        var location = await StartUploadAsync(repo, scopes);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Put, WithDigest(location, digest))
        {
            Content = Octets(new ByteArrayContent(content)),
        }, scopes);
        await Expect(response, HttpStatusCode.Created, "small blob PUT");
    }

    /// <summary>Cross-repository mount; false when the registry answered with an upload session instead.</summary>
    public async Task<bool> MountAsync(string repo, string from, string digest, string[] scopes)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post,
            $"v2/{repo}/blobs/uploads/?mount={Uri.EscapeDataString(digest)}&from={Uri.EscapeDataString(from)}"), scopes);
        if (response.StatusCode == HttpStatusCode.Created) return true;
        if (response.StatusCode == HttpStatusCode.Accepted) return false;
        await Expect(response, HttpStatusCode.Created, "mount");
        return false;
    }

    /// <summary>GETs a blob and discards its bytes; returns the byte count.</summary>
    public async Task<long> PullAsync(string repo, string digest, byte[] buffer)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, $"v2/{repo}/blobs/{digest}"), [Pull(repo)],
            HttpCompletionOption.ResponseHeadersRead);
        await Expect(response, HttpStatusCode.OK, "blob GET");
        await using var stream = await response.Content.ReadAsStreamAsync();
        return await Streams.DrainAsync(stream, buffer);
    }

    public async Task<double> HeadMillisecondsAsync(string repo, string digest)
    {
        var scopes = new[] { Pull(repo) };
        await AuthAsync(scopes);
        var clock = Stopwatch.StartNew();
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, $"v2/{repo}/blobs/{digest}"), scopes);
        var elapsed = clock.Elapsed.TotalMilliseconds;
        await Expect(response, HttpStatusCode.OK, "blob HEAD");
        return elapsed;
    }

    // ---- manifests and listings ------------------------------------------------------------------------------------

    public async Task PutManifestAsync(string repo, string reference, byte[] manifest, string[]? scopes = null)
    {
        scopes ??= [Push(repo)];
        using var response = await SendAsync(() =>
        {
            var content = new ByteArrayContent(manifest);
            content.Headers.ContentType = new MediaTypeHeaderValue(ManifestMediaType);
            return new HttpRequestMessage(HttpMethod.Put, $"v2/{repo}/manifests/{reference}") { Content = content };
        }, scopes);
        await Expect(response, HttpStatusCode.Created, "manifest PUT");
    }

    /// <summary>Follows the Link headers of a paginated listing; returns each page's latency (ms) and the item count.</summary>
    /// <summary>Stops early (Complete = false) after <paramref name="budget"/>: a slow listing still gives its per-page latency.</summary>
    public async Task<(List<double> PageMs, int Items, double TotalMs, bool Complete)> WalkAsync(string firstPath, string[] scopes, string arrayField, TimeSpan budget)
    {
        await AuthAsync(scopes);
        var pages = new List<double>();
        var items = 0;
        var total = Stopwatch.StartNew();
        string? path = firstPath;
        while (path is not null && total.Elapsed < budget)
        {
            var current = path;
            var clock = Stopwatch.StartNew();
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, current), scopes);
            var body = await response.Content.ReadAsByteArrayAsync();
            pages.Add(clock.Elapsed.TotalMilliseconds);
            await Expect(response, HttpStatusCode.OK, "listing page");
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.TryGetProperty(arrayField, out var array) && array.ValueKind == JsonValueKind.Array) items += array.GetArrayLength();
            path = NextLink(response);
        }
        return (pages, items, total.Elapsed.TotalMilliseconds, path is null);
    }

    private static string? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var values)) return null;
        foreach (var value in values)
        {
            var start = value.IndexOf('<');
            var end = value.IndexOf('>');
            if (start < 0 || end <= start || !value.Contains("rel=\"next\"")) continue;
            var link = value[(start + 1)..end];
            return link.StartsWith('/') ? link[1..] : link;
        }
        return null;
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private static HttpContent Octets(HttpContent content)
    {
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    private Uri Location(HttpResponseMessage response)
    {
        var location = response.Headers.Location ?? throw new BenchException($"{Name}: {response.RequestMessage?.Method} gave no Location");
        return location.IsAbsoluteUri ? location : new Uri(BaseUri, location);
    }

    private static Uri WithDigest(Uri location, string digest)
    {
        var text = location.ToString();
        return new Uri(text + (text.Contains('?') ? "&" : "?") + "digest=" + Uri.EscapeDataString(digest), UriKind.RelativeOrAbsolute);
    }

    private async Task Expect(HttpResponseMessage response, HttpStatusCode status, string what)
    {
        if (response.StatusCode == status) return;
        var body = response.Content is null ? "" : await response.Content.ReadAsStringAsync();
        throw new BenchException($"{Name}: {what} answered {(int)response.StatusCode} (expected {(int)status}): {Trim(body)}");
    }

    private static string Trim(string text) => text.Length > 300 ? text[..300] + "..." : text;

    public static byte[] Json(object value) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value));
}

internal sealed class BenchException(string message) : Exception(message);
