using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Berth.Core.ArtifactCache;
using Berth.Core.Outbound;

namespace Berth.Core.Upstream;

/// <summary>A login for an upstream registry.</summary>
public sealed record UpstreamCredentials(string Username, string Password);

/// <summary>A manifest as the upstream served it: its exact bytes, its media type and its digest (computed here).</summary>
public sealed record UpstreamManifest(Digest Digest, string MediaType, byte[] Content);

/// <summary>An open upstream blob download; disposing it closes the connection's response.</summary>
public sealed class UpstreamBlob(HttpResponseMessage response, Stream content) : IDisposable
{
    public Stream Content { get; } = content;

    public long? Length => response.Content.Headers.ContentLength;

    public void Dispose()
    {
        Content.Dispose();
        response.Dispose();
    }
}

/// <summary>
/// A client of other registries (Distribution API v2): manifests and blobs, anonymously, with Basic credentials or through
/// the Docker/OCI token flow (a 401 challenge names a token service, which hands out a bearer token for the repository's
/// pull scope). Tokens are kept for their lifetime. An upstream that answers 429 is left alone until its
/// <c>Retry-After</c> has passed: requests fail at once meanwhile, so a crowd of pulls never becomes a retry storm.
/// Every connection, redirects and token services included, goes through a <see cref="DestinationGuard"/>: the artifact
/// cache's allows HTTPS on public addresses and listed <c>host:port</c> entries over plain HTTP; import's also the sources
/// listed in <c>Berth:Import:AllowedSources</c>. Used by the artifact cache and by import.
/// </summary>
public sealed class RegistryClient : IDisposable
{
    /// <summary>Every manifest type Berth stores, so the upstream answers with its own representation (an index stays an index).</summary>
    public static readonly string[] ManifestTypes =
    [
        MediaTypes.OciIndex, MediaTypes.OciManifest, MediaTypes.DockerManifestList, MediaTypes.DockerManifest,
    ];

    private const int MaxRedirects = 5;
    private static readonly TimeSpan TokenSafetyMargin = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http;
    private readonly DestinationGuard _guard;
    private readonly ArtifactCacheOptions _options;
    private readonly TimeProvider _time;
    /// <summary>
    /// Authorizations by upstream, repository and login: the login is a hash of the username and the password, so a token
    /// obtained with one password is never reused for a request made with another (a wrong password must fail).
    /// </summary>
    private readonly ConcurrentDictionary<(string Authority, string Repository, string? Login), (string Header, DateTimeOffset Expires)> _authorizations = new();
    private readonly ConcurrentDictionary<(string Authority, string Repository, string? Login), Lazy<Task<(string Header, DateTimeOffset Expires)>>> _logins = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _backOffUntil = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The artifact cache's client: upstreams on restricted addresses, and plain HTTP, only when listed in <see cref="ArtifactCacheOptions.AllowHttpUpstreams"/>.</summary>
    public RegistryClient(IOptions<ArtifactCacheOptions> options, TimeProvider time)
        : this(new DestinationGuard(options.Value.AllowHttpUpstreams, options.Value.AllowHttpUpstreams, DestinationGuard.AllowHttpUpstreamsSetting), options.Value, time,
            "Berth-ArtifactCache/1.0")
    {
    }

    /// <summary>
    /// A client whose every connection goes through <paramref name="guard"/> (import has its own list of allowed sources);
    /// <paramref name="userAgent"/> tells an upstream's operator which feature of Berth is asking.
    /// </summary>
    internal RegistryClient(DestinationGuard guard, ArtifactCacheOptions options, TimeProvider time, string userAgent)
    {
        _guard = guard;
        _options = options;
        _time = time;
        // Redirects are followed here, not by the handler, so that credentials stay behind when one leaves the registry's host.
        _http = new HttpClient(guard.CreateHandler(followRedirects: false)) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent);
    }

    /// <summary>
    /// The endpoint for a registry as users name it: <c>host[:port]</c> (HTTPS, or plain HTTP when the guard allows it for
    /// the host) or a URL with an explicit <c>http://</c> or <c>https://</c>. Docker Hub's name maps to its API host.
    /// </summary>
    /// <exception cref="FormatException">The value is not a registry's login server.</exception>
    public UpstreamEndpoint EndpointFor(string registry)
    {
        var value = registry.Trim().TrimEnd('/');
        var schemeGiven = value.Contains("://", StringComparison.Ordinal);
        if (!Uri.TryCreate(schemeGiven ? value : "https://" + value, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http")
            || uri.AbsolutePath != "/" || uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            throw new FormatException($"'{registry}' is not a registry login server (host or host:port)");
        var authority = UpstreamEndpoint.ApiAuthority(uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}");
        var plainHttp = schemeGiven ? uri.Scheme == Uri.UriSchemeHttp : _guard.AllowsHttp(uri.Host, uri.Port);
        return new UpstreamEndpoint(authority, plainHttp);
    }

    /// <summary>Checks now whether the guard lets requests reach <paramref name="endpoint"/>, for a clear error before any work starts.</summary>
    public async Task EnsureReachableAsync(UpstreamEndpoint endpoint, CancellationToken cancellationToken)
    {
        var uri = endpoint.BaseUri;
        try
        {
            await _guard.ResolveAsync(uri.Scheme, uri.IdnHost, uri.Port, cancellationToken);
        }
        catch (OutboundRequestRefusedException refused)
        {
            throw new UpstreamException(UpstreamErrorKind.Refused, endpoint.Authority, refused.Message);
        }
        catch (SocketException error)
        {
            throw new UpstreamException(UpstreamErrorKind.Unreachable, endpoint.Authority, $"unreachable ({error.Message})");
        }
    }

    /// <summary>The manifest's digest and media type by HEAD, or null when the upstream does not have it.</summary>
    public async Task<(Digest Digest, string MediaType)?> HeadManifestAsync(UpstreamEndpoint endpoint, string repository, string reference, UpstreamCredentials? credentials,
        CancellationToken cancellationToken)
    {
        using var response = await SendAsync(endpoint, repository, HttpMethod.Head, $"v2/{repository}/manifests/{reference}", ManifestTypes, credentials, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        var digestText = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault() : null;
        // Without the header only a GET tells the digest; the caller falls back to one.
        if (digestText is null || !Digest.TryParse(digestText, out var digest)) return null;
        return (digest, response.Content.Headers.ContentType?.MediaType ?? "");
    }

    /// <summary>The manifest's exact bytes; its digest is checked when the reference (or the upstream's header) names one.</summary>
    public async Task<UpstreamManifest> GetManifestAsync(UpstreamEndpoint endpoint, string repository, string reference, UpstreamCredentials? credentials,
        CancellationToken cancellationToken)
    {
        using var response = await SendAsync(endpoint, repository, HttpMethod.Get, $"v2/{repository}/manifests/{reference}", ManifestTypes, credentials, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
            throw new UpstreamException(UpstreamErrorKind.NotFound, endpoint.Authority, $"manifest {repository}:{reference} not found");
        EnsureSuccess(endpoint, response, $"manifest {repository}:{reference}");
        if (response.Content.Headers.ContentLength > ManifestParser.MaxManifestBytes)
            throw new UpstreamException(UpstreamErrorKind.BadResponse, endpoint.Authority, $"manifest {repository}:{reference} is larger than {ManifestParser.MaxManifestBytes} bytes");
        var content = await ReadLimitedAsync(endpoint, response, cancellationToken);
        var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
        var expected = Digest.TryParse(reference, out var byReference) ? byReference
            : response.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.FirstOrDefault() ?? "", out var byHeader) ? byHeader
            : (Digest?)null;
        var digest = Digest.Compute(content, expected?.Algorithm ?? Digest.Sha256);
        if (expected is { } wanted && wanted != digest)
            throw new UpstreamException(UpstreamErrorKind.BadResponse, endpoint.Authority, $"manifest {repository}:{reference} has digest {digest}, not {wanted}");
        return new UpstreamManifest(digest, mediaType, content);
    }

    /// <summary>The blob's size by HEAD, or null when the upstream does not have it.</summary>
    public async Task<long?> HeadBlobAsync(UpstreamEndpoint endpoint, string repository, Digest digest, UpstreamCredentials? credentials, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(endpoint, repository, HttpMethod.Head, $"v2/{repository}/blobs/{digest}", null, credentials, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        EnsureSuccess(endpoint, response, $"blob {digest}");
        return response.Content.Headers.ContentLength;
    }

    /// <summary>Opens the blob's download; the caller verifies the bytes against the digest as they stream.</summary>
    public async Task<UpstreamBlob> GetBlobAsync(UpstreamEndpoint endpoint, string repository, Digest digest, UpstreamCredentials? credentials, CancellationToken cancellationToken)
    {
        var response = await SendAsync(endpoint, repository, HttpMethod.Get, $"v2/{repository}/blobs/{digest}", null, credentials, cancellationToken);
        try
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
                throw new UpstreamException(UpstreamErrorKind.NotFound, endpoint.Authority, $"blob {digest} not found in {repository}");
            EnsureSuccess(endpoint, response, $"blob {digest}");
            return new UpstreamBlob(response, await response.Content.ReadAsStreamAsync(cancellationToken));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>The digests of the manifests that refer to <paramref name="subject"/>; empty when the registry does not serve the referrers API.</summary>
    public async Task<IReadOnlyList<Digest>> ListReferrersAsync(UpstreamEndpoint endpoint, string repository, Digest subject, UpstreamCredentials? credentials,
        CancellationToken cancellationToken)
    {
        using var response = await SendAsync(endpoint, repository, HttpMethod.Get, $"v2/{repository}/referrers/{subject}", [MediaTypes.OciIndex], credentials, cancellationToken);
        // Registries without the API answer 404 (distribution 2.x), 405 or 400; the spec's fallback tag schema is not read.
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.BadRequest) return [];
        EnsureSuccess(endpoint, response, $"the referrers of {repository}@{subject}");
        var content = await ReadLimitedAsync(endpoint, response, cancellationToken);
        try
        {
            return ManifestParser.Parse(content, MediaTypes.OciIndex).Manifests.Select(m => m.Digest).ToList();
        }
        catch (OciException error)
        {
            throw new UpstreamException(UpstreamErrorKind.BadResponse, endpoint.Authority, $"answered the referrers API with an invalid index: {error.Message}");
        }
    }

    /// <summary>
    /// One request with authentication, redirects and the destination rules. Answers 404 and 2xx to the caller; a refusal
    /// of the credentials, a 429 or an unreachable upstream become <see cref="UpstreamException"/>s.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(UpstreamEndpoint endpoint, string repository, HttpMethod method, string path, string[]? accept,
        UpstreamCredentials? credentials, CancellationToken cancellationToken)
    {
        var upstream = endpoint.Authority;
        if (_backOffUntil.TryGetValue(upstream, out var until) && until > _time.GetUtcNow())
            throw Throttled(upstream, until - _time.GetUtcNow());

        var key = (upstream, repository, LoginKey(credentials));
        var uri = new Uri(endpoint.BaseUri, path);
        var authorization = _authorizations.TryGetValue(key, out var cached) && cached.Expires > _time.GetUtcNow() ? cached.Header : null;
        var response = await SendFollowingRedirectsAsync(upstream, method, uri, accept, authorization, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
            response.Dispose();
            if (challenge is null)
                throw new UpstreamException(UpstreamErrorKind.Unauthorized, upstream, "answered 401 without a challenge");
            // A request that went out before another one's login finished uses that login rather than starting its own.
            var header = _authorizations.TryGetValue(key, out var current) && current.Expires > _time.GetUtcNow() && current.Header != authorization
                ? current.Header
                : (await LogInOnceAsync(key, () => AuthorizeAsync(upstream, repository, challenge, credentials), cancellationToken)).Header;
            response = await SendFollowingRedirectsAsync(upstream, method, uri, accept, header, cancellationToken);
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                response.Dispose();
                _authorizations.TryRemove(key, out _);
                throw new UpstreamException(UpstreamErrorKind.Unauthorized, upstream, credentials is null
                    ? $"requires credentials for {repository}"
                    : $"refused the credentials of user '{credentials.Username}' for {repository}");
            }
        }
        if (response.StatusCode == HttpStatusCode.Forbidden)
        {
            response.Dispose();
            throw new UpstreamException(UpstreamErrorKind.Unauthorized, upstream, $"denied access to {repository}");
        }
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            var wait = RetryAfter(response) ?? _options.ThrottledBackOff;
            response.Dispose();
            _backOffUntil[upstream] = _time.GetUtcNow() + wait;
            throw Throttled(upstream, wait);
        }
        if ((int)response.StatusCode >= 500)
        {
            var status = (int)response.StatusCode;
            response.Dispose();
            throw new UpstreamException(UpstreamErrorKind.Unreachable, upstream, $"answered {status} for {repository}");
        }
        return response;
    }

    /// <summary>
    /// One login per upstream, repository and login at a time: requests that meet the same challenge together (a client
    /// fetching layers in parallel) share one token request, and the authorization is kept for its lifetime.
    /// </summary>
    private async Task<(string Header, DateTimeOffset Expires)> LogInOnceAsync((string, string, string?) key,
        Func<Task<(string Header, DateTimeOffset Expires)>> logIn, CancellationToken cancellationToken)
    {
        var login = _logins.GetOrAdd(key, _ => new Lazy<Task<(string, DateTimeOffset)>>(async () =>
        {
            var authorization = await logIn();
            _authorizations[key] = authorization;
            return authorization;
        }));
        try
        {
            return await login.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            if (login.Value.IsCompleted) _logins.TryRemove(KeyValuePair.Create(key, login));
        }
    }

    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(string upstream, HttpMethod method, Uri uri, string[]? accept, string? authorization,
        CancellationToken cancellationToken)
    {
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, uri);
            foreach (var type in accept ?? []) request.Headers.Accept.ParseAdd(type);
            if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
            HttpResponseMessage response;
            using (var headersTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                headersTimeout.CancelAfter(_options.UpstreamTimeout);
                try
                {
                    response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headersTimeout.Token);
                }
                catch (Exception error) when (error is HttpRequestException or IOException or SocketException
                    || (error is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    for (var inner = error.InnerException; inner is not null; inner = inner.InnerException)
                    {
                        if (inner is OutboundRequestRefusedException refused) throw new UpstreamException(UpstreamErrorKind.Refused, upstream, refused.Message);
                    }
                    throw new UpstreamException(UpstreamErrorKind.Unreachable, upstream,
                        error is OperationCanceledException ? $"no answer within {_options.UpstreamTimeout}" : Describe(error, uri), inner: error);
                }
            }
            if ((int)response.StatusCode is not (301 or 302 or 303 or 307 or 308) || response.Headers.Location is null) return response;
            if (hop == MaxRedirects)
            {
                response.Dispose();
                throw new UpstreamException(UpstreamErrorKind.BadResponse, upstream, $"more than {MaxRedirects} redirects");
            }
            var next = new Uri(uri, response.Headers.Location);
            response.Dispose();
            // Blob downloads are often sent to object storage with a signed URL: the registry's credentials stay behind.
            if (!string.Equals(next.Authority, uri.Authority, StringComparison.OrdinalIgnoreCase)) authorization = null;
            uri = next;
        }
    }

    /// <summary>
    /// Answers a challenge: Basic sends the credentials as they are; Bearer asks the named token service for a token of the
    /// repository's pull scope, logging in with the credentials when there are some (anonymously otherwise).
    /// </summary>
    private async Task<(string Header, DateTimeOffset Expires)> AuthorizeAsync(string upstream, string repository, AuthenticationHeaderValue challenge,
        UpstreamCredentials? credentials)
    {
        // Shared by every request waiting for this login (LogInOnceAsync), so no one request's cancellation ends it.
        using var timeout = new CancellationTokenSource(_options.UpstreamTimeout * 2);
        var cancellationToken = timeout.Token;
        var basic = credentials is null ? null : "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.Username}:{credentials.Password}"));
        if (string.Equals(challenge.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
        {
            return basic is null
                ? throw new UpstreamException(UpstreamErrorKind.Unauthorized, upstream, $"requires credentials for {repository}")
                : (basic, DateTimeOffset.MaxValue);
        }
        if (!string.Equals(challenge.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase))
            throw new UpstreamException(UpstreamErrorKind.Unauthorized, upstream, $"asks for unsupported authentication '{challenge.Scheme}'");

        var parameters = ChallengeParameters(challenge.Parameter ?? "");
        if (!parameters.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri) || realmUri.Scheme is not ("http" or "https"))
            throw new UpstreamException(UpstreamErrorKind.BadResponse, upstream, "sent a Bearer challenge without a valid realm");
        var query = new List<string>();
        if (parameters.TryGetValue("service", out var service)) query.Add($"service={Uri.EscapeDataString(service)}");
        query.Add($"scope={Uri.EscapeDataString($"repository:{repository}:pull")}");
        var tokenUri = new UriBuilder(realmUri) { Query = string.Join('&', (realmUri.Query.TrimStart('?') is { Length: > 0 } existing ? [existing] : Array.Empty<string>()).Concat(query)) }.Uri;

        using var response = await SendFollowingRedirectsAsync(upstream, HttpMethod.Get, tokenUri, ["application/json"], basic, cancellationToken);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new UpstreamException(UpstreamErrorKind.Unauthorized, upstream, credentials is null
                ? $"its token service {realmUri.Authority} requires credentials for {repository}"
                : $"its token service {realmUri.Authority} refused the credentials of user '{credentials.Username}' for {repository}");
        }
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            var wait = RetryAfter(response) ?? _options.ThrottledBackOff;
            _backOffUntil[upstream] = _time.GetUtcNow() + wait;
            throw Throttled(upstream, wait);
        }
        if (!response.IsSuccessStatusCode)
            throw new UpstreamException(UpstreamErrorKind.Unreachable, upstream, $"its token service {realmUri.Authority} answered {(int)response.StatusCode}");
        try
        {
            using var json = JsonDocument.Parse(await ReadLimitedAsync(upstream, response, 1 << 20, cancellationToken));
            var root = json.RootElement;
            var token = root.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
                : root.TryGetProperty("access_token", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
            if (string.IsNullOrEmpty(token)) throw new JsonException("no token in the answer");
            // The distribution token spec's default lifetime is 60 seconds.
            var lifetime = root.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromSeconds(60);
            // Renewed a little before it runs out (a request must not reach the upstream with a token just expired).
            var margin = TimeSpan.FromTicks(Math.Min(TokenSafetyMargin.Ticks, lifetime.Ticks / 4));
            return ($"Bearer {token}", _time.GetUtcNow() + lifetime - margin);
        }
        catch (JsonException error)
        {
            throw new UpstreamException(UpstreamErrorKind.BadResponse, upstream, $"its token service {realmUri.Authority} sent an unreadable answer: {error.Message}");
        }
    }

    private void EnsureSuccess(UpstreamEndpoint endpoint, HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
            throw new UpstreamException(UpstreamErrorKind.BadResponse, endpoint.Authority, $"answered {(int)response.StatusCode} for {what}");
    }

    private static Task<byte[]> ReadLimitedAsync(UpstreamEndpoint endpoint, HttpResponseMessage response, CancellationToken cancellationToken) =>
        ReadLimitedAsync(endpoint.Authority, response, ManifestParser.MaxManifestBytes, cancellationToken);

    private static async Task<byte[]> ReadLimitedAsync(string upstream, HttpResponseMessage response, int limit, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
                throw new UpstreamException(UpstreamErrorKind.BadResponse, upstream, $"sent more than {limit} bytes where a manifest or token was expected");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static string? LoginKey(UpstreamCredentials? credentials) => credentials is null ? null
        : Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{credentials.Username}\0{credentials.Password}")));

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (header?.Date is { } date) return date - _time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        return null;
    }

    private static UpstreamException Throttled(string upstream, TimeSpan wait) =>
        new(UpstreamErrorKind.Throttled, upstream, $"is throttling requests (429); not asked again for {Math.Ceiling(wait.TotalSeconds)} s", wait);

    private static string Describe(Exception error, Uri uri)
    {
        var message = error.Message;
        for (var inner = error.InnerException; inner is not null; inner = inner.InnerException) message = inner.Message;
        // A registry that speaks plain HTTP fails the TLS handshake: say what would let Berth use HTTP for it.
        var hint = uri.Scheme == Uri.UriSchemeHttps && error is HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError }
            ? $"; a registry served over plain HTTP must be listed in {DestinationGuard.AllowHttpUpstreamsSetting}"
            : "";
        return $"unreachable ({message}){hint}";
    }

    /// <summary><c>realm="...",service="...",scope="..."</c> (RFC 7235 auth-params; values quoted or bare).</summary>
    private static Dictionary<string, string> ChallengeParameters(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] == ',' || char.IsWhiteSpace(text[i]))) i++;
            var equals = text.IndexOf('=', i);
            if (equals < 0) break;
            var name = text[i..equals].Trim();
            i = equals + 1;
            string value;
            if (i < text.Length && text[i] == '"')
            {
                var builder = new StringBuilder();
                for (i++; i < text.Length && text[i] != '"'; i++)
                {
                    if (text[i] == '\\' && i + 1 < text.Length) i++;
                    builder.Append(text[i]);
                }
                i++;
                value = builder.ToString();
            }
            else
            {
                var end = text.IndexOf(',', i);
                if (end < 0) end = text.Length;
                value = text[i..end].Trim();
                i = end;
            }
            result[name] = value;
        }
        return result;
    }

    public void Dispose() => _http.Dispose();
}
