using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Berth.Core.Identity.Credentials;
using Berth.Core.Identity.Tokens;

namespace Berth.Core.Management;

/// <summary>The claims Berth reads back from one of its management tokens.</summary>
public sealed record ManagementTokenClaims(string ClientId, string TenantId, string Audience, DateTimeOffset SecretCreatedAt, DateTimeOffset ExpiresAt);

/// <summary>
/// Issues and validates management access tokens: RS256 JWTs signed with a key of their own (never the registry
/// token key, so a data-plane token can never pass as a management token or the reverse), with AAD-like claims az
/// and the SDKs read (<c>tid</c>, <c>oid</c>, <c>appid</c>, <c>idtyp</c>) and <c>aud</c> = the resource the client
/// asked for (for az, its cloud's <c>active_directory_resource_id</c>, e.g. <c>https://management.core.windows.net/</c>).
/// </summary>
public sealed class ManagementTokenService(TimeProvider time, IOptions<ManagementOptions> options)
{
    public const string FileName = "management-signing-key.pem";
    private const string Algorithm = "RS256";
    private const string TokenType = "management";

    private readonly ManagementOptions _options = options.Value;
    private readonly Lazy<(RSA Rsa, string KeyId)> _key = new(() => LoadKey(
        string.IsNullOrWhiteSpace(options.Value.KeyDirectory) ? options.Value.Directory : options.Value.KeyDirectory));

    public string KeyId => _key.Value.KeyId;

    /// <summary>
    /// The public half of the signing key as an RFC 7517 JSON Web Key (RSA, <c>use</c> sig, RS256), which the
    /// sign-in's discovery document publishes: OIDC clients (MSAL) require a <c>jwks_uri</c> before they ask for a token.
    /// </summary>
    public JsonObject PublicJsonWebKey()
    {
        var parameters = _key.Value.Rsa.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["kty"] = "RSA",
            ["use"] = "sig",
            ["alg"] = Algorithm,
            ["kid"] = KeyId,
            ["n"] = Base64Url.EncodeToString(parameters.Modulus),
            ["e"] = Base64Url.EncodeToString(parameters.Exponent),
        };
    }

    public IssuedToken Issue(ServicePrincipal principal, string audience)
    {
        var now = time.GetUtcNow();
        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
        var expiresAt = issuedAt + _options.AccessTokenLifetime;
        var header = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["typ"] = "JWT", ["alg"] = Algorithm, ["kid"] = KeyId });
        var payload = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(payload))
        {
            writer.WriteStartObject();
            writer.WriteString("aud", audience);
            writer.WriteString("iss", _options.Issuer);
            writer.WriteNumber("iat", issuedAt.ToUnixTimeSeconds());
            writer.WriteNumber("nbf", issuedAt.ToUnixTimeSeconds());
            writer.WriteNumber("exp", expiresAt.ToUnixTimeSeconds());
            writer.WriteString("appid", principal.ClientId);
            writer.WriteString("idtyp", "app");
            writer.WriteString("oid", principal.ClientId);
            writer.WriteString("sub", principal.ClientId);
            writer.WriteString("tid", _options.TenantId);
            writer.WriteString("uti", Guid.NewGuid().ToString("N"));
            writer.WriteString("ver", "1.0");
            writer.WriteString("berth_typ", TokenType);
            writer.WriteNumber("berth_cred_ts", principal.SecretCreatedAt.ToUnixTimeMilliseconds());
            writer.WriteEndObject();
        }
        var signingInput = Base64Url.EncodeToString(header) + "." + Base64Url.EncodeToString(payload.WrittenSpan);
        var signature = _key.Value.Rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return new IssuedToken(signingInput + "." + Base64Url.EncodeToString(signature), issuedAt, expiresAt);
    }

    /// <summary>Checks the header, signature, issuer and lifetime; null for anything this server did not sign or that has expired.</summary>
    public ManagementTokenClaims? ValidateOrNull(string token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 16 * 1024)
            return null;
        var parts = token.Split('.');
        if (parts.Length != 3)
            return null;
        try
        {
            var headerBytes = Base64Url.DecodeFromChars(parts[0]);
            JsonText.EnsureValidStrings(headerBytes); // the header is read before the signature is checked: anyone's bytes
            using (var header = JsonDocument.Parse(headerBytes))
            {
                var root = header.RootElement;
                if (root.ValueKind != JsonValueKind.Object || GetString(root, "alg") != Algorithm || GetString(root, "kid") != KeyId)
                    return null;
            }
            var signature = Base64Url.DecodeFromChars(parts[2]);
            if (!_key.Value.Rsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
                return null;
            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            var claims = payload.RootElement;
            if (claims.ValueKind != JsonValueKind.Object || GetString(claims, "iss") != _options.Issuer || GetString(claims, "berth_typ") != TokenType)
                return null;
            if (GetLong(claims, "exp") is not { } exp || GetLong(claims, "nbf") is not { } nbf || GetLong(claims, "berth_cred_ts") is not { } credTs)
                return null;
            var now = time.GetUtcNow();
            var expiresAt = DateTimeOffset.FromUnixTimeSeconds(exp);
            if (now >= expiresAt + _options.ClockSkew || now + _options.ClockSkew < DateTimeOffset.FromUnixTimeSeconds(nbf))
                return null;
            if (GetString(claims, "appid") is not { Length: > 0 } clientId || GetString(claims, "tid") is not { } tenant)
                return null;
            return new ManagementTokenClaims(clientId, tenant, GetString(claims, "aud") ?? "", DateTimeOffset.FromUnixTimeMilliseconds(credTs), expiresAt);
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException or CryptographicException)
        {
            return null;
        }
    }

    private static (RSA, string) LoadKey(string directory)
    {
        if (string.IsNullOrWhiteSpace(directory))
            throw new InvalidOperationException("Management:Directory is not set; the management signing key has nowhere to live");
        var pem = KeyFiles.ReadOrCreate(directory, FileName, () =>
        {
            using var created = RSA.Create(2048);
            return created.ExportPkcs8PrivateKeyPem();
        });
        var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        return (rsa, SigningKey.ComputeKeyId(rsa));
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? GetLong(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;
}
