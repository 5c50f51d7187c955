using System.Net;
using Berth.Core.Identity;
using Berth.Core.Registries;

namespace Berth.Server.Tests.Web;

/// <summary>
/// The page shows each visitor exactly what the registry's access policy lets them pull, as <c>/v2</c> would: nothing
/// to an anonymous visitor while anonymous pull is off, only the public repositories while it is limited to patterns,
/// everything to the admin user, a token's own repositories to a token. Content the visitor may not pull is a 404,
/// the same as content that does not exist. Run on SQLite and on PostgreSQL.
/// </summary>
public abstract class WebAccessTests<TServer>(TServer server) : IAsyncLifetime where TServer : BerthTestServer
{
    private const string PublicRepository = "webpub/base";
    private const string PrivateRepository = "webpriv/app";
    private const string TokenRepository = "webteam/api";
    private const string Token = "web-team-reader";

    private readonly TestImage _image = new();
    private string _tokenPassword = "";

    public async Task InitializeAsync()
    {
        foreach (var repository in new[] { PublicRepository, PrivateRepository, TokenRepository })
            await server.Client.PushImageAsync(repository, _image, "1.0");
        _tokenPassword = await server.CreateTokenAsync(Token, "web-team-map", ["repositories/webteam/*/content/read", "repositories/webteam/*/metadata/read"]);
    }

    public Task DisposeAsync() => SetAnonymousAsync(false);

    private Task<RegistryUpdateResult> SetAnonymousAsync(bool enabled, params string[] patterns) =>
        server.Registries.UpdateAsync(server.RegistryName,
            new RegistryPatch(AnonymousPullEnabled: enabled, AnonymousPullRepositories: patterns.Length == 0 ? ["*"] : patterns), "tests", CancellationToken.None);

    [Fact]
    public async Task AnonymousPullOff_RegistryPageListsNothingAndOffersSignIn()
    {
        await SetAnonymousAsync(false);
        using var browser = new Browser(server);
        using var page = await browser.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Empty(Browser.Repositories(page));
        Assert.NotNull(page.One("p#empty a[href^='/-/sign-in']"));
        Assert.NotNull(page.One("a#sign-in"));
        Assert.Null(page.One("#signed-in-as"));
        Assert.DoesNotContain(PublicRepository, page.Html);
    }

    [Fact]
    public async Task AnonymousPullOff_RepositoryAndManifestPagesAre404LikeUnknownOnes()
    {
        await SetAnonymousAsync(false);
        using var browser = new Browser(server);
        using var existing = await browser.GetAsync($"/r/{PublicRepository}");
        using var unknown = await browser.GetAsync("/r/no/such-repository");
        using var manifest = await browser.GetAsync($"/r/{PublicRepository}/-/manifests/{_image.ManifestDigest}");

        Assert.Equal(HttpStatusCode.NotFound, existing.Status);
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal(HttpStatusCode.NotFound, manifest.Status);
        Assert.Equal(unknown.One("main")!.TextContent, existing.One("main")!.TextContent);
        Assert.DoesNotContain(_image.ManifestDigest, manifest.Html);
    }

    [Fact]
    public async Task AnonymousPullForPatterns_ShowsOnlyThePublicRepositories()
    {
        await SetAnonymousAsync(true, "webpub/*");
        using var browser = new Browser(server);
        using var registry = await browser.GetAsync("/");
        using var publicPage = await browser.GetAsync($"/r/{PublicRepository}");
        using var privatePage = await browser.GetAsync($"/r/{PrivateRepository}");
        using var privateManifest = await browser.GetAsync($"/r/{PrivateRepository}/-/manifests/{_image.ManifestDigest}");

        Assert.Equal([PublicRepository], Browser.Repositories(registry));
        Assert.Equal(HttpStatusCode.OK, publicPage.Status);
        Assert.Equal(["1.0"], Browser.Tags(publicPage));
        Assert.Equal(HttpStatusCode.NotFound, privatePage.Status);
        Assert.Equal(HttpStatusCode.NotFound, privateManifest.Status);
    }

    [Fact]
    public async Task AnonymousPullForEveryRepository_ShowsThemAll()
    {
        await SetAnonymousAsync(true);
        using var browser = new Browser(server);
        using var registry = await browser.GetAsync("/");

        Assert.Superset(new HashSet<string> { PublicRepository, PrivateRepository, TokenRepository }, Browser.Repositories(registry).ToHashSet());
    }

    [Fact]
    public async Task Admin_SignsIn_SeesEveryRepository_AndSignsOut()
    {
        await SetAnonymousAsync(false);
        using var browser = new Browser(server);
        using (var signIn = await browser.SignInAsync(server.AdminUsername, server.AdminPassword, $"/r/{PrivateRepository}"))
        {
            Assert.Equal(HttpStatusCode.SeeOther, signIn.Status);
            Assert.Equal($"/r/{PrivateRepository}", signIn.Response.Headers.Location!.OriginalString);
        }
        using (var registry = await browser.GetAsync("/"))
        {
            Assert.Superset(new HashSet<string> { PublicRepository, PrivateRepository, TokenRepository }, Browser.Repositories(registry).ToHashSet());
            Assert.Equal(server.AdminUsername, registry.One("#signed-in-as")!.TextContent);
            Assert.NotNull(registry.One("form#sign-out button"));
        }
        using (var manifest = await browser.GetAsync($"/r/{PrivateRepository}/-/manifests/{_image.ManifestDigest}"))
            Assert.Equal(HttpStatusCode.OK, manifest.Status);

        using (var signOut = await browser.SignOutAsync())
        {
            Assert.Equal(HttpStatusCode.SeeOther, signOut.Status);
            Assert.Contains(signOut.Response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("berth_session=;", StringComparison.Ordinal));
        }
        using var after = await browser.GetAsync("/");
        Assert.Empty(Browser.Repositories(after));
        Assert.NotNull(after.One("a#sign-in"));
    }

    [Fact]
    public async Task ScopedToken_SeesOnlyItsOwnRepositories()
    {
        await SetAnonymousAsync(false);
        using var browser = new Browser(server);
        using (var signIn = await browser.SignInAsync(Token, _tokenPassword))
            Assert.Equal(HttpStatusCode.SeeOther, signIn.Status);

        using var registry = await browser.GetAsync("/");
        using var own = await browser.GetAsync($"/r/{TokenRepository}");
        using var other = await browser.GetAsync($"/r/{PrivateRepository}");

        Assert.Equal([TokenRepository], Browser.Repositories(registry));
        Assert.Equal(Token, registry.One("#signed-in-as")!.TextContent);
        Assert.Equal(HttpStatusCode.OK, own.Status);
        Assert.Equal(HttpStatusCode.NotFound, other.Status);
    }

    [Fact]
    public async Task ScopedToken_WithAnonymousPullForPatterns_SeesItsOwnAndThePublicOnes()
    {
        await SetAnonymousAsync(true, "webpub/*");
        using var browser = new Browser(server);
        using (var signIn = await browser.SignInAsync(Token, _tokenPassword))
            Assert.Equal(HttpStatusCode.SeeOther, signIn.Status);
        using var registry = await browser.GetAsync("/");

        Assert.Equal([PublicRepository, TokenRepository], Browser.Repositories(registry).Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task DisabledToken_EndsTheSessionOnTheNextRequest()
    {
        await SetAnonymousAsync(false);
        const string name = "web-soon-disabled";
        var password = await server.CreateTokenAsync(name, "web-team-map");
        using var browser = new Browser(server);
        using (var signIn = await browser.SignInAsync(name, password))
            Assert.Equal(HttpStatusCode.SeeOther, signIn.Status);
        using (var before = await browser.GetAsync($"/r/{TokenRepository}"))
            Assert.Equal(HttpStatusCode.OK, before.Status);

        await server.Identities.UpdateTokenAsync(server.RegistryName, name, new TokenUpdate(Enabled: false), CancellationToken.None);
        using var after = await browser.GetAsync($"/r/{TokenRepository}");

        Assert.Equal(HttpStatusCode.SeeOther, after.Status);
        Assert.StartsWith("/-/sign-in?returnUrl=", after.Response.Headers.Location!.OriginalString);
        Assert.Contains(after.Response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("berth_session=;", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WrongPassword_IsRefusedWithoutEchoingIt()
    {
        using var browser = new Browser(server);
        const string wrong = "not-the-password-Zq81";
        using var answer = await browser.SignInAsync(server.AdminUsername, wrong);

        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.NotNull(answer.One("p#sign-in-error"));
        Assert.DoesNotContain(wrong, answer.Html);
        Assert.Null(browser.Cookies.GetCookies(server.BaseAddress)["berth_session"]);
    }
}

public sealed class SqliteWebAccessTests(UnthrottledBerthTestServer server)
    : WebAccessTests<UnthrottledBerthTestServer>(server), IClassFixture<UnthrottledBerthTestServer>;

public sealed class PostgreSqlWebAccessTests(PostgreSqlWebAccessTests.Server server)
    : WebAccessTests<PostgreSqlWebAccessTests.Server>(server), IClassFixture<PostgreSqlWebAccessTests.Server>
{
    public sealed class Server() : PostgreSqlBerthTestServer(throttled: false);
}
