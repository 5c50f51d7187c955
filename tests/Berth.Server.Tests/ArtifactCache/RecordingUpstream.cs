using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Server.Tests.ArtifactCache;

/// <summary>One request an upstream received: what, when, and the Authorization header it carried.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, string? Authorization, DateTimeOffset At);

/// <summary>
/// A small registry (Distribution API v2, read only) on a real Kestrel socket on 127.0.0.1 that records every request it
/// receives. It serves the images added to it, and can be told to answer 429 with a <c>Retry-After</c>, to require a
/// bearer token from its own token endpoint (<c>/token</c>, or another realm) with a given lifetime, or to redirect blob
/// downloads elsewhere. With nothing added it is still useful as a destination that must never be reached.
/// </summary>
public sealed class RecordingUpstream : IAsyncDisposable
{
    private const string BearerPrefix = "Bearer ";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (string MediaType, byte[] Content)> _manifests = new();
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _issuedTokens = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private int _tokenCounter;
    private int _connections;

    private RecordingUpstream(WebApplication app) => _app = app;

    public int Port { get; private set; }

    /// <summary><c>127.0.0.1:port</c>.</summary>
    public string Host => $"127.0.0.1:{Port}";

    /// <summary>
    /// When set, every registry request is answered 429 with this <c>Retry-After</c> value (seconds or an HTTP date; an
    /// empty value sends none); with <see cref="ThrottleTokenServiceInstead"/> the token endpoint's requests are, instead.
    /// </summary>
    public string? ThrottleRetryAfter { get; set; }

    public bool ThrottleTokenServiceInstead { get; set; }

    /// <summary>When set, registry requests need a bearer token issued by <c>/token</c> and still valid; the 401 names this realm.</summary>
    public string? BearerRealm { get; set; }

    /// <summary>The <c>expires_in</c> the token endpoint hands out.</summary>
    public int TokenLifetimeSeconds { get; set; } = 300;

    /// <summary>When set, the token endpoint requires these Basic credentials.</summary>
    public (string Username, string Password)? TokenLogin { get; set; }

    /// <summary>When set, blob GETs are answered 307 to this base address plus the request's path.</summary>
    public string? RedirectBlobsTo { get; set; }

    /// <summary>When set, blob GETs send this many bytes, then wait for <see cref="ReleaseBlobs"/> before sending the rest.</summary>
    public long? PauseBlobsAfter { get; set; }

    /// <summary>Completed to let paused blob downloads go on.</summary>
    public TaskCompletionSource ReleaseBlobs { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Blob downloads that reached the pause.</summary>
    public int PausedBlobs => Volatile.Read(ref _pausedBlobs);

    private int _pausedBlobs;

    /// <summary>Requests a bearer token arrived with that had already expired (by this upstream's clock).</summary>
    public int ExpiredTokensPresented;

    /// <summary>TCP connections accepted, whether or not a request followed.</summary>
    public int Connections => Volatile.Read(ref _connections);

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public IReadOnlyList<RecordedRequest> RegistryRequests => [.. _requests.Where(r => r.Path.StartsWith("/v2/", StringComparison.Ordinal))];

    public IReadOnlyList<RecordedRequest> TokenRequests => [.. _requests.Where(r => r.Path == "/token")];

    public static async Task<RecordingUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        RecordingUpstream? upstream = null;
        // Connections are counted before any bytes are read, so a TLS attempt on this plain socket counts too.
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0, listen => listen.Use(next => connection =>
        {
            Interlocked.Increment(ref upstream!._connections);
            return next(connection);
        })));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        upstream = new RecordingUpstream(app);
        app.Run(upstream.HandleAsync);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        upstream.Port = address.Port;
        return upstream;
    }

    /// <summary>Serves the image under <paramref name="repository"/> by tag and by digest.</summary>
    public void Add(string repository, string tag, TestImage image)
    {
        _manifests[$"{repository}:{tag}"] = (TestImage.ManifestMediaType, image.Manifest);
        _manifests[$"{repository}:{image.ManifestDigest}"] = (TestImage.ManifestMediaType, image.Manifest);
        _blobs[$"{repository}@{image.ConfigDigest}"] = image.Config;
        _blobs[$"{repository}@{image.LayerDigest}"] = image.Layer;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var now = DateTimeOffset.UtcNow;
        _requests.Enqueue(new RecordedRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "", request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null, now));
        var response = context.Response;
        var path = request.Path.Value ?? "";

        if (ThrottleRetryAfter is { } retryAfter && (ThrottleTokenServiceInstead ? path == "/token" : path.StartsWith("/v2/", StringComparison.Ordinal)))
        {
            response.StatusCode = StatusCodes.Status429TooManyRequests;
            if (retryAfter.Length > 0) response.Headers.RetryAfter = retryAfter;
            await WriteErrorAsync(response, "TOOMANYREQUESTS", "slow down");
            return;
        }
        if (path == "/token")
        {
            await IssueTokenAsync(context, now);
            return;
        }
        if (!path.StartsWith("/v2/", StringComparison.Ordinal))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        if (BearerRealm is { } realm && !HasValidToken(request, now))
        {
            response.StatusCode = StatusCodes.Status401Unauthorized;
            var scope = path == "/v2/" ? "" : $",scope=\"repository:{RepositoryOf(path)}:pull\"";
            response.Headers.WWWAuthenticate = $"Bearer realm=\"{realm}\",service=\"recording-upstream\"{scope}";
            await WriteErrorAsync(response, "UNAUTHORIZED", "authentication required");
            return;
        }
        if (path == "/v2/")
        {
            response.StatusCode = StatusCodes.Status200OK;
            return;
        }
        await ServeContentAsync(context, path);
    }

    private async Task IssueTokenAsync(HttpContext context, DateTimeOffset now)
    {
        if (TokenLogin is { } login)
        {
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{login.Username}:{login.Password}"));
            if (context.Request.Headers.Authorization.ToString() != expected)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }
        }
        var token = $"token-{Interlocked.Increment(ref _tokenCounter)}-{Guid.NewGuid():N}";
        _issuedTokens[token] = now.AddSeconds(TokenLifetimeSeconds);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { token, expires_in = TokenLifetimeSeconds, issued_at = now.ToString("O") }));
    }

    private bool HasValidToken(HttpRequest request, DateTimeOffset now)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith(BearerPrefix, StringComparison.Ordinal) || !_issuedTokens.TryGetValue(header[BearerPrefix.Length..], out var expires)) return false;
        if (expires > now) return true;
        Interlocked.Increment(ref ExpiredTokensPresented);
        return false;
    }

    private async Task ServeContentAsync(HttpContext context, string path)
    {
        var response = context.Response;
        var repository = RepositoryOf(path);
        var rest = path[("/v2/" + repository + "/").Length..];
        var head = HttpMethods.IsHead(context.Request.Method);
        if (rest.StartsWith("manifests/", StringComparison.Ordinal) && _manifests.TryGetValue($"{repository}:{rest["manifests/".Length..]}", out var manifest))
        {
            response.ContentType = manifest.MediaType;
            response.ContentLength = manifest.Content.Length;
            response.Headers["Docker-Content-Digest"] = TestImage.DigestOf(manifest.Content);
            if (!head) await response.Body.WriteAsync(manifest.Content);
            return;
        }
        if (rest.StartsWith("blobs/", StringComparison.Ordinal) && _blobs.TryGetValue($"{repository}@{rest["blobs/".Length..]}", out var blob))
        {
            if (RedirectBlobsTo is { } target && !head)
            {
                response.StatusCode = StatusCodes.Status307TemporaryRedirect;
                response.Headers.Location = target.TrimEnd('/') + path;
                return;
            }
            response.ContentType = "application/octet-stream";
            response.ContentLength = blob.Length;
            response.Headers["Docker-Content-Digest"] = TestImage.DigestOf(blob);
            if (head) return;
            if (PauseBlobsAfter is { } pause && pause < blob.Length)
            {
                await response.Body.WriteAsync(blob.AsMemory(0, (int)pause));
                await response.Body.FlushAsync();
                Interlocked.Increment(ref _pausedBlobs);
                await ReleaseBlobs.Task;
                await response.Body.WriteAsync(blob.AsMemory((int)pause));
                return;
            }
            await response.Body.WriteAsync(blob);
            return;
        }
        response.StatusCode = StatusCodes.Status404NotFound;
        await WriteErrorAsync(response, rest.StartsWith("blobs/", StringComparison.Ordinal) ? "BLOB_UNKNOWN" : "MANIFEST_UNKNOWN", "not here");
    }

    /// <summary>The repository of <c>/v2/&lt;name&gt;/manifests|blobs/...</c>.</summary>
    private static string RepositoryOf(string path)
    {
        var name = path["/v2/".Length..];
        foreach (var marker in new[] { "/manifests/", "/blobs/" })
        {
            var at = name.LastIndexOf(marker, StringComparison.Ordinal);
            if (at >= 0) return name[..at];
        }
        return name.TrimEnd('/');
    }

    private static Task WriteErrorAsync(HttpResponse response, string code, string message)
    {
        response.ContentType = "application/json";
        return response.WriteAsync(JsonSerializer.Serialize(new { errors = new[] { new { code, message } } }));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
