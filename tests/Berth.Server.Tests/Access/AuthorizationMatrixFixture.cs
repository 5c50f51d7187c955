using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Berth.Core.Identity;
using Berth.Core.Registries;
using Berth.Core.Storage;

namespace Berth.Server.Tests.Access;

/// <summary>
/// One server for the whole matrix, with every identity of <see cref="MatrixIdentity.All"/> created through the
/// identity domain services (as the management plane does) and an image in the repository the cells address.
/// </summary>
public class AuthorizationMatrixFixture : IAsyncLifetime
{
    public const string InsideRepository = "matrix/app";
    public const string OutsideRepository = "other/app";
    public const string AdminUser = "<admin>";
    public const string WrongPasswordUser = "<admin, wrong password>";
    public const string PrefixToken = "matrix-user-prefix";
    public const string StarToken = "matrix-user-star";
    public const string DisabledToken = "matrix-disabled";
    public const string ExpiredToken = "matrix-expired";
    public const string ChangingToken = "matrix-changing";
    public const string ChangingScopeMap = "matrix-changing-map";
    public const string PrivateReaderToken = "matrix-private-reader";

    /// <summary>Every action on matrix/*: what the changing token's map holds before the change.</summary>
    public static readonly string[] WideActions =
    [
        "repositories/matrix/*/content/read", "repositories/matrix/*/content/write", "repositories/matrix/*/content/delete",
        "repositories/matrix/*/metadata/read", "repositories/matrix/*/metadata/write",
    ];

    /// <summary>After the change: pull on an unrelated repository only.</summary>
    public static readonly string[] NarrowActions = ["repositories/elsewhere/content/read"];

    private readonly Dictionary<string, string> _passwords = new();

    public AuthorizationMatrixFixture() : this(new UnthrottledBerthTestServer())
    {
    }

    /// <summary>The same matrix on another server set-up (another provider).</summary>
    protected AuthorizationMatrixFixture(BerthTestServer server) => Server = server;

    public BerthTestServer Server { get; }

    /// <summary>Whether an allowed blob GET answers 307 to the object store instead of the bytes.</summary>
    public virtual bool RedirectsBlobDownloads => false;

    public HttpClient Admin => Server.Client;

    public TestImage Image { get; } = new();

    public static string MountSourceFor(string repository) => repository[..repository.IndexOf('/')] + "/source";

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        _passwords[AdminUser] = Server.AdminPassword;

        // First, so that its expiry has passed by the time the others are made.
        var expiresAt = DateTimeOffset.UtcNow.AddSeconds(3);
        _passwords[ExpiredToken] = await Server.CreateTokenAsync(ExpiredToken, "_repositories_admin", expiry: expiresAt);

        _passwords["matrix-sys-admin"] = await Server.CreateTokenAsync("matrix-sys-admin", "_repositories_admin");
        _passwords["matrix-sys-pull"] = await Server.CreateTokenAsync("matrix-sys-pull", "_repositories_pull");
        _passwords["matrix-sys-pullmeta"] = await Server.CreateTokenAsync("matrix-sys-pullmeta", "_repositories_pull_metadata_read");
        _passwords["matrix-sys-push"] = await Server.CreateTokenAsync("matrix-sys-push", "_repositories_push");
        _passwords["matrix-sys-pushmeta"] = await Server.CreateTokenAsync("matrix-sys-pushmeta", "_repositories_push_metadata_write");
        _passwords[PrefixToken] = await Server.CreateTokenAsync(PrefixToken, "matrix-prefix-map",
            ["repositories/matrix/*/content/read", "repositories/matrix/*/content/write", "repositories/matrix/*/metadata/read"]);
        _passwords[StarToken] = await Server.CreateTokenAsync(StarToken, "matrix-star-map",
            ["repositories/*/content/read", "repositories/*/content/delete", "repositories/*/metadata/read"]);
        _passwords[DisabledToken] = await Server.CreateTokenAsync(DisabledToken, "_repositories_admin");
        await Server.Identities.UpdateTokenAsync(Server.RegistryName, DisabledToken, new TokenUpdate(Enabled: false), CancellationToken.None);
        _passwords[ChangingToken] = await Server.CreateTokenAsync(ChangingToken, ChangingScopeMap, WideActions);
        _passwords[PrivateReaderToken] = await Server.CreateTokenAsync(PrivateReaderToken, "matrix-private-reader-map",
            ["repositories/other/*/content/read", "repositories/other/*/content/write", "repositories/other/*/metadata/read"]);

        foreach (var repository in new[] { InsideRepository, OutsideRepository })
            await Admin.PushImageAsync(repository, Image, "v1");

        var wait = expiresAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(200);
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait);
        if (PublicRepositories is { } patterns)
            await Server.Registries.UpdateAsync(Server.RegistryName, new RegistryPatch(AnonymousPullEnabled: true, AnonymousPullRepositories: patterns), "tests", CancellationToken.None);
    }

    /// <summary>The patterns anonymous pull is limited to on this server, or null when anonymous pull is off.</summary>
    public virtual IReadOnlyList<string>? PublicRepositories => null;

    /// <summary>Whether an anonymous caller may pull <paramref name="repository"/> here.</summary>
    public bool IsPublic(string repository) => PublicRepositories is { } patterns && AnonymousAccess.For(patterns).AllowsRepository(repository, RepositoryActions.Pull);

    public Task DisposeAsync() => Server.DisposeAsync();

    public AuthenticationHeaderValue? Basic(MatrixIdentity identity) => identity.Kind switch
    {
        CallerKind.NoCredentials => null,
        _ when identity.Username is null => null,
        _ when identity.Username == WrongPasswordUser => BerthTestServer.BasicAuthorization(Server.AdminUsername, Server.AdminPassword + "x"),
        _ when identity.Username == AdminUser => BerthTestServer.BasicAuthorization(Server.AdminUsername, Server.AdminPassword),
        _ => BerthTestServer.BasicAuthorization(identity.Username!, _passwords[identity.Username!]),
    };

    /// <summary>Docker's way to a bearer token: GET the realm with Basic credentials and the scopes the challenge named.</summary>
    public async Task<AuthenticationHeaderValue> BearerAsync(MatrixIdentity identity, IEnumerable<string> scopes)
    {
        using var client = Server.CreateClient(Basic(identity));
        var query = "service=" + Uri.EscapeDataString(Server.LoginServer) + string.Concat(scopes.Select(s => "&scope=" + Uri.EscapeDataString(s)));
        using var response = await client.GetAsync("/oauth2/token?" + query);
        await RegistryHttp.EnsureStatusAsync(response, HttpStatusCode.OK, $"getting a token for {identity.Name}");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return new AuthenticationHeaderValue("Bearer", document.RootElement.GetProperty("access_token").GetString());
    }

    public Task SetChangingScopeMapAsync(string[] actions) =>
        Server.Identities.UpdateScopeMapAsync(Server.RegistryName, RegistrySku.Standard, ChangingScopeMap, null, actions, CancellationToken.None);

    public async Task<HttpStatusCode> AdminStatusAsync(HttpMethod method, string path, string? accept = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (accept is not null)
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        using var response = await Admin.SendAsync(request);
        return response.StatusCode;
    }
}

/// <summary>
/// The matrix in the scale-out configuration (metadata in PostgreSQL, blobs in Azure Blob Storage) with blob downloads
/// redirected to the object store, so every cell also shows that authorization is decided before any redirect.
/// </summary>
public sealed class ScaleOutAuthorizationMatrixFixture() : AuthorizationMatrixFixture(new ScaleOutBerthTestServer(throttled: false, redirectDownloads: true))
{
    public override bool RedirectsBlobDownloads => true;
}

/// <summary>The matrix on a registry whose anonymous pull covers <c>matrix/*</c> only: <c>matrix/app</c> is public, <c>other/app</c> private.</summary>
public sealed class PublicAuthorizationMatrixFixture() : AuthorizationMatrixFixture(new UnthrottledBerthTestServer())
{
    public override IReadOnlyList<string>? PublicRepositories => ["matrix/*"];
}

/// <summary>The public matrix in the scale-out configuration (PostgreSQL metadata, Azure Blob Storage blobs, download redirects on).</summary>
public sealed class PublicScaleOutAuthorizationMatrixFixture() : AuthorizationMatrixFixture(new ScaleOutBerthTestServer(throttled: false, redirectDownloads: true))
{
    public override bool RedirectsBlobDownloads => true;

    public override IReadOnlyList<string>? PublicRepositories => ["matrix/*"];
}
