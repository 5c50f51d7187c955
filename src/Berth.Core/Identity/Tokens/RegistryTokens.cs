namespace Berth.Core.Identity.Tokens;

/// <summary>A signed token and its lifetime (for the token response's <c>expires_in</c> and <c>issued_at</c>).</summary>
public sealed record IssuedToken(string Value, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt)
{
    public int ExpiresInSeconds => (int)Math.Round((ExpiresAt - IssuedAt).TotalSeconds);
}

public enum RegistryTokenKind
{
    /// <summary>Presented as <c>Authorization: Bearer</c> on <c>/v2</c> and <c>/acr/v1</c>; carries an access list.</summary>
    Access,

    /// <summary>Exchanged at <c>/oauth2/token</c> (<c>grant_type=refresh_token</c>) or used as the null-GUID password.</summary>
    Refresh,
}

/// <summary>Why a presented JWT was refused; every case is a 401 on the wire.</summary>
public enum TokenValidationFailure
{
    None,
    Malformed,

    /// <summary><c>alg</c> other than RS256, including <c>none</c> and HMAC algorithms keyed with the public key.</summary>
    UnsupportedAlgorithm,

    /// <summary><c>kid</c> is not this server's key.</summary>
    UnknownKey,
    BadSignature,
    WrongIssuer,

    /// <summary>Issued for another registry (its <c>aud</c> is another login server).</summary>
    WrongAudience,
    Expired,
    NotYetValid,
}

/// <summary>The claims Berth reads back from one of its own tokens.</summary>
public sealed record RegistryTokenClaims(
    RegistryTokenKind Kind,
    string Id,
    string Registry,
    string Subject,
    PrincipalKind PrincipalKind,
    string? Credential,
    DateTimeOffset? CredentialCreatedAt,
    IReadOnlyList<AccessScope> Access,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt,
    IReadOnlyList<AccessScope>? Refused = null);

public sealed record TokenValidationResult(RegistryTokenClaims? Claims, TokenValidationFailure Failure)
{
    public bool Succeeded => Claims is not null;

    public static TokenValidationResult Fail(TokenValidationFailure failure) => new(null, failure);
}
