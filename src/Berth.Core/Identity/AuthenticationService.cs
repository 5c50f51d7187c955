using Berth.Core.Identity.Credentials;
using Berth.Core.Identity.Tokens;

namespace Berth.Core.Identity;

/// <summary>Why credentials were refused. All are 401 on the wire; the reason feeds logs and error details.</summary>
public enum AuthenticationFailure
{
    None,
    UnknownUser,
    WrongPassword,

    /// <summary>The token is disabled, or the admin user is.</summary>
    Disabled,

    /// <summary>The password matched but its expiry has passed.</summary>
    Expired,

    /// <summary>A JWT that is malformed, tampered with, for another registry, expired, or whose identity or password no longer exists.</summary>
    InvalidToken,

    /// <summary>No credentials and the registry does not allow anonymous pull.</summary>
    AnonymousPullDisabled,
}

public sealed record AuthenticationResult(RegistryPrincipal? Principal, AuthenticationFailure Failure, string Detail)
{
    public bool Succeeded => Principal is not null;

    public static AuthenticationResult Success(RegistryPrincipal principal) => new(principal, AuthenticationFailure.None, "");

    public static AuthenticationResult Fail(AuthenticationFailure failure, string detail) => new(null, failure, detail);
}

/// <summary>
/// Data-plane authentication: turns presented credentials into a <see cref="RegistryPrincipal"/> whose
/// <see cref="RegistryPrincipal.Permissions"/> reflect the identity's state now. Every path re-reads the identity,
/// so a disabled token, an expired or regenerated password, or a changed scope map applies to the next request;
/// only the password check is cached (<see cref="VerificationCache"/>).
/// </summary>
public sealed class AuthenticationService(
    IIdentityStore store,
    RegistryTokenService tokens,
    SecretProtector secrets,
    VerificationCache cache,
    TimeProvider time,
    Management.IManagementCredentialExchange? management = null)
{
    /// <summary>The username with which a password is an ACR refresh (or access) token (reference §1.6).</summary>
    public const string NullGuidUsername = "00000000-0000-0000-0000-000000000000";

    /// <summary>Basic credentials, on <c>/oauth2/token</c> or directly on <c>/v2</c> and <c>/acr/v1</c>.</summary>
    public async Task<AuthenticationResult> AuthenticateBasicAsync(RegistryContext registry, string username, string password, CancellationToken cancellationToken)
    {
        if (username == NullGuidUsername)
            return await AuthenticateJwtAsync(registry, password, acceptAccessTokens: true, cancellationToken);

        var result = await AuthenticatePasswordAsync(registry, username, password, cancellationToken);
        return result.Principal is { } principal ? AuthenticationResult.Success(WithPublicRights(registry, principal)) : result;
    }

    private async Task<AuthenticationResult> AuthenticatePasswordAsync(RegistryContext registry, string username, string password, CancellationToken cancellationToken)
    {
        AuthenticationResult? adminResult = null;
        if (string.Equals(username, registry.Name, StringComparison.OrdinalIgnoreCase))
        {
            adminResult = await AuthenticateAdminAsync(registry, password, cancellationToken);
            if (adminResult.Succeeded)
                return adminResult;
        }
        // A token may share the registry's name (both allow 5-50 alphanumerics); it is tried when the admin path fails.
        var tokenResult = await AuthenticateTokenAsync(registry, username, password, cancellationToken);
        if (adminResult is not null && tokenResult.Failure == AuthenticationFailure.UnknownUser)
            return adminResult;
        return tokenResult;
    }

    /// <summary>
    /// ACR: anonymous pull "applies to all repositories, regardless of the token's scope". So while it is on, a caller
    /// with credentials holds its own rights and the public ones: a CI token scoped to <c>private/app</c> can pull the
    /// public base images too. Credentials that fail are still refused; they never fall back to anonymous.
    /// </summary>
    private static RegistryPrincipal WithPublicRights(RegistryContext registry, RegistryPrincipal principal) =>
        registry.AnonymousPullEnabled ? principal with { Permissions = principal.Permissions.Union(registry.Public) } : principal;

    /// <summary><c>grant_type=refresh_token</c> at <c>/oauth2/token</c> and <c>/oauth2/exchange</c>: access tokens are refused.</summary>
    public Task<AuthenticationResult> AuthenticateRefreshTokenAsync(RegistryContext registry, string refreshToken, CancellationToken cancellationToken) =>
        AuthenticateJwtAsync(registry, refreshToken, acceptAccessTokens: false, cancellationToken);

    /// <summary>
    /// <c>Authorization: Bearer</c> on <c>/v2</c> and <c>/acr/v1</c>: the access token's grant, capped by what the
    /// identity may do now. Anonymous tokens stop working as soon as anonymous pull is turned off.
    /// </summary>
    public async Task<AuthenticationResult> AuthenticateBearerAsync(RegistryContext registry, string accessToken, CancellationToken cancellationToken)
    {
        var validation = tokens.Validate(accessToken, registry.LoginServer);
        if (validation.Claims is not { } claims)
            return AuthenticationResult.Fail(AuthenticationFailure.InvalidToken, $"invalid token: {validation.Failure}");
        if (claims.Kind != RegistryTokenKind.Access)
            return AuthenticationResult.Fail(AuthenticationFailure.InvalidToken, "a refresh token cannot be used as a bearer token");
        return await ResolveClaimsAsync(registry, claims, cancellationToken);
    }

    /// <summary>
    /// The rights a subject holds on its next request, built as a request builds them (the admin user enabled, the token
    /// enabled and its scope map now, the public rights while anonymous pull is on), without its password: what
    /// "who can pull this?" is answered from. A disabled or unknown subject fails with the reason.
    /// </summary>
    public async Task<AuthenticationResult> DescribeAsync(RegistryContext registry, PrincipalKind kind, string? tokenName, CancellationToken cancellationToken)
    {
        switch (kind)
        {
            case PrincipalKind.Anonymous:
                return AuthenticateAnonymous(registry);
            case PrincipalKind.Admin:
                var admin = await store.GetAdminUserOrNullAsync(registry.Name, cancellationToken);
                return admin is { Enabled: true }
                    ? AuthenticationResult.Success(WithPublicRights(registry, new RegistryPrincipal(registry.Name, PrincipalKind.Admin, registry.Name, Permissions.Admin)))
                    : AuthenticationResult.Fail(AuthenticationFailure.Disabled, "the admin user is disabled");
            default:
                var token = tokenName is null ? null : await store.GetTokenOrNullAsync(registry.Name, tokenName, cancellationToken);
                if (token is null)
                    return AuthenticationResult.Fail(AuthenticationFailure.UnknownUser, $"token \"{tokenName}\" does not exist");
                if (!token.Enabled)
                    return AuthenticationResult.Fail(AuthenticationFailure.Disabled, $"token \"{token.Name}\" is disabled");
                var permissions = await GetScopeMapPermissionsAsync(registry.Name, token.ScopeMapName, cancellationToken);
                return AuthenticationResult.Success(WithPublicRights(registry, new RegistryPrincipal(registry.Name, PrincipalKind.Token, token.Name, permissions)));
        }
    }

    /// <summary>A request without credentials: the anonymous principal when the registry allows anonymous pull.</summary>
    public static AuthenticationResult AuthenticateAnonymous(RegistryContext registry) =>
        registry.AnonymousPullEnabled
            ? AuthenticationResult.Success(RegistryPrincipal.Anonymous(registry))
            : AuthenticationResult.Fail(AuthenticationFailure.AnonymousPullDisabled, "anonymous pull is disabled on this registry");

    /// <summary>The access list to put in a token: what was asked, intersected with what the principal may do.</summary>
    public static IReadOnlyList<AccessScope> ComputeGrant(RegistryPrincipal principal, IEnumerable<AccessScope> requested) =>
        Grants.Compute(principal.Permissions, requested);

    private async Task<AuthenticationResult> AuthenticateJwtAsync(RegistryContext registry, string jwt, bool acceptAccessTokens, CancellationToken cancellationToken)
    {
        var validation = tokens.Validate(jwt, registry.LoginServer);
        if (validation.Claims is not { } claims)
            return AuthenticationResult.Fail(AuthenticationFailure.InvalidToken, $"invalid token: {validation.Failure}");
        if (claims.Kind == RegistryTokenKind.Access && !acceptAccessTokens)
            return AuthenticationResult.Fail(AuthenticationFailure.InvalidToken, "an access token cannot be used as a refresh token");
        if (claims.PrincipalKind == PrincipalKind.Anonymous)
            return AuthenticationResult.Fail(AuthenticationFailure.InvalidToken, "an anonymous token is not a credential");
        return await ResolveClaimsAsync(registry, claims, cancellationToken);
    }

    private async Task<AuthenticationResult> ResolveClaimsAsync(RegistryContext registry, RegistryTokenClaims claims, CancellationToken cancellationToken)
    {
        if (!string.Equals(claims.Registry, registry.Name, StringComparison.OrdinalIgnoreCase))
            return AuthenticationResult.Fail(AuthenticationFailure.InvalidToken, "the token was issued for another registry");

        RegistryPrincipal principal;
        switch (claims.PrincipalKind)
        {
            case PrincipalKind.Anonymous:
                var anonymous = AuthenticateAnonymous(registry);
                if (!anonymous.Succeeded)
                    return anonymous;
                principal = anonymous.Principal!;
                break;
            // A registry token obtained at /oauth2/exchange with a management token: re-checked against its service principal.
            case PrincipalKind.Admin when management is not null && management.IsManagementCredential(claims.Credential):
                var delegated = await management.ResolveAsync(registry, claims.Credential!, claims.CredentialCreatedAt, cancellationToken);
                if (delegated is null)
                    return AuthenticationResult.Fail(AuthenticationFailure.InvalidToken, "the management principal the token was issued for no longer exists or has a new secret");
                principal = delegated;
                break;
            case PrincipalKind.Admin:
                var admin = await store.GetAdminUserOrNullAsync(registry.Name, cancellationToken);
                if (admin is not { Enabled: true })
                    return AuthenticationResult.Fail(AuthenticationFailure.Disabled, "the admin user is disabled");
                var adminPassword = CurrentPassword(claims, (AdminPasswordNames.Password, admin.Password), (AdminPasswordNames.Password2, admin.Password2));
                if (adminPassword.Failure is { } adminFailure)
                    return adminFailure;
                principal = new RegistryPrincipal(registry.Name, PrincipalKind.Admin, registry.Name, Permissions.Admin, claims.Credential, adminPassword.Password!.CreatedAt);
                break;
            default:
                var token = await store.GetTokenOrNullAsync(registry.Name, claims.Subject, cancellationToken);
                if (token is null)
                    return AuthenticationResult.Fail(AuthenticationFailure.InvalidToken, $"token \"{claims.Subject}\" no longer exists");
                if (!token.Enabled)
                    return AuthenticationResult.Fail(AuthenticationFailure.Disabled, $"token \"{token.Name}\" is disabled");
                var tokenPassword = CurrentPassword(claims, (TokenPasswordNames.Password1, token.Password1), (TokenPasswordNames.Password2, token.Password2));
                if (tokenPassword.Failure is { } tokenFailure)
                    return tokenFailure;
                principal = new RegistryPrincipal(registry.Name, PrincipalKind.Token, token.Name,
                    await GetScopeMapPermissionsAsync(registry.Name, token.ScopeMapName, cancellationToken), claims.Credential, tokenPassword.Password!.CreatedAt);
                break;
        }

        if (!principal.IsAnonymous) principal = WithPublicRights(registry, principal);
        // An access token is capped by its own grant; a refresh token stands for the identity's full rights.
        if (claims.Kind == RegistryTokenKind.Access)
            principal = principal with
            {
                IdentityRights = principal.Permissions,
                Permissions = principal.Permissions.Intersect(Permissions.FromAccessList(claims.Access)),
                TokenRefused = claims.Refused ?? [],
            };
        return AuthenticationResult.Success(principal);
    }

    /// <summary>
    /// The password a token was issued from must still exist in the same generation (same creation time) and be
    /// unexpired: regenerating or deleting a password ends the tokens obtained with it.
    /// </summary>
    private (StoredPassword? Password, AuthenticationResult? Failure) CurrentPassword(RegistryTokenClaims claims, params (string Name, StoredPassword? Password)[] slots)
    {
        foreach (var (name, password) in slots)
        {
            if (name != claims.Credential)
                continue;
            if (password is null || claims.CredentialCreatedAt is not { } created || password.CreatedAt.ToUnixTimeMilliseconds() != created.ToUnixTimeMilliseconds())
                return (null, AuthenticationResult.Fail(AuthenticationFailure.InvalidToken, $"the password the token was issued from ({name}) was regenerated or deleted"));
            if (IsExpired(password))
                return (null, AuthenticationResult.Fail(AuthenticationFailure.Expired, $"the password the token was issued from ({name}) has expired"));
            return (password, null);
        }
        return (null, AuthenticationResult.Fail(AuthenticationFailure.InvalidToken, "the token does not name a password of its identity"));
    }

    private async Task<AuthenticationResult> AuthenticateAdminAsync(RegistryContext registry, string password, CancellationToken cancellationToken)
    {
        var admin = await store.GetAdminUserOrNullAsync(registry.Name, cancellationToken);
        if (admin is null)
            return AuthenticationResult.Fail(AuthenticationFailure.UnknownUser, "the admin user has never been enabled");
        var slot = cache.GetCredentialOrNull(registry.Name, "admin", admin.Version, password);
        if (slot is null)
        {
            foreach (var (name, stored) in new[] { (AdminPasswordNames.Password, admin.Password), (AdminPasswordNames.Password2, admin.Password2) })
            {
                if (stored is not null && secrets.UnprotectOrNull(stored.Secret, AdminPasswordNames.Context(registry.Name, name)) is { } plaintext
                    && FixedTimeEquals(plaintext, password))
                {
                    slot = name;
                    break;
                }
            }
            if (slot is null)
                return AuthenticationResult.Fail(AuthenticationFailure.WrongPassword, "wrong password for the admin user");
            cache.Add(registry.Name, "admin", admin.Version, password, slot);
        }
        if (!admin.Enabled)
            return AuthenticationResult.Fail(AuthenticationFailure.Disabled, "the admin user is disabled");
        var matched = slot == AdminPasswordNames.Password ? admin.Password! : admin.Password2!;
        if (IsExpired(matched))
            return AuthenticationResult.Fail(AuthenticationFailure.Expired, $"the admin user's {slot} has expired");
        return AuthenticationResult.Success(new RegistryPrincipal(registry.Name, PrincipalKind.Admin, registry.Name, Permissions.Admin, slot, matched.CreatedAt));
    }

    private async Task<AuthenticationResult> AuthenticateTokenAsync(RegistryContext registry, string username, string password, CancellationToken cancellationToken)
    {
        var token = IdentityNames.IsValidTokenName(username) ? await store.GetTokenOrNullAsync(registry.Name, username, cancellationToken) : null;
        if (token is null)
            return AuthenticationResult.Fail(AuthenticationFailure.UnknownUser, $"unknown user \"{username}\"");

        // Verify before looking at the status, so that a wrong password learns nothing about the token.
        var identity = "token:" + token.Name;
        var slot = cache.GetCredentialOrNull(registry.Name, identity, token.Version, password);
        if (slot is null)
        {
            foreach (var (name, stored) in new[] { (TokenPasswordNames.Password1, token.Password1), (TokenPasswordNames.Password2, token.Password2) })
            {
                if (stored is not null && PasswordHasher.Verify(password, stored.Secret))
                {
                    slot = name;
                    break;
                }
            }
            if (slot is null)
                return AuthenticationResult.Fail(AuthenticationFailure.WrongPassword, $"wrong password for token \"{token.Name}\"");
            cache.Add(registry.Name, identity, token.Version, password, slot);
        }
        if (!token.Enabled)
            return AuthenticationResult.Fail(AuthenticationFailure.Disabled, $"token \"{token.Name}\" is disabled");
        var matched = slot == TokenPasswordNames.Password1 ? token.Password1! : token.Password2!;
        if (IsExpired(matched))
            return AuthenticationResult.Fail(AuthenticationFailure.Expired, $"{slot} of token \"{token.Name}\" has expired");
        var permissions = await GetScopeMapPermissionsAsync(registry.Name, token.ScopeMapName, cancellationToken);
        return AuthenticationResult.Success(new RegistryPrincipal(registry.Name, PrincipalKind.Token, token.Name, permissions, slot, matched.CreatedAt));
    }

    /// <summary>
    /// The map is read on every request, so a change applies to the next one; only the parse of its actions is
    /// memoised, keyed by the map's version (which every change bumps).
    /// </summary>
    private async Task<Permissions> GetScopeMapPermissionsAsync(string registry, string scopeMapName, CancellationToken cancellationToken)
    {
        if (SystemScopeMaps.GetOrNull(scopeMapName) is { } system)
            return SystemPermissions[system.Name];
        var stored = await store.GetScopeMapOrNullAsync(registry, scopeMapName, cancellationToken);
        // A token whose map vanished (deletion is refused while in use, but stores can be edited) may do nothing.
        if (stored is null)
            return Permissions.None;
        var key = (registry, stored.Name.ToLowerInvariant(), stored.Version);
        if (_parsedScopeMaps.TryGetValue(key, out var cached))
            return cached;
        if (_parsedScopeMaps.Count >= MaxParsedScopeMaps)
            _parsedScopeMaps.Clear();
        return _parsedScopeMaps[key] = IdentityService.ToScopeMap(stored).ToPermissions();
    }

    private const int MaxParsedScopeMaps = 10_000;

    private static readonly Dictionary<string, Permissions> SystemPermissions =
        SystemScopeMaps.All.ToDictionary(m => m.Name, m => m.ToPermissions());

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Registry, string Name, long Version), Permissions> _parsedScopeMaps = new();

    private bool IsExpired(StoredPassword password) => password.Expiry is { } expiry && time.GetUtcNow() >= expiry;

    private static bool FixedTimeEquals(string a, string b) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(a), System.Text.Encoding.UTF8.GetBytes(b));
}
