using System.Net.Http.Headers;

namespace Berth.Cli.DataPlane;

/// <summary>
/// Data-plane calls as az makes them (reference §1.3–1.4, az-cli-surface §3.3): read the challenge from
/// <c>GET /v2/</c>; with -u/-p use Basic directly when challenged with Basic, else a password grant at
/// <c>/oauth2/token</c>; without them exchange the management token for a refresh token at
/// <c>/oauth2/exchange</c> and trade it per scope; with neither, ask for an anonymous token.
/// </summary>
public sealed class RegistryClient
{
    public const string NullGuidUser = "00000000-0000-0000-0000-000000000000";

    private readonly CommandContext _context;
    private readonly string? _username;
    private readonly string? _password;
    private Challenge? _challenge;
    private string? _refreshToken;

    public RegistryClient(CommandContext context, RegistryTarget target, string? username, string? password)
    {
        _context = context;
        Target = target;
        _username = username;
        _password = password;
    }

    public RegistryTarget Target { get; }

    private sealed record Challenge(string Scheme, Uri? Realm, string? Service);

    /// <summary>Reachability and the challenge, as az's first two <c>GET /v2/</c>.</summary>
    public async Task<HttpStatusCode> ProbeAsync()
    {
        using var request = Request(HttpMethod.Get, "v2/");
        using var response = await HttpLog.SendAsync(_context, request);
        if (response.StatusCode == HttpStatusCode.Forbidden)
        {
            throw new CliException($"Looks like you don't have access to registry '{Target.LoginServer}'. Are firewalls and virtual networks enabled?");
        }
        var header = response.Headers.WwwAuthenticate.FirstOrDefault();
        _challenge = header is null ? new Challenge("none", null, null) : new Challenge(header.Scheme, ParseRealm(header.Parameter), Parameter(header.Parameter, "service"));
        return response.StatusCode;
    }

    /// <summary>The registry refresh token for the signed-in management principal: what <c>acr login</c> stores and <c>--expose-token</c> prints.</summary>
    public async Task<string> GetRefreshTokenAsync()
    {
        if (_refreshToken is not null)
        {
            return _refreshToken;
        }
        var challenge = await ChallengeAsync();
        if (challenge.Realm is null || challenge.Service is null)
        {
            throw new CliException($"Registry '{Target.LoginServer}' did not answer GET /v2/ with a Bearer challenge naming realm and service.");
        }
        var managementToken = await _context.Management.GetTokenAsync();
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "access_token",
            ["service"] = challenge.Service,
            ["access_token"] = managementToken,
        };
        var body = await PostFormAsync(challenge.Realm, "/oauth2/exchange", form);
        return _refreshToken = ServerLocator.FirstString(body, "refresh_token")
            ?? throw new CliException($"Registry '{Target.LoginServer}' returned no refresh_token from /oauth2/exchange.");
    }

    /// <summary>Checks -u/-p the way docker login does: the token service must accept them.</summary>
    public async Task VerifyCredentialsAsync()
    {
        var challenge = await ChallengeAsync();
        if (challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase) && challenge.Realm is not null)
        {
            await AccessTokenAsync(null);
            return;
        }
        using var request = Request(HttpMethod.Get, "v2/");
        request.Headers.Authorization = BasicHeader();
        using var response = await HttpLog.SendAsync(_context, request, bodyHasSecrets: true);
        if (!response.IsSuccessStatusCode)
        {
            throw new CliException($"Unable to login to '{Target.LoginServer}': unauthorized: the username or password is wrong.", "Unauthorized");
        }
    }

    /// <summary>The manifest media types a manifest GET accepts, as az sends them.</summary>
    public static readonly string[] ManifestMediaTypes =
    [
        "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json", "application/vnd.oci.artifact.manifest.v1+json",
    ];

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string pathAndQuery, string scope, JsonNode? body = null, IReadOnlyList<string>? accept = null)
    {
        var authorization = await AuthorizationAsync(scope);
        using var request = Request(method, pathAndQuery.TrimStart('/'));
        request.Headers.Authorization = authorization;
        foreach (var mediaType in accept ?? ["application/json"])
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }
        return await HttpLog.SendAsync(_context, request);
    }

    /// <summary>A JSON call that must succeed; data-plane errors become az-style errors.</summary>
    public async Task<(JsonNode? Body, HttpResponseMessage Response)> SendJsonAsync(HttpMethod method, string pathAndQuery, string scope, JsonNode? body = null)
    {
        var response = await SendAsync(method, pathAndQuery, scope, body);
        var json = await ManagementClient.ReadJsonAsync(response);
        if (!response.IsSuccessStatusCode)
        {
            response.Dispose();
            throw DataPlaneError(response.StatusCode, json);
        }
        return (json, response);
    }

    public static CliException DataPlaneError(HttpStatusCode status, JsonNode? body)
    {
        var first = (body?["errors"] as JsonArray)?.FirstOrDefault() ?? body?["error"];
        var code = ServerLocator.FirstString(first, "code");
        var message = ServerLocator.FirstString(first, "message") ?? status switch
        {
            HttpStatusCode.Unauthorized => "Authentication required.",
            HttpStatusCode.NotFound => "The requested data does not exist.",
            HttpStatusCode.MethodNotAllowed => "This operation is not supported by the registry.",
            HttpStatusCode.Conflict => "The operation conflicts with the current state (the resource may be locked).",
            _ => $"The registry answered {(int)status}.",
        };
        return new CliException(message, code, status == HttpStatusCode.NotFound ? CliException.NotFoundExitCode : CliException.GeneralExitCode);
    }

    /// <summary>A 404 whose body is no registry error: the route itself is missing (an /acr/v1 API the server lacks).</summary>
    public static bool IsMissingRoute(HttpStatusCode status, JsonNode? body) =>
        status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed && body?["errors"] is null && body?["error"] is null;

    private async Task<AuthenticationHeaderValue?> AuthorizationAsync(string scope)
    {
        var challenge = await ChallengeAsync();
        if (challenge.Scheme == "none")
        {
            return null;
        }
        if (challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) || challenge.Realm is null)
        {
            return _username is null ? null : BasicHeader();
        }
        return new AuthenticationHeaderValue("Bearer", await AccessTokenAsync(scope));
    }

    private async Task<string> AccessTokenAsync(string? scope)
    {
        var challenge = await ChallengeAsync();
        var form = new Dictionary<string, string> { ["service"] = challenge.Service ?? Target.LoginServer };
        if (scope is not null)
        {
            form["scope"] = scope;
        }
        if (_username is not null)
        {
            form["grant_type"] = "password";
            form["username"] = _username;
            form["password"] = _password ?? "";
        }
        else if (Target.ManagementAvailable)
        {
            form["grant_type"] = "refresh_token";
            form["refresh_token"] = await GetRefreshTokenAsync();
        }
        else
        {
            // Nobody signed in: an anonymous token, which a registry with anonymous pull grants for reads.
            form["grant_type"] = "password";
        }
        var body = await PostFormAsync(challenge.Realm!, "/oauth2/token", form);
        return ServerLocator.FirstString(body, "access_token", "token")
            ?? throw new CliException($"Registry '{Target.LoginServer}' returned no access_token.");
    }

    private async Task<Challenge> ChallengeAsync()
    {
        if (_challenge is null)
        {
            await ProbeAsync();
        }
        return _challenge!;
    }

    /// <summary>az posts to the realm's host with a fixed path; the connection goes where the data plane does, the realm's authority in Host.</summary>
    private async Task<JsonNode?> PostFormAsync(Uri realm, string path, Dictionary<string, string> form)
    {
        // One Berth process serves the token service and every registry: connect where the data plane does,
        // naming the realm's host in Host so the server picks the same registry.
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Target.ConnectTo, path.TrimStart('/'))) { Content = new FormUrlEncodedContent(form) };
        if (!string.Equals(Target.ConnectTo.Authority, realm.Authority, StringComparison.OrdinalIgnoreCase))
        {
            request.Headers.Host = realm.Authority;
        }
        using var response = await HttpLog.SendAsync(_context, request);
        var body = await ManagementClient.ReadJsonAsync(response);
        if (!response.IsSuccessStatusCode)
        {
            var error = DataPlaneError(response.StatusCode, body);
            var detail = ServerLocator.FirstString(body, "error_description") ?? error.Message;
            throw new CliException($"Unable to get a token from {path} for '{Target.LoginServer}': {detail}", error.Code ?? ServerLocator.FirstString(body, "error"));
        }
        return body;
    }

    private HttpRequestMessage Request(HttpMethod method, string relative)
    {
        var request = new HttpRequestMessage(method, new Uri(Target.ConnectTo, relative));
        if (Target.HostHeader is { } host)
        {
            request.Headers.Host = host;
        }
        return request;
    }

    private AuthenticationHeaderValue BasicHeader() =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_username}:{_password}")));

    private static Uri? ParseRealm(string? parameters) =>
        Parameter(parameters, "realm") is { } realm && Uri.TryCreate(realm, UriKind.Absolute, out var uri) ? uri : null;

    /// <summary>Reads one key="value" pair from a WWW-Authenticate parameter list.</summary>
    public static string? Parameter(string? parameters, string key)
    {
        if (parameters is null)
        {
            return null;
        }
        var index = 0;
        while (index < parameters.Length)
        {
            var equals = parameters.IndexOf('=', index);
            if (equals < 0)
            {
                return null;
            }
            var name = parameters[index..equals].Trim(' ', ',');
            string value;
            var next = equals + 1;
            if (next < parameters.Length && parameters[next] == '"')
            {
                var close = parameters.IndexOf('"', next + 1);
                close = close < 0 ? parameters.Length : close;
                value = parameters[(next + 1)..close];
                index = close + 1;
            }
            else
            {
                var comma = parameters.IndexOf(',', next);
                comma = comma < 0 ? parameters.Length : comma;
                value = parameters[next..comma].Trim();
                index = comma;
            }
            if (name.Equals(key, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
            index++;
        }
        return null;
    }

    /// <summary>The next page from a <c>Link: &lt;...&gt;; rel="next"</c> header, relative to the registry.</summary>
    public static string? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links))
        {
            return null;
        }
        foreach (var link in links.SelectMany(l => l.Split(',')))
        {
            if (link.Contains("rel=\"next\"", StringComparison.OrdinalIgnoreCase) || link.Contains("rel=next", StringComparison.OrdinalIgnoreCase))
            {
                var start = link.IndexOf('<');
                var end = link.IndexOf('>');
                if (start >= 0 && end > start)
                {
                    var target = link[(start + 1)..end];
                    return Uri.TryCreate(target, UriKind.Absolute, out var absolute) ? absolute.PathAndQuery : target;
                }
            }
        }
        return null;
    }
}
