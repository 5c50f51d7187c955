using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace Berth.Core.Identity.Tokens;

/// <summary>
/// Issues and validates the registry's JWTs: RS256, <c>kid</c> in libtrust form, claims shaped like ACR's
/// (reference §1.5): <c>jti, sub, nbf, exp, iat, iss, aud</c> (= login server), <c>version, rid, access,
/// roles, grant_type</c>. Berth adds private claims the validator needs to re-check the identity later:
/// <c>berth_typ</c> (access|refresh), <c>berth_kind</c> (admin|token|anonymous), <c>berth_cred</c> and
/// <c>berth_cred_ts</c> (which password, and its creation time in Unix ms), and on access tokens <c>berth_refused</c>
/// (what the token request asked for and was not granted, shaped like <c>access</c>). Validation trusts nothing it did
/// not sign: the header is checked before the signature and the claims only after it.
/// </summary>
public sealed class RegistryTokenService(SigningKey key, TimeProvider time, IOptions<IdentityOptions> options)
{
    private const string Algorithm = "RS256";
    private readonly IdentityOptions _options = options.Value;

    public string KeyId => key.KeyId;

    /// <summary>
    /// An access token carrying <paramref name="access"/> (normally <see cref="Grants.Compute"/>'s result of
    /// <paramref name="requested"/>) and what of <paramref name="requested"/> it was refused.
    /// </summary>
    public IssuedToken IssueAccessToken(RegistryContext registry, RegistryPrincipal principal, IReadOnlyList<AccessScope> access, IReadOnlyList<AccessScope>? requested = null)
    {
        var lifetime = principal.IsAnonymous ? _options.AnonymousAccessTokenLifetime : _options.AccessTokenLifetime;
        return Issue(registry, principal, RegistryTokenKind.Access, access, lifetime, requested is null ? [] : Refused(requested, access));
    }

    /// <summary>Most characters of refused scopes a token records; past it the rest is left out and merely asked about again.</summary>
    private const int RefusedBudget = 2048;

    /// <summary>The actions of <paramref name="requested"/> that <paramref name="granted"/> does not hold, per resource.</summary>
    private static List<AccessScope> Refused(IReadOnlyList<AccessScope> requested, IReadOnlyList<AccessScope> granted)
    {
        var refused = new List<AccessScope>();
        var budget = RefusedBudget;
        foreach (var group in requested.GroupBy(s => (s.Type, s.Name)))
        {
            var held = granted.Where(g => g.Type == group.Key.Type && g.Name == group.Key.Name).SelectMany(g => g.Actions).ToHashSet();
            if (held.Contains(ScopeNames.Wildcard)) continue;
            var missing = group.SelectMany(s => s.Actions).Distinct().Where(a => !held.Contains(a)).ToList();
            if (missing.Count == 0) continue;
            var entry = new AccessScope(group.Key.Type, group.Key.Name, missing);
            budget -= entry.ToString().Length;
            if (budget < 0) break;
            refused.Add(entry);
        }
        return refused;
    }

    /// <summary>
    /// A refresh token: no access list; it stands for the identity's full rights and is re-checked on every use. So only a
    /// caller that proved the identity itself (a password, a refresh token, a management credential) may get one.
    /// </summary>
    public IssuedToken IssueRefreshToken(RegistryContext registry, RegistryPrincipal principal)
    {
        if (principal.IsAnonymous)
            throw new InvalidOperationException("anonymous callers never get refresh tokens");
        if (principal.ViaAccessToken)
            throw new InvalidOperationException("an access token never yields a refresh token");
        return Issue(registry, principal, RegistryTokenKind.Refresh, [], _options.RefreshTokenLifetime, []);
    }

    /// <summary>Most validated tokens remembered; a busy client presents the same token on every request.</summary>
    private const int ValidatedTokenCapacity = 50_000;

    /// <summary>
    /// Tokens whose signature and claims already checked out, so the RSA verification runs once per token rather than
    /// once per request. Only the lifetime is re-checked on a hit; the identity behind the token is re-checked by the
    /// caller on every request anyway.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Token, string Audience), RegistryTokenClaims> _validated = new();

    /// <summary>Checks signature, algorithm, key, issuer, audience and lifetime; the identity itself is the caller's to re-check.</summary>
    public TokenValidationResult Validate(string token, string audience)
    {
        if (_validated.TryGetValue((token, audience), out var known))
        {
            if (time.GetUtcNow() < known.ExpiresAt + _options.ClockSkew)
                return new TokenValidationResult(known, TokenValidationFailure.None);
            _validated.TryRemove((token, audience), out _);
            return TokenValidationResult.Fail(TokenValidationFailure.Expired);
        }
        var result = ValidateUncached(token, audience);
        if (result.Claims is { } claims)
        {
            if (_validated.Count >= ValidatedTokenCapacity) _validated.Clear();
            _validated[(token, audience)] = claims;
        }
        return result;
    }

    private TokenValidationResult ValidateUncached(string token, string audience)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 16 * 1024)
            return TokenValidationResult.Fail(TokenValidationFailure.Malformed);
        var firstDot = token.IndexOf('.');
        var secondDot = firstDot < 0 ? -1 : token.IndexOf('.', firstDot + 1);
        if (firstDot <= 0 || secondDot < 0 || token.IndexOf('.', secondDot + 1) >= 0)
            return TokenValidationResult.Fail(TokenValidationFailure.Malformed);

        var header = DecodeOrNull(token.AsSpan(0, firstDot));
        var payload = DecodeOrNull(token.AsSpan(firstDot + 1, secondDot - firstDot - 1));
        var signature = DecodeOrNull(token.AsSpan(secondDot + 1));
        if (header is null || payload is null)
            return TokenValidationResult.Fail(TokenValidationFailure.Malformed);

        try
        {
            using (var headerJson = JsonDocument.Parse(header))
            {
                var root = headerJson.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                    return TokenValidationResult.Fail(TokenValidationFailure.Malformed);
                if (!root.TryGetProperty("alg", out var alg) || alg.ValueKind != JsonValueKind.String || alg.GetString() != Algorithm)
                    return TokenValidationResult.Fail(TokenValidationFailure.UnsupportedAlgorithm);
                if (!root.TryGetProperty("kid", out var kid) || kid.ValueKind != JsonValueKind.String || kid.GetString() != key.KeyId)
                    return TokenValidationResult.Fail(TokenValidationFailure.UnknownKey);
            }

            // Checked after the header so that an unsigned "alg: none" token is reported as what it is.
            if (signature is null)
                return TokenValidationResult.Fail(TokenValidationFailure.BadSignature);
            var signed = Encoding.ASCII.GetBytes(token, 0, secondDot);
            if (!key.Rsa.VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
                return TokenValidationResult.Fail(TokenValidationFailure.BadSignature);

            using var payloadJson = JsonDocument.Parse(payload);
            return ReadClaims(payloadJson.RootElement, audience);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            return TokenValidationResult.Fail(TokenValidationFailure.Malformed);
        }
    }

    private TokenValidationResult ReadClaims(JsonElement root, string audience)
    {
        if (root.ValueKind != JsonValueKind.Object)
            return TokenValidationResult.Fail(TokenValidationFailure.Malformed);
        if (GetString(root, "iss") != _options.Issuer)
            return TokenValidationResult.Fail(TokenValidationFailure.WrongIssuer);
        if (!HasAudience(root, audience))
            return TokenValidationResult.Fail(TokenValidationFailure.WrongAudience);

        if (GetLong(root, "exp") is not { } exp || GetLong(root, "nbf") is not { } nbf || GetLong(root, "iat") is not { } iat)
            return TokenValidationResult.Fail(TokenValidationFailure.Malformed);
        var now = time.GetUtcNow();
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(exp);
        if (now >= expiresAt + _options.ClockSkew)
            return TokenValidationResult.Fail(TokenValidationFailure.Expired);
        if (now + _options.ClockSkew < DateTimeOffset.FromUnixTimeSeconds(nbf))
            return TokenValidationResult.Fail(TokenValidationFailure.NotYetValid);

        RegistryTokenKind? kind = GetString(root, "berth_typ") switch
        {
            "access" => RegistryTokenKind.Access,
            "refresh" => RegistryTokenKind.Refresh,
            _ => null,
        };
        PrincipalKind? principalKind = GetString(root, "berth_kind") switch
        {
            "admin" => PrincipalKind.Admin,
            "token" => PrincipalKind.Token,
            "anonymous" => PrincipalKind.Anonymous,
            _ => null,
        };
        var subject = GetString(root, "sub");
        var registry = GetString(root, "rid");
        if (kind is null || principalKind is null || string.IsNullOrEmpty(subject) || string.IsNullOrEmpty(registry))
            return TokenValidationResult.Fail(TokenValidationFailure.Malformed);

        var credentialTimestamp = GetLong(root, "berth_cred_ts");
        return new TokenValidationResult(new RegistryTokenClaims(
            kind.Value,
            GetString(root, "jti") ?? "",
            registry,
            subject,
            principalKind.Value,
            GetString(root, "berth_cred"),
            credentialTimestamp is { } ts ? DateTimeOffset.FromUnixTimeMilliseconds(ts) : null,
            ReadAccess(root, "access"),
            DateTimeOffset.FromUnixTimeSeconds(iat),
            expiresAt,
            ReadAccess(root, "berth_refused")), TokenValidationFailure.None);
    }

    private IssuedToken Issue(RegistryContext registry, RegistryPrincipal principal, RegistryTokenKind kind, IReadOnlyList<AccessScope> access, TimeSpan lifetime,
        IReadOnlyList<AccessScope> refused)
    {
        var now = time.GetUtcNow();
        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
        var expiresAt = issuedAt + lifetime;

        var header = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["typ"] = "JWT",
            ["alg"] = Algorithm,
            ["kid"] = key.KeyId,
        });

        var payload = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(payload))
        {
            writer.WriteStartObject();
            writer.WriteString("jti", Guid.NewGuid().ToString());
            writer.WriteString("sub", principal.Name);
            writer.WriteNumber("nbf", issuedAt.ToUnixTimeSeconds());
            writer.WriteNumber("exp", expiresAt.ToUnixTimeSeconds());
            writer.WriteNumber("iat", issuedAt.ToUnixTimeSeconds());
            writer.WriteString("iss", _options.Issuer);
            writer.WriteString("aud", registry.LoginServer);
            writer.WriteString("version", kind == RegistryTokenKind.Access ? "2.0" : "1.0");
            writer.WriteString("rid", registry.Name);
            if (kind == RegistryTokenKind.Access)
                WriteScopes(writer, "access", access);
            writer.WriteStartArray("roles");
            writer.WriteEndArray();
            writer.WriteString("grant_type", kind == RegistryTokenKind.Access ? "access_token" : "refresh_token");
            writer.WriteString("berth_typ", kind == RegistryTokenKind.Access ? "access" : "refresh");
            writer.WriteString("berth_kind", principal.Kind switch
            {
                PrincipalKind.Admin => "admin",
                PrincipalKind.Token => "token",
                _ => "anonymous",
            });
            if (principal.Credential is not null)
                writer.WriteString("berth_cred", principal.Credential);
            if (principal.CredentialCreatedAt is { } created)
                writer.WriteNumber("berth_cred_ts", created.ToUnixTimeMilliseconds());
            if (kind == RegistryTokenKind.Access)
                WriteScopes(writer, "berth_refused", refused);
            writer.WriteEndObject();
        }

        var signingInput = Base64Url.EncodeToString(header) + "." + Base64Url.EncodeToString(payload.WrittenSpan);
        var signature = key.Rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return new IssuedToken(signingInput + "." + Base64Url.EncodeToString(signature), issuedAt, expiresAt);
    }

    private static void WriteScopes(Utf8JsonWriter writer, string property, IReadOnlyList<AccessScope> scopes)
    {
        writer.WriteStartArray(property);
        foreach (var entry in scopes)
        {
            writer.WriteStartObject();
            writer.WriteString("type", entry.Type);
            writer.WriteString("name", entry.Name);
            writer.WriteStartArray("actions");
            foreach (var action in entry.Actions)
                writer.WriteStringValue(action);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    /// <summary>Reads a list of scopes shaped like <c>access</c>, with either key casing (ACR's anonymous tokens capitalise them).</summary>
    private static IReadOnlyList<AccessScope> ReadAccess(JsonElement root, string property)
    {
        if (!root.TryGetProperty(property, out var access) || access.ValueKind != JsonValueKind.Array)
            return [];
        var entries = new List<AccessScope>();
        foreach (var item in access.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
                continue;
            var type = GetString(item, "type") ?? GetString(item, "Type");
            var name = GetString(item, "name") ?? GetString(item, "Name");
            if (type is null || name is null)
                continue;
            var actions = new List<string>();
            if ((item.TryGetProperty("actions", out var list) || item.TryGetProperty("Actions", out list)) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var action in list.EnumerateArray())
                {
                    if (action.ValueKind == JsonValueKind.String)
                        actions.Add(action.GetString()!);
                }
            }
            entries.Add(new AccessScope(type, name, actions));
        }
        return entries;
    }

    private static bool HasAudience(JsonElement root, string audience)
    {
        if (!root.TryGetProperty("aud", out var aud))
            return false;
        if (aud.ValueKind == JsonValueKind.String)
            return string.Equals(aud.GetString(), audience, StringComparison.OrdinalIgnoreCase);
        return aud.ValueKind == JsonValueKind.Array && aud.EnumerateArray().Any(a =>
            a.ValueKind == JsonValueKind.String && string.Equals(a.GetString(), audience, StringComparison.OrdinalIgnoreCase));
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? GetLong(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;

    private static byte[]? DecodeOrNull(ReadOnlySpan<char> segment)
    {
        if (segment.IsEmpty)
            return null;
        try
        {
            return Base64Url.DecodeFromChars(segment);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
