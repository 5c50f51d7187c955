using Berth.Core.Files;
using Berth.Core.Identity.Tokens;
using Berth.Server.Access;
using Berth.Server.Requests;
using Berth.Server.Throttling;
using Berth.Server.Web.Pages;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.DataProtection;

namespace Berth.Server.Web;

/// <summary>
/// The read-only web page for people (docs/web.md): <c>/</c> for a browser (<c>Accept: text/html</c>), <c>/r/&lt;repository&gt;</c>,
/// <c>/r/&lt;repository&gt;/-/manifests/&lt;digest&gt;</c>, sign-in and sign-out, and two static assets. Every page admits
/// its visitor through <see cref="WebVisitor.AdmitAsync"/> (the registry's one access policy and its read throttle) and
/// shows only what that visitor may pull; content the visitor may not pull answers 404 like content that does not exist.
/// Only sign-in and sign-out change anything (the session cookie), and both check an antiforgery token.
/// </summary>
public static class WebEndpoints
{
    /// <param name="keyPath">The server's key folder: the antiforgery keys live beside the token signing key, so that nodes
    /// sharing the key folder accept each other's forms, and a restart does not void a form being filled in.</param>
    public static IServiceCollection AddBerthWeb(this IServiceCollection services, string keyPath)
    {
        services.AddSingleton<RegistryBrowser>();
        // Created private before Data Protection writes its first key there (it would create it open to everyone's reading).
        var keys = Path.Combine(keyPath, "data-protection");
        PrivateFiles.EnsureDirectory(keys);
        services.AddDataProtection().SetApplicationName("Berth").PersistKeysToFileSystem(new DirectoryInfo(keys));
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "berth_antiforgery";
            options.Cookie.SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.FormFieldName = "__antiforgery";
            options.SuppressXFrameOptionsHeader = true; // every page sends DENY itself
        });
        return services;
    }

    public static IEndpointRouteBuilder MapWebPages(this IEndpointRouteBuilder app)
    {
        var web = app.MapGroup("").WithMetadata(WebResponses.Group);
        web.MapGet("/", RegistryPageAsync);
        web.MapGet(WebPaths.RepositoryPrefix + "/{**path}", RepositoryOrManifestPageAsync);
        web.MapGet(WebPaths.SignInPath, SignInPageAsync);
        web.MapPost(WebPaths.SignInPath, SignInAsync);
        web.MapPost(WebPaths.SignOutPath, SignOutAsync);
        web.MapGet(WebPaths.AssetsPrefix + "/{name}", (HttpContext context, string name) => WebAssets.ServeAsync(context, name));
        return app;
    }

    private static async Task RegistryPageAsync(HttpContext context)
    {
        // "/" is the page only for a browser; any other client gets the 404 it always had.
        if (!AcceptsHtml(context.Request))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        if (await AdmitAsync(context) is not { } visitor) return;
        var (query, page) = ReadPaging(context.Request);
        var (rows, hasNext) = await Browser(context).ListRepositoriesAsync(visitor, query, page, context.RequestAborted);
        await WebResponses.RenderAsync<RegistryPage>(context, new RegistryPageModel(visitor, query, page, hasNext, rows));
    }

    private static async Task RepositoryOrManifestPageAsync(HttpContext context, string path)
    {
        if (await AdmitAsync(context) is not { } visitor) return;
        var separator = path.IndexOf(WebPaths.ManifestSeparator, StringComparison.Ordinal);
        var repository = separator < 0 ? path : path[..separator];
        var digestText = separator < 0 ? null : path[(separator + WebPaths.ManifestSeparator.Length)..];
        // Checked before any read, as the access step does: a name the visitor may not pull is not looked up at all.
        if (!Names.IsValidRepository(repository) || !visitor.MayPull(repository)
            || await Browser(context).GetRepositoryOrNullAsync(new RepositoryKey(visitor.Registry.Name, repository), context.RequestAborted) is not { } details)
        {
            await WebResponses.NotFoundAsync(context, visitor);
            return;
        }
        if (digestText is null)
            await RepositoryPageAsync(context, visitor, details);
        else if (Digest.TryParse(digestText, out var digest))
            await ManifestPageAsync(context, visitor, repository, digest);
        else
            await WebResponses.NotFoundAsync(context, visitor);
    }

    private static async Task RepositoryPageAsync(HttpContext context, WebVisitor visitor, RepositoryDetails details)
    {
        var browser = Browser(context);
        var key = new RepositoryKey(visitor.Registry.Name, details.Name);
        var (query, _) = ReadPaging(context.Request);
        if (!TagCursor.TryRead(context.Request.Query, out var cursor))
        {
            await WebResponses.BadRequestAsync(context, visitor, "This page's position in the tag list is not one Berth wrote. Start again from the repository's first page.");
            return;
        }
        var tags = await browser.ListTagsAsync(key, query, cursor, context.RequestAborted);
        var newest = query.Length == 0 && tags.Previous is null && tags.Rows.Count > 0
            ? new TagDetails(tags.Rows[0].Tag, tags.Rows[0].Digest, tags.Rows[0].Pushed, tags.Rows[0].Pushed, ContentAttributes.Default)
            : await browser.GetNewestTagOrNullAsync(key, context.RequestAborted);
        var annotations = newest is null ? [] : await browser.DescribeAsync(key, newest.Digest, context.RequestAborted);
        await WebResponses.RenderAsync<RepositoryPage>(context, new RepositoryPageModel(visitor, details.Name, details, annotations, newest, query, tags));
    }

    private static async Task ManifestPageAsync(HttpContext context, WebVisitor visitor, string repository, Digest digest)
    {
        var browser = Browser(context);
        var key = new RepositoryKey(visitor.Registry.Name, repository);
        if (await browser.GetManifestOrNullAsync(key, digest, context.RequestAborted) is not { } stored)
        {
            await WebResponses.NotFoundAsync(context, visitor);
            return;
        }
        var parsed = ManifestParser.Parse(stored.Content, stored.MediaType);
        var config = !parsed.IsIndex && parsed.Config is { } descriptor ? await browser.ReadConfigOrNullAsync(key, descriptor, context.RequestAborted) : null;
        var summary = await browser.SummarizeAsync(key, digest, context.RequestAborted);
        var platforms = parsed.IsIndex ? RegistryBrowser.Platforms(parsed, stored.Content) : [];
        var referrers = await browser.ListReferrersAsync(key, digest, context.RequestAborted);
        var tags = await context.RequestServices.GetRequiredService<IRepositoryDetailsStore>().GetManifestOrNullAsync(key, digest, context.RequestAborted) is { } details
            ? details.Tags : [];
        await WebResponses.RenderAsync<ManifestPage>(context, new ManifestPageModel(visitor, repository, stored, parsed, config, summary.Size, platforms, referrers, tags));
    }

    private static async Task SignInPageAsync(HttpContext context)
    {
        if (await AdmitAsync(context) is not { } visitor) return;
        var returnUrl = WebPaths.LocalOrHome(context.Request.Query["returnUrl"]);
        await RenderSignInAsync(context, visitor, returnUrl, "", null, context.Request.Query["expired"] == "1", StatusCodes.Status200OK);
    }

    /// <summary>
    /// Checks the admin user's or a token's password as the token service does (the failed-guess budget of the address
    /// first), and on success keeps a Berth refresh token in the session cookie: the password itself is never stored.
    /// </summary>
    private static async Task SignInAsync(HttpContext context)
    {
        var registry = await context.RequestServices.GetRequiredService<RegistryResolver>().ResolveAsync(context);
        if (!await ValidAntiforgeryAsync(context)) return;
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var username = form["username"].ToString().Trim();
        var password = form["password"].ToString();
        var returnUrl = WebPaths.LocalOrHome(form["returnUrl"]);
        var registryContext = registry.ToContext();
        if (!await RequestThrottle.ReserveCredentialAttemptAsync(context, registry, WebResponses.WriteThrottledAsync)) return;
        // The null-GUID user presents a token as the password; the page signs in with passwords only.
        var result = username.Length == 0 || password.Length == 0 || username == AuthenticationService.NullGuidUsername
            ? AuthenticationResult.Fail(AuthenticationFailure.UnknownUser, "a user name and a password are needed")
            : await context.RequestServices.GetRequiredService<AuthenticationService>().AuthenticateBasicAsync(registryContext, username, password, context.RequestAborted);
        if (!result.Succeeded) Operations.Audit.TokenRequestRefused(context, registry.Name, result.Failure);
        if (!await RequestThrottle.AdmitTokenRequestAsync(context, registry, result)) return;
        if (result.Principal is not { } principal)
        {
            var visitor = new WebVisitor(registry, WebVisitor.AnonymousOf(registry), signedIn: false);
            await RenderSignInAsync(context, visitor, returnUrl, username, "Unknown user name or wrong password, or the identity is disabled or expired.", false,
                StatusCodes.Status401Unauthorized);
            return;
        }
        SessionCookie.Write(context, context.RequestServices.GetRequiredService<RegistryTokenService>().IssueRefreshToken(registryContext, principal));
        SeeOther(context, returnUrl);
    }

    private static async Task SignOutAsync(HttpContext context)
    {
        if (!await ValidAntiforgeryAsync(context)) return;
        SessionCookie.Clear(context);
        SeeOther(context, "/");
    }

    private static async Task RenderSignInAsync(HttpContext context, WebVisitor visitor, string returnUrl, string username, string? error, bool expired, int status)
    {
        visitor.Antiforgery = AntiforgeryOf(context);
        await WebResponses.RenderAsync<SignInPage>(context, new SignInModel(visitor, returnUrl, username, error, expired), status);
    }

    /// <summary>The visitor of a page, with the antiforgery field its sign-out form needs when signed in; null when the answer was written.</summary>
    private static async Task<WebVisitor?> AdmitAsync(HttpContext context)
    {
        var visitor = await WebVisitor.AdmitAsync(context);
        if (visitor is { SignedIn: true }) visitor.Antiforgery = AntiforgeryOf(context);
        return visitor;
    }

    private static AntiforgeryField AntiforgeryOf(HttpContext context)
    {
        var tokens = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        return new AntiforgeryField(tokens.FormFieldName, tokens.RequestToken!);
    }

    private static async Task<bool> ValidAntiforgeryAsync(HttpContext context)
    {
        if (context.Request.HasFormContentType && await context.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(context)) return true;
        WebResponses.AddSecurityHeaders(context.Response);
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync("The form has expired or did not come from this site; reload the page and try again.\n", context.RequestAborted);
        return false;
    }

    private static void SeeOther(HttpContext context, string location)
    {
        WebResponses.AddSecurityHeaders(context.Response);
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = location;
        context.Response.Headers.CacheControl = "no-store";
    }

    private static bool AcceptsHtml(HttpRequest request) =>
        request.Headers.Accept.Any(value => value?.Contains("text/html", StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>The search text and the 1-based page; a page past any reasonable listing is clamped rather than scanned.</summary>
    private static (string Query, int Page) ReadPaging(HttpRequest request)
    {
        var query = request.Query["q"].ToString().Trim();
        if (query.Length > 256) query = query[..256];
        var page = int.TryParse(request.Query["page"], out var number) ? Math.Clamp(number, 1, 100_000) : 1;
        return (query, page);
    }

    private static RegistryBrowser Browser(HttpContext context) => context.RequestServices.GetRequiredService<RegistryBrowser>();
}
