using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Berth.Core.Identity;
using Berth.Core.Identity.Tokens;
using Berth.Core.Storage;

namespace Berth.Core.Tests.Identity;

public sealed class RegistryTokenServiceTests : IDisposable
{
    private readonly IdentityFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private RegistryPrincipal Admin => new(IdentityFixture.RegistryName, PrincipalKind.Admin, IdentityFixture.RegistryName, Permissions.Admin, "password", _fixture.Time.GetUtcNow());

    private string IssueAccess(params AccessScope[] access) =>
        _fixture.Tokens.IssueAccessToken(_fixture.Registry, Admin, access).Value;

    private static JsonElement Part(string token, int index) =>
        JsonDocument.Parse(Base64Url.DecodeFromChars(token.Split('.')[index])).RootElement;

    private static string Encode(object value) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(value));

    [Fact]
    public void AccessToken_RecordsWhatItsRequestWasRefused()
    {
        var requested = ScopeParser.Parse("repository:mine:pull,push", "repository:theirs:pull", "repository:all:*");
        var granted = new[] { AccessScope.Repository("mine", "pull"), AccessScope.Repository("all", "*") };

        var token = _fixture.Tokens.IssueAccessToken(_fixture.Registry, Admin, granted, requested).Value;
        var claims = _fixture.Tokens.Validate(token, IdentityFixture.LoginServer).Claims!;

        Assert.Equal(["repository:mine:push", "repository:theirs:pull"], claims.Refused!.Select(a => a.ToString()));
        Assert.Equal(["repository:mine:pull", "repository:all:*"], claims.Access.Select(a => a.ToString()));
    }

    [Fact]
    public void AccessToken_RoundTripsClaims()
    {
        var token = IssueAccess(AccessScope.Repository("foo", "pull", "push"));
        var result = _fixture.Tokens.Validate(token, IdentityFixture.LoginServer);
        Assert.True(result.Succeeded);
        var claims = result.Claims!;
        Assert.Equal(RegistryTokenKind.Access, claims.Kind);
        Assert.Equal(IdentityFixture.RegistryName, claims.Subject);
        Assert.Equal(PrincipalKind.Admin, claims.PrincipalKind);
        Assert.Equal("password", claims.Credential);
        Assert.Equal(["repository:foo:pull,push"], claims.Access.Select(a => a.ToString()));
    }

    [Fact]
    public void AccessToken_HasAcrClaims()
    {
        var payload = Part(IssueAccess(AccessScope.Catalog), 1);
        Assert.Equal("Azure Container Registry", payload.GetProperty("iss").GetString());
        Assert.Equal(IdentityFixture.LoginServer, payload.GetProperty("aud").GetString());
        Assert.Equal("access_token", payload.GetProperty("grant_type").GetString());
        Assert.Equal(4500, payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64());
        Assert.Equal(payload.GetProperty("iat").GetInt64(), payload.GetProperty("nbf").GetInt64());
        Assert.True(Guid.TryParse(payload.GetProperty("jti").GetString(), out _));
        var access = Assert.Single(payload.GetProperty("access").EnumerateArray());
        Assert.Equal("registry", access.GetProperty("type").GetString());
        Assert.Equal("catalog", access.GetProperty("name").GetString());
    }

    [Fact]
    public void Header_IsRs256WithLibtrustKid()
    {
        var header = Part(IssueAccess(), 0);
        Assert.Equal("RS256", header.GetProperty("alg").GetString());
        Assert.Equal(_fixture.SigningKey.KeyId, header.GetProperty("kid").GetString());
        Assert.Matches(new Regex("^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$"), header.GetProperty("kid").GetString());
    }

    [Fact]
    public void KeyId_IsBase32OfFirst240BitsOfSpkiSha256()
    {
        using var rsa = RSA.Create(2048);
        var digest = SHA256.HashData(rsa.ExportSubjectPublicKeyInfo());
        var kid = SigningKey.ComputeKeyId(rsa).Replace(":", "");
        // Decode the base32 back and compare with the digest's first 30 bytes.
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bits = string.Concat(kid.Select(c => Convert.ToString(alphabet.IndexOf(c), 2).PadLeft(5, '0')));
        var bytes = Enumerable.Range(0, 30).Select(i => Convert.ToByte(bits.Substring(i * 8, 8), 2)).ToArray();
        Assert.Equal(48, kid.Length);
        Assert.Equal(digest[..30], bytes);
    }

    [Fact]
    public void AnonymousAccessToken_Lives20Minutes()
    {
        var issued = _fixture.Tokens.IssueAccessToken(_fixture.Registry, RegistryPrincipal.Anonymous(_fixture.Registry), []);
        Assert.Equal(1200, issued.ExpiresInSeconds);
        Assert.Equal(RegistryPrincipal.AnonymousName, Part(issued.Value, 1).GetProperty("sub").GetString());
    }

    [Fact]
    public void RefreshToken_Lives3HoursAndValidatesAsRefresh()
    {
        var issued = _fixture.Tokens.IssueRefreshToken(_fixture.Registry, Admin);
        Assert.Equal(3 * 3600, issued.ExpiresInSeconds);
        Assert.Equal(RegistryTokenKind.Refresh, _fixture.Tokens.Validate(issued.Value, IdentityFixture.LoginServer).Claims!.Kind);
        Assert.Equal("refresh_token", Part(issued.Value, 1).GetProperty("grant_type").GetString());
    }

    [Fact]
    public void ConfiguredLifetime_IsUsed()
    {
        using var fixture = new IdentityFixture(o => o.AccessTokenLifetime = TimeSpan.FromMinutes(5));
        var principal = new RegistryPrincipal(IdentityFixture.RegistryName, PrincipalKind.Admin, IdentityFixture.RegistryName, Permissions.Admin);
        Assert.Equal(300, fixture.Tokens.IssueAccessToken(fixture.Registry, principal, []).ExpiresInSeconds);
    }

    [Fact]
    public void AnonymousRefreshToken_IsRefused()
    {
        Assert.Throws<InvalidOperationException>(() =>
            _fixture.Tokens.IssueRefreshToken(_fixture.Registry, RegistryPrincipal.Anonymous(_fixture.Registry)));
    }

    [Fact]
    public void AlteredSignature_IsRejected()
    {
        var token = IssueAccess();
        var signature = Base64Url.DecodeFromChars(token.Split('.')[2]);
        signature[10] ^= 1;
        var tampered = token[..(token.LastIndexOf('.') + 1)] + Base64Url.EncodeToString(signature);
        Assert.Equal(TokenValidationFailure.BadSignature, _fixture.Tokens.Validate(tampered, IdentityFixture.LoginServer).Failure);
    }

    [Fact]
    public void AlteredPayload_IsRejected()
    {
        var token = IssueAccess(AccessScope.Repository("foo", "pull"));
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1])).Replace("\"pull\"", "\"push\"");
        var tampered = $"{parts[0]}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload))}.{parts[2]}";
        Assert.Equal(TokenValidationFailure.BadSignature, _fixture.Tokens.Validate(tampered, IdentityFixture.LoginServer).Failure);
    }

    [Fact]
    public void OtherRegistryAudience_IsRejected()
    {
        Assert.Equal(TokenValidationFailure.WrongAudience, _fixture.Tokens.Validate(IssueAccess(), "otherregistry.localhost:5000").Failure);
    }

    [Fact]
    public void ExpiredToken_IsRejected()
    {
        var token = IssueAccess();
        _fixture.Time.Advance(TimeSpan.FromMinutes(75) + TimeSpan.FromSeconds(31));
        Assert.Equal(TokenValidationFailure.Expired, _fixture.Tokens.Validate(token, IdentityFixture.LoginServer).Failure);
    }

    [Fact]
    public void TokenJustBeforeExpiry_IsAccepted()
    {
        var token = IssueAccess();
        _fixture.Time.Advance(TimeSpan.FromMinutes(74));
        Assert.True(_fixture.Tokens.Validate(token, IdentityFixture.LoginServer).Succeeded);
    }

    [Fact]
    public void NotYetValidToken_IsRejected()
    {
        var token = IssueAccess();
        _fixture.Time.Advance(TimeSpan.FromMinutes(-5));
        Assert.Equal(TokenValidationFailure.NotYetValid, _fixture.Tokens.Validate(token, IdentityFixture.LoginServer).Failure);
    }

    [Fact]
    public void AlgNone_IsRejected()
    {
        var payload = IssueAccess().Split('.')[1];
        var unsigned = $"{Encode(new { alg = "none", typ = "JWT", kid = _fixture.SigningKey.KeyId })}.{payload}.";
        Assert.Equal(TokenValidationFailure.UnsupportedAlgorithm, _fixture.Tokens.Validate(unsigned, IdentityFixture.LoginServer).Failure);
    }

    [Fact]
    public void Hs256SignedWithPublicKey_IsRejected()
    {
        // The classic key-confusion attack: HMAC keyed with the (public) RSA key bytes.
        var payload = IssueAccess().Split('.')[1];
        var header = Encode(new { alg = "HS256", typ = "JWT", kid = _fixture.SigningKey.KeyId });
        var publicKey = Encoding.ASCII.GetBytes(_fixture.SigningKey.Rsa.ExportSubjectPublicKeyInfoPem());
        var signature = HMACSHA256.HashData(publicKey, Encoding.ASCII.GetBytes($"{header}.{payload}"));
        var forged = $"{header}.{payload}.{Base64Url.EncodeToString(signature)}";
        Assert.Equal(TokenValidationFailure.UnsupportedAlgorithm, _fixture.Tokens.Validate(forged, IdentityFixture.LoginServer).Failure);
    }

    [Fact]
    public void WrongKid_IsRejected()
    {
        var parts = IssueAccess().Split('.');
        var header = Encode(new { alg = "RS256", typ = "JWT", kid = "AAAA:BBBB:CCCC:DDDD:EEEE:FFFF:GGGG:HHHH:IIII:JJJJ:KKKK:LLLL" });
        Assert.Equal(TokenValidationFailure.UnknownKey, _fixture.Tokens.Validate($"{header}.{parts[1]}.{parts[2]}", IdentityFixture.LoginServer).Failure);
    }

    [Fact]
    public void TokenFromAnotherKey_IsRejected()
    {
        using var other = new IdentityFixture();
        var token = other.Tokens.IssueAccessToken(other.Registry, Admin, []).Value;
        Assert.Equal(TokenValidationFailure.UnknownKey, _fixture.Tokens.Validate(token, IdentityFixture.LoginServer).Failure);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("a.b")]
    [InlineData("a.b.c.d")]
    [InlineData("!!!.???.***")]
    [InlineData("e30.e30.e30")]
    public void MalformedToken_IsRejected(string token)
    {
        Assert.False(_fixture.Tokens.Validate(token, IdentityFixture.LoginServer).Succeeded);
    }

    [Fact]
    public void SigningKey_IsKeptAcrossInstances()
    {
        var token = IssueAccess();
        var reloaded = new RegistryTokenService(new SigningKey(_fixture.Options), _fixture.Time, _fixture.Options);
        Assert.True(reloaded.Validate(token, IdentityFixture.LoginServer).Succeeded);
    }

    [Fact]
    public void SigningKeyFile_IsMode0600()
    {
        _ = _fixture.SigningKey.KeyId;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite,
            File.GetUnixFileMode(Path.Combine(_fixture.KeyDirectory, SigningKey.FileName)));
    }

    [Fact]
    public void KeyDirectory_IsMode0700()
    {
        _ = _fixture.SigningKey.KeyId;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_fixture.KeyDirectory));
    }

    [Fact]
    public void LooseKeyFile_IsTightenedOnLoad()
    {
        _ = _fixture.SigningKey.KeyId;
        var path = Path.Combine(_fixture.KeyDirectory, SigningKey.FileName);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        _ = new SigningKey(_fixture.Options).KeyId;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void SigningKeyFile_IsPkcs8Pem()
    {
        _ = _fixture.SigningKey.KeyId;
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(Path.Combine(_fixture.KeyDirectory, SigningKey.FileName)));
    }

    [Fact]
    public void CapitalisedAccessKeys_AreRead()
    {
        // ACR's anonymous tokens use Type/Name/Actions; Berth reads both spellings.
        var parts = IssueAccess().Split('.');
        var payload = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(Base64Url.DecodeFromChars(parts[1]))!;
        var rewritten = payload.ToDictionary(p => p.Key, p => (object)p.Value);
        rewritten["access"] = new[] { new Dictionary<string, object> { ["Type"] = "repository", ["Name"] = "foo", ["Actions"] = new[] { "pull" } } };
        var signingInput = $"{parts[0]}.{Encode(rewritten)}";
        var signature = _fixture.SigningKey.Rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var result = _fixture.Tokens.Validate($"{signingInput}.{Base64Url.EncodeToString(signature)}", IdentityFixture.LoginServer);
        Assert.Equal(["repository:foo:pull"], result.Claims!.Access.Select(a => a.ToString()));
    }
}
