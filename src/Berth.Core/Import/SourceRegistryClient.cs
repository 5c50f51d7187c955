using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Berth.Core.Import;

/// <summary>Username and password for a source registry: sent as Basic, or traded for a bearer token at its realm.</summary>
public sealed record SourceCredentials(string Username, string Password);

/// <summary>An import that cannot be done (a source's refusal or failure, a conflict), with an ARM-style code for the operation's error.</summary>
public sealed class ImportException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>A manifest as a registry served it: the exact bytes, their media type and their digest (computed here).</summary>
public sealed record FetchedManifest(string MediaType, byte[] Content, Digest Digest);

/// <summary>
/// A minimal client of another OCI registry (distribution spec v1.1): manifests, blobs and the referrers API, over one
/// shared, guarded <see cref="HttpClient"/>. It answers the registry's challenge as docker does: Basic credentials when
/// the registry asks for Basic, otherwise the bearer-token flow (GET the challenge's realm with its service and the
/// repository's pull scope, Basic credentials if any, anonymously otherwise), one token kept per scope.
/// </summary>
public sealed class SourceRegistryClient
{
    private const string ManifestAccept =
        MediaTypes.OciIndex + ", " + MediaTypes.OciManifest + ", " + MediaTypes.DockerManifestList + ", " + MediaTypes.DockerManifest;

    private readonly HttpClient _http;
    private readonly SourceCredentials? _credentials;
    private readonly ConcurrentDictionary<string, AuthenticationHeaderValue> _authorizations = new();

    public SourceRegistryClient(HttpClient http, Uri baseUri, SourceCredentials? credentials)
    {
        _http = http;
        BaseUri = baseUri;
        _credentials = credentials;
    }

    /// <summary>The registry's root, <c>https://host[:port]/</c>.</summary>
    public Uri BaseUri { get; }

    public string Host => BaseUri.Authority;

    /// <summary>
    /// The root URL for a login server as users write it (<c>host[:port]</c>, optionally with a scheme): HTTPS, or plain
    /// HTTP when the server's configuration lists the host for it. Docker Hub's name maps to its registry host.
    /// </summary>
    public static Uri BaseUriFor(string registryUri, OutboundRequestGuard guard)
    {
        var value = registryUri.Trim().TrimEnd('/');
        var schemeGiven = value.Contains("://", StringComparison.Ordinal);
        if (!Uri.TryCreate(schemeGiven ? value : "https://" + value, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http")
            || uri.AbsolutePath != "/" || uri.UserInfo.Length > 0 || uri.Query.Length > 0)
            throw new ImportException("InvalidParameter", $"'{registryUri}' is not a registry login server (host or host:port)");
        var scheme = schemeGiven ? uri.Scheme : guard.AllowsHttp(uri.Host, uri.Port) ? "http" : "https";
        var host = uri.Host.Equals("docker.io", StringComparison.OrdinalIgnoreCase) ? "registry-1.docker.io" : uri.Host;
        return new UriBuilder(scheme, host, uri.IsDefaultPort ? -1 : uri.Port).Uri;
    }

    public async Task<FetchedManifest> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(repository, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/manifests/{reference}");
            request.Headers.Accept.ParseAdd(ManifestAccept);
            return request;
        }, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
            throw new ImportException("NotFound", $"the source registry {Host} has no manifest {repository}:{reference} ({reference} not found)");
        EnsureSuccess(response, $"manifest {repository}:{reference}");
        var content = await ReadLimitedAsync(response, ManifestParser.MaxManifestBytes, cancellationToken);
        var mediaType = response.Content.Headers.ContentType?.MediaType ?? MediaTypes.OciManifest;
        var algorithm = Digest.TryParse(reference, out var asked) ? asked.Algorithm : Digest.Sha256;
        var digest = Digest.Compute(content, algorithm);
        if (asked != default && asked != digest)
            throw new ImportException("DigestMismatch", $"the source registry {Host} served {repository}@{reference} with digest {digest}");
        return new FetchedManifest(mediaType, content, digest);
    }

    /// <summary>The blob's response, streaming (the caller reads and disposes it); the body is not verified here.</summary>
    public async Task<HttpResponseMessage> GetBlobAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        var response = await SendAsync(repository, () => new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/blobs/{digest}"), cancellationToken);
        try
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
                throw new ImportException("NotFound", $"the source registry {Host} has no blob {digest} in {repository}");
            EnsureSuccess(response, $"blob {digest} of {repository}");
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>The digests of the manifests that refer to <paramref name="subject"/>; empty when the registry does not serve the referrers API.</summary>
    public async Task<IReadOnlyList<Digest>> ListReferrersAsync(string repository, Digest subject, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(repository, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/referrers/{subject}");
            request.Headers.Accept.ParseAdd(MediaTypes.OciIndex);
            return request;
        }, cancellationToken);
        // Registries without the API answer 404 (distribution 2.x) or 405; the spec's fallback tag schema is not read.
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.BadRequest) return [];
        EnsureSuccess(response, $"referrers of {repository}@{subject}");
        var content = await ReadLimitedAsync(response, ManifestParser.MaxManifestBytes, cancellationToken);
        try
        {
            return ManifestParser.Parse(content, MediaTypes.OciIndex).Manifests.Select(m => m.Digest).ToList();
        }
        catch (OciException error)
        {
            throw new ImportException("InvalidResponse", $"the source registry {Host} answered the referrers API with an invalid index: {error.Message}");
        }
    }

    /// <summary>Sends with the authorization known for the repository's scope, answering a 401 challenge once.</summary>
    private async Task<HttpResponseMessage> SendAsync(string repository, Func<HttpRequestMessage> create, CancellationToken cancellationToken)
    {
        var scope = $"repository:{repository}:pull";
        _authorizations.TryGetValue(scope, out var authorization);
        var response = await SendOnceAsync(create, authorization, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized) return response;

        var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
        response.Dispose();
        authorization = await AuthorizeAsync(challenge, scope, cancellationToken);
        _authorizations[scope] = authorization;
        response = await SendOnceAsync(create, authorization, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized) return response;
        response.Dispose();
        throw Unauthorized(repository);
    }

    private async Task<HttpResponseMessage> SendOnceAsync(Func<HttpRequestMessage> create, AuthenticationHeaderValue? authorization, CancellationToken cancellationToken)
    {
        using var request = create();
        request.RequestUri = new Uri(BaseUri, request.RequestUri!);
        request.Headers.Authorization = authorization;
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException error)
        {
            throw Unreachable(error);
        }
    }

    private async Task<AuthenticationHeaderValue> AuthorizeAsync(AuthenticationHeaderValue? challenge, string scope, CancellationToken cancellationToken)
    {
        if (challenge is null || challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            return _credentials is null
                ? throw new ImportException("Unauthorized", $"the source registry {Host} requires credentials; give a username and password")
                : Basic(_credentials);
        }
        if (!challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
            throw new ImportException("Unauthorized", $"the source registry {Host} asks for {challenge.Scheme} authentication, which Berth does not speak");

        var parameters = ParseChallenge(challenge.Parameter ?? "");
        if (!parameters.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri) || realmUri.Scheme is not ("https" or "http"))
            throw new ImportException("Unauthorized", $"the source registry {Host} sent a bearer challenge without a usable realm");
        var query = new List<string>();
        if (parameters.TryGetValue("service", out var service)) query.Add("service=" + Uri.EscapeDataString(service));
        query.Add("scope=" + Uri.EscapeDataString(scope));
        var tokenUri = new UriBuilder(realmUri) { Query = string.Join('&', (realmUri.Query.TrimStart('?') is { Length: > 0 } q ? [q] : Array.Empty<string>()).Concat(query)) }.Uri;

        using var request = new HttpRequestMessage(HttpMethod.Get, tokenUri);
        if (_credentials is not null) request.Headers.Authorization = Basic(_credentials);
        HttpResponseMessage response;
        try { response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken); }
        catch (HttpRequestException error) { throw Unreachable(error); }
        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) throw Unauthorized(scope.Split(':')[1]);
            EnsureSuccess(response, "a token");
            var body = await ReadLimitedAsync(response, 1 << 20, cancellationToken);
            try
            {
                using var document = JsonDocument.Parse(body);
                var token = document.RootElement.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
                    : document.RootElement.TryGetProperty("access_token", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
                return string.IsNullOrEmpty(token)
                    ? throw new ImportException("Unauthorized", $"the token service of {Host} answered without a token")
                    : new AuthenticationHeaderValue("Bearer", token);
            }
            catch (JsonException)
            {
                throw new ImportException("Unauthorized", $"the token service of {Host} answered with something other than JSON");
            }
        }
    }

    /// <summary>The parameters of a challenge: <c>realm="…",service="…",scope="…"</c> (quoted strings may hold commas).</summary>
    private static Dictionary<string, string> ParseChallenge(string parameter)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (i < parameter.Length)
        {
            while (i < parameter.Length && (parameter[i] == ',' || char.IsWhiteSpace(parameter[i]))) i++;
            var equals = parameter.IndexOf('=', i);
            if (equals < 0) break;
            var key = parameter[i..equals].Trim();
            i = equals + 1;
            string value;
            if (i < parameter.Length && parameter[i] == '"')
            {
                var end = parameter.IndexOf('"', i + 1);
                if (end < 0) end = parameter.Length;
                value = parameter[(i + 1)..end];
                i = end + 1;
            }
            else
            {
                var end = parameter.IndexOf(',', i);
                if (end < 0) end = parameter.Length;
                value = parameter[i..end].Trim();
                i = end;
            }
            result[key] = value;
        }
        return result;
    }

    private static AuthenticationHeaderValue Basic(SourceCredentials credentials) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.Username}:{credentials.Password}")));

    private ImportException Unauthorized(string repository) => new("Unauthorized",
        _credentials is null
            ? $"the source registry {Host} refused anonymous access to {repository}; give a username and password"
            : $"the source registry {Host} refused the credentials of '{_credentials.Username}' for {repository}");

    private ImportException Unreachable(HttpRequestException error)
    {
        for (Exception? inner = error; inner is not null; inner = inner.InnerException)
        {
            if (inner is OutboundRequestRefusedException refused) return new ImportException("SourceNotAllowed", refused.Message);
        }
        var hint = BaseUri.Scheme == "https" && error.HttpRequestError == HttpRequestError.SecureConnectionError
            ? $" (a source served over plain HTTP must be listed in {OutboundRequestGuard.AllowHttpUpstreamsSetting})"
            : "";
        return new ImportException("SourceUnreachable", $"the source registry {Host} could not be reached over {BaseUri.Scheme.ToUpperInvariant()}: {error.Message}{hint}");
    }

    private void EnsureSuccess(HttpResponseMessage response, string what)
    {
        if (response.IsSuccessStatusCode) return;
        throw new ImportException(response.StatusCode == HttpStatusCode.Forbidden ? "Unauthorized" : "SourceRegistryError",
            $"the source registry {Host} answered {(int)response.StatusCode} {response.ReasonPhrase} for {what}");
    }

    private async Task<byte[]> ReadLimitedAsync(HttpResponseMessage response, int limit, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > limit) throw TooLarge(limit);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit) throw TooLarge(limit);
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private ImportException TooLarge(int limit) =>
        new("SourceRegistryError", $"the source registry {Host} sent a document larger than {limit} bytes");
}
