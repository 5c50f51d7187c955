namespace Berth.Server.Access;

/// <summary>
/// ACR's 401 answers (reference §1.2): a Bearer challenge naming the token endpoint, the login server and, on
/// resource endpoints, the scope needed; and the UNAUTHORIZED body whose <c>detail</c> lists each missing
/// permission with capitalised keys.
/// </summary>
public static class Challenges
{
    public const string AuthenticationRequired = "authentication required, visit https://aka.ms/acr/authorization for more information.";

    /// <summary>
    /// A request without credentials on a registry whose anonymous pull is off: ACR's code and text, after what the
    /// client cannot see otherwise (skopeo shows ACR's text alone as "invalid username/password") — that the registry
    /// is private, and how to log in. <paramref name="host"/> is what the client dialed, so the podman line is its own.
    /// </summary>
    public static string AnonymousPullDisabled(string registryName, HostString host) =>
        $"anonymous pull is disabled on registry {registryName}: log in first (berth acr login -n {registryName}, or podman login {host}). " + AuthenticationRequired;

    /// <summary>Whether <paramref name="required"/> asks only for what anonymous pull would grant (pull, metadata_read, the catalog).</summary>
    public static bool IsPullOnly(IReadOnlyList<AccessScope> required) =>
        required.Count > 0 && required.All(scope => scope.Type == ScopeNames.Registry && scope.Name == ScopeNames.Catalog
            || scope.Type == ScopeNames.Repository && scope.Actions.All(a => a is ScopeNames.Pull or ScopeNames.MetadataRead));

    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// The challenge header. <c>realm</c> uses the host the client reached, so it works whether the client
    /// used the login server or a plain address; <c>service</c> is always the login server (the token audience).
    /// </summary>
    public static string Header(HttpRequest request, string loginServer, IReadOnlyList<AccessScope> required, bool insufficientScope)
    {
        var header = $"Bearer realm=\"{request.Scheme}://{request.Host}/oauth2/token\",service=\"{loginServer}\"";
        if (required.Count > 0) header += $",scope=\"{string.Join(' ', required.Select(s => s.ToString()))}\"";
        if (insufficientScope) header += ",error=\"insufficient_scope\"";
        return header;
    }

    public static async Task WriteAsync(HttpContext context, string loginServer, IReadOnlyList<AccessScope> required, bool insufficientScope, string? message = null)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status401Unauthorized;
        response.Headers.WWWAuthenticate = Header(context.Request, loginServer, required, insufficientScope);
        await WriteUnauthorizedBodyAsync(context, message ?? AuthenticationRequired,
            required.Count == 0 ? null : required.SelectMany(s => s.Actions.Select(a => new { Type = s.Type, Name = s.Name, Action = a })).ToList());
    }

    /// <summary>The UNAUTHORIZED error body alone (the token endpoint answers bad credentials with it, without a challenge).</summary>
    public static async Task WriteUnauthorizedBodyAsync(HttpContext context, string message, object? detail = null)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status401Unauthorized;
        response.ContentType = "application/json; charset=utf-8";
        var body = new { errors = new[] { new { code = OciErrorCode.Unauthorized.Wire(), message, detail } } };
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await JsonSerializer.SerializeAsync(response.Body, body, Json, context.RequestAborted);
    }
}
