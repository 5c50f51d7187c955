using Berth.Core.Identity.Tokens;
using Berth.Server.Access;
using Berth.Server.Requests;
using Berth.Server.Throttling;

namespace Berth.Server.Web;

/// <summary>
/// Who is looking at a page, and what the registry's one access policy lets them pull. Built by <see cref="AdmitAsync"/>
/// from the same pieces <c>/v2</c>'s access step uses: the registry resolved from Host (<see cref="RegistryResolver"/>),
/// credentials checked by <see cref="AuthenticationService"/> on every request (the session token is re-checked as a
/// refresh token is, so a disabled token, a regenerated password or a changed scope map applies at once), the public
/// rights from <see cref="AnonymousAccess"/>, and the read throttle (<see cref="RequestThrottle"/>, category Read).
/// </summary>
public sealed class WebVisitor(Registry registry, RegistryPrincipal principal, bool signedIn)
{
    public Registry Registry { get; } = registry;

    /// <summary>The caller; anonymous with no rights at all while the registry's anonymous pull is off.</summary>
    public RegistryPrincipal Principal { get; } = principal;

    public bool SignedIn { get; } = signedIn;

    /// <summary>The antiforgery field of the page's forms (sign-out, sign-in); set by the page that shows one.</summary>
    public AntiforgeryField? Antiforgery { get; set; }

    /// <summary>The path and query of the page, where sign-in returns to.</summary>
    public string ReturnUrl { get; init; } = "/";

    /// <summary>
    /// A visitor without credentials: the anonymous principal <c>/v2</c> would admit, or, while anonymous pull is off, an
    /// anonymous visitor with no rights at all, who sees nothing and is offered sign-in.
    /// </summary>
    public static RegistryPrincipal AnonymousOf(Registry registry) =>
        AuthenticationService.AuthenticateAnonymous(registry.ToContext()).Principal
        ?? new RegistryPrincipal(registry.Name, PrincipalKind.Anonymous, RegistryPrincipal.AnonymousName, Permissions.None);

    /// <summary>Whether the visitor may pull <paramref name="repository"/>: the check <c>GET /v2/&lt;name&gt;/manifests/...</c> makes.</summary>
    public bool MayPull(string repository) => Principal.Permissions.Allows(AccessScope.Repository(repository, ScopeNames.Pull));

    /// <summary>
    /// The visitor of this request, or null when the answer has been written: a 303 to sign-in when the session token no
    /// longer stands (it is cleared; the visitor is told, never silently made anonymous), or the 429 of the throttle.
    /// </summary>
    public static async Task<WebVisitor?> AdmitAsync(HttpContext context)
    {
        var registry = await context.RequestServices.GetRequiredService<RegistryResolver>().ResolveAsync(context);
        var registryContext = registry.ToContext();
        var returnUrl = context.Request.Path + context.Request.QueryString;
        RegistryPrincipal principal;
        var signedIn = false;
        if (SessionCookie.Read(context.Request) is { } session)
        {
            var result = await context.RequestServices.GetRequiredService<AuthenticationService>()
                .AuthenticateRefreshTokenAsync(registryContext, session, context.RequestAborted);
            if (result.Principal is not { } identity)
            {
                Operations.Audit.DataPlaneAuthenticationFailed(context, registry.Name, result.Failure);
                SessionCookie.Clear(context);
                context.Response.Redirect(WebPaths.SignIn(returnUrl, expired: true));
                context.Response.StatusCode = StatusCodes.Status303SeeOther;
                return null;
            }
            principal = identity;
            signedIn = true;
        }
        else
        {
            principal = AnonymousOf(registry);
        }
        if (!await RequestThrottle.AdmitAsync(context, registry, principal, ThrottleCategory.Read, WebResponses.WriteThrottledAsync)) return null;
        return new WebVisitor(registry, principal, signedIn) { ReturnUrl = returnUrl };
    }
}

/// <summary>The hidden form field antiforgery checks on the sign-in and sign-out POSTs.</summary>
public sealed record AntiforgeryField(string Name, string Value);

/// <summary>
/// The session cookie: a Berth refresh token (a signed JWT with a bounded lifetime, re-checked on every request), never
/// the password. HttpOnly so no script reads it, SameSite=Strict so no other site's request carries it, Secure when the
/// page was reached over HTTPS.
/// </summary>
public static class SessionCookie
{
    public const string Name = "berth_session";

    public static string? Read(HttpRequest request) =>
        request.Cookies.TryGetValue(Name, out var value) && !string.IsNullOrEmpty(value) ? value : null;

    public static void Write(HttpContext context, IssuedToken token) =>
        context.Response.Cookies.Append(Name, token.Value, Options(context, token.ExpiresAt));

    public static void Clear(HttpContext context) => context.Response.Cookies.Delete(Name, Options(context, null));

    private static CookieOptions Options(HttpContext context, DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        Secure = context.Request.IsHttps,
        SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Strict,
        Path = "/",
        Expires = expires,
        IsEssential = true,
    };
}
