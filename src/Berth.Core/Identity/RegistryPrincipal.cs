namespace Berth.Core.Identity;

public enum PrincipalKind
{
    /// <summary>The registry's admin user.</summary>
    Admin,

    /// <summary>A repository-scoped token.</summary>
    Token,

    /// <summary>A caller without credentials on a registry with anonymous pull on.</summary>
    Anonymous,
}

/// <summary>
/// The registry as the authentication layer needs it; the host resolves it from the request's Host header.
/// <see cref="AnonymousPullEnabled"/> is read per request so that turning anonymous pull off ends existing
/// anonymous tokens at once (DESIGN: Berth goes beyond ACR here).
/// </summary>
public sealed record RegistryContext(string Name, string LoginServer, bool AnonymousPullEnabled, Permissions? AnonymousRights = null)
{
    /// <summary>What anonymous pull allows on this registry while it is on: every repository, or those its patterns cover.</summary>
    public Permissions Public => AnonymousRights ?? Permissions.AnonymousPull;
}

/// <summary>
/// Who is calling and what they may do now. <see cref="Credential"/> and <see cref="CredentialCreatedAt"/> name the
/// password the caller proved (e.g. <c>password1</c>); tokens issued to the principal carry them so that
/// regenerating or deleting that password ends those tokens. <see cref="TokenRefused"/> is set for a caller with an
/// access token: what its token request asked for and was not granted, so the data plane can tell a scope the token
/// service refused (challenging for it again would only loop) from one the client never asked for.
/// </summary>
public sealed record RegistryPrincipal(
    string Registry,
    PrincipalKind Kind,
    string Name,
    Permissions Permissions,
    string? Credential = null,
    DateTimeOffset? CredentialCreatedAt = null,
    IReadOnlyList<AccessScope>? TokenRefused = null)
{
    /// <summary>
    /// Whether the caller proved itself with an access token (a Bearer token, or one given as the null-GUID user's
    /// password), so <see cref="Permissions"/> is capped by that token's grant. Such a principal is never a source of
    /// refresh tokens: a refresh token stands for the identity's full rights, and a leaked pull-only access token must
    /// not become them.
    /// </summary>
    public bool ViaAccessToken => TokenRefused is not null;

    /// <summary>
    /// What the identity itself may do, before any access token's grant caps it: what listings (the catalog) filter by,
    /// since a token asked only for <c>registry:catalog:*</c> holds no repository scope.
    /// </summary>
    public Permissions? IdentityRights { get; init; }

    /// <summary>The repositories a listing may show this caller: those its identity has any right on.</summary>
    public Permissions Visible => IdentityRights ?? Permissions;

    /// <summary>Whether the token service was asked for <paramref name="scope"/> when it issued the caller's access token, and refused some of it.</summary>
    public bool TokenWasRefused(AccessScope scope) =>
        TokenRefused is { } refused && scope.Actions.Any(action => refused.Any(r =>
            r.Type == scope.Type && r.Name == scope.Name && (r.Actions.Contains(action) || r.Actions.Contains(ScopeNames.Wildcard))));

    /// <summary>ACR's subject for anonymous tokens (reference §1.5).</summary>
    public const string AnonymousName = "acr_anon_pull";

    public bool IsAnonymous => Kind == PrincipalKind.Anonymous;

    public static RegistryPrincipal Anonymous(RegistryContext registry) =>
        new(registry.Name, PrincipalKind.Anonymous, AnonymousName, registry.Public);
}
