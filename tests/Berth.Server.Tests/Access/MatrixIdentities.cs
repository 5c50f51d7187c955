namespace Berth.Server.Tests.Access;

public enum CallerKind
{
    /// <summary>No Authorization header at all.</summary>
    NoCredentials,

    /// <summary>Credentials the server must refuse (wrong password, disabled token, expired password): 401 without insufficient_scope.</summary>
    Rejected,

    /// <summary>A valid identity: allowed when it holds the endpoint's scope, else 401 with error="insufficient_scope".</summary>
    Valid,

    /// <summary>A valid token whose scope map is widened, used, narrowed, and used again: the very next request must follow.</summary>
    ScopeMapChangedMidTest,
}

/// <summary>
/// One caller of the matrix. <see cref="Actions"/> is what the caller may do on <see cref="Repository"/> (docker scope
/// action names), written out from reference §3.2 (system maps) and the user maps the fixture creates; the expected
/// outcome of every cell is computed from it and the endpoint's needs.
/// </summary>
public sealed record MatrixIdentity(
    string Name,
    CallerKind Kind,
    string? Username = null,
    bool Bearer = false,
    string[]? Actions = null,
    bool Catalog = false,
    string Repository = AuthorizationMatrixFixture.InsideRepository)
{
    public override string ToString() => Name;

    /// <summary>A caller without credentials of its own: none at all, or an anonymous token from the token service.</summary>
    public bool IsAnonymous => Kind == CallerKind.NoCredentials || Kind == CallerKind.Valid && Username is null;

    public bool Allows(MatrixEndpoint endpoint) =>
        endpoint.NeedsCatalog ? Catalog : endpoint.RequiredActions.All(a => (Actions ?? []).Contains(a));

    private static readonly string[] AllActions = ["pull", "push", "delete", "metadata_read", "metadata_write"];

    public static IReadOnlyList<MatrixIdentity> All { get; } = Build();

    /// <summary>
    /// The callers of the matrix on a registry whose anonymous pull covers <see cref="AuthorizationMatrixFixture.InsideRepository"/>
    /// only (<see cref="PublicAuthorizationMatrixFixture"/>): anonymous callers on the public and the private repository,
    /// a token scoped to the private repository reading the public one, and refused credentials on the public one.
    /// </summary>
    public static IReadOnlyList<MatrixIdentity> Public { get; } =
    [
        new("no credentials, public repository", CallerKind.NoCredentials),
        new("no credentials, private repository", CallerKind.NoCredentials, Repository: AuthorizationMatrixFixture.OutsideRepository),
        new("anonymous token, public repository (Bearer)", CallerKind.Valid, Bearer: true, Actions: ["pull", "metadata_read"], Catalog: true),
        new("anonymous token, private repository (Bearer)", CallerKind.Valid, Bearer: true, Actions: [], Catalog: true,
            Repository: AuthorizationMatrixFixture.OutsideRepository),
        new("token on the private repository, reading the public one (Basic)", CallerKind.Valid, AuthorizationMatrixFixture.PrivateReaderToken,
            Actions: ["pull", "metadata_read"], Catalog: true),
        new("token on the private repository, reading the public one (Bearer)", CallerKind.Valid, AuthorizationMatrixFixture.PrivateReaderToken, Bearer: true,
            Actions: ["pull", "metadata_read"], Catalog: true),
        new("token on the private repository, its own repository (Bearer)", CallerKind.Valid, AuthorizationMatrixFixture.PrivateReaderToken, Bearer: true,
            Actions: ["pull", "push", "metadata_read"], Catalog: true, Repository: AuthorizationMatrixFixture.OutsideRepository),
        new("disabled token, public repository (Basic)", CallerKind.Rejected, AuthorizationMatrixFixture.DisabledToken),
        new("token whose password expired, public repository (Basic)", CallerKind.Rejected, AuthorizationMatrixFixture.ExpiredToken),
    ];

    public static MatrixIdentity Get(string name) => All.Concat(Public).Single(i => i.Name == name);

    private static List<MatrixIdentity> Build()
    {
        var identities = new List<MatrixIdentity>
        {
            new("no credentials", CallerKind.NoCredentials),
            new("admin, wrong password (Basic)", CallerKind.Rejected, Username: AuthorizationMatrixFixture.WrongPasswordUser),
            new("admin (Basic)", CallerKind.Valid, AuthorizationMatrixFixture.AdminUser, Actions: AllActions, Catalog: true),
            new("admin (Bearer)", CallerKind.Valid, AuthorizationMatrixFixture.AdminUser, Bearer: true, Actions: AllActions, Catalog: true),
        };
        // The five system scope maps (reference §3.2), each by Basic on /v2 and by a Bearer token from /oauth2/token.
        var system = new (string Token, string Map, string[] Actions)[]
        {
            ("matrix-sys-admin", "_repositories_admin", AllActions),
            ("matrix-sys-pull", "_repositories_pull", ["pull"]),
            ("matrix-sys-pullmeta", "_repositories_pull_metadata_read", ["pull", "metadata_read"]),
            ("matrix-sys-push", "_repositories_push", ["pull", "push"]),
            ("matrix-sys-pushmeta", "_repositories_push_metadata_write", ["pull", "push", "metadata_read", "metadata_write"]),
        };
        foreach (var (token, map, actions) in system)
        {
            identities.Add(new($"token on {map} (Basic)", CallerKind.Valid, token, Actions: actions));
            identities.Add(new($"token on {map} (Bearer)", CallerKind.Valid, token, Bearer: true, Actions: actions));
        }
        // User maps: matrix/* with content read+write and metadata read; * with content read+delete and metadata read.
        string[] prefixActions = ["pull", "push", "metadata_read"];
        identities.Add(new("token on user map matrix/* (Basic)", CallerKind.Valid, AuthorizationMatrixFixture.PrefixToken, Actions: prefixActions));
        identities.Add(new("token on user map matrix/* (Bearer)", CallerKind.Valid, AuthorizationMatrixFixture.PrefixToken, Bearer: true, Actions: prefixActions));
        identities.Add(new("token on user map matrix/*, repository outside it (Basic)", CallerKind.Valid, AuthorizationMatrixFixture.PrefixToken,
            Actions: [], Repository: AuthorizationMatrixFixture.OutsideRepository));
        identities.Add(new("token on user map matrix/*, repository outside it (Bearer)", CallerKind.Valid, AuthorizationMatrixFixture.PrefixToken, Bearer: true,
            Actions: [], Repository: AuthorizationMatrixFixture.OutsideRepository));
        string[] starActions = ["pull", "delete", "metadata_read"];
        identities.Add(new("token on user map * (Basic)", CallerKind.Valid, AuthorizationMatrixFixture.StarToken, Actions: starActions));
        identities.Add(new("token on user map * (Bearer)", CallerKind.Valid, AuthorizationMatrixFixture.StarToken, Bearer: true, Actions: starActions));
        identities.Add(new("disabled token (Basic)", CallerKind.Rejected, AuthorizationMatrixFixture.DisabledToken));
        identities.Add(new("token whose password expired (Basic)", CallerKind.Rejected, AuthorizationMatrixFixture.ExpiredToken));
        identities.Add(new("token whose scope map changes mid-test (Basic)", CallerKind.ScopeMapChangedMidTest, AuthorizationMatrixFixture.ChangingToken, Actions: AllActions));
        identities.Add(new("token whose scope map changes mid-test (Bearer issued before the change)", CallerKind.ScopeMapChangedMidTest, AuthorizationMatrixFixture.ChangingToken,
            Bearer: true, Actions: AllActions));
        return identities;
    }
}
