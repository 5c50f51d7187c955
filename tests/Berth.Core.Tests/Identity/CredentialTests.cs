using Berth.Core.Identity.Credentials;

namespace Berth.Core.Tests.Identity;

public sealed class CredentialTests
{
    [Fact]
    public void GeneratedPassword_Is52Alphanumerics()
    {
        var password = PasswordGenerator.Generate();
        Assert.Equal(52, password.Length);
        Assert.All(password, c => Assert.True(char.IsAsciiLetterOrDigit(c)));
    }

    [Fact]
    public void GeneratedPasswords_Differ()
    {
        Assert.NotEqual(PasswordGenerator.Generate(), PasswordGenerator.Generate());
    }

    [Fact]
    public void Hash_IsTheSaltedSha256Format()
    {
        var hash = PasswordHasher.Hash("secret");
        Assert.StartsWith("$sha256$v=1$", hash);
        Assert.DoesNotContain("secret", hash);
        var parts = hash.Split('$');
        Assert.Equal(16, Convert.FromBase64String(parts[3]).Length);
        Assert.Equal(32, Convert.FromBase64String(parts[4]).Length);
    }

    [Fact]
    public void Hash_UsesFreshSaltEachTime()
    {
        Assert.NotEqual(PasswordHasher.Hash("secret"), PasswordHasher.Hash("secret"));
    }

    [Fact]
    public void Verify_CorrectPassword_Succeeds()
    {
        Assert.True(PasswordHasher.Verify("secret", PasswordHasher.Hash("secret")));
    }

    [Fact]
    public void Verify_WrongPassword_Fails()
    {
        Assert.False(PasswordHasher.Verify("Secret", PasswordHasher.Hash("secret")));
    }

    [Fact]
    public void Verify_LegacyPbkdf2Hash_StillSucceeds()
    {
        // The format written before salted SHA-256, as existing databases hold it.
        var legacy = LegacyPbkdf2Hash("secret", 1234);

        Assert.True(PasswordHasher.Verify("secret", legacy));
        Assert.False(PasswordHasher.Verify("Secret", legacy));
    }

    /// <summary>A hash in the PBKDF2 format Berth wrote before, built here so that the test pins the stored format.</summary>
    internal static string LegacyPbkdf2Hash(string password, int iterations)
    {
        var salt = System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);
        var hash = System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2(System.Text.Encoding.UTF8.GetBytes(password), salt, iterations,
            System.Security.Cryptography.HashAlgorithmName.SHA256, 32);
        return $"$pbkdf2-sha256$v=1$i={iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    [Theory]
    [InlineData("")]
    [InlineData("plain")]
    [InlineData("$pbkdf2-sha256$v=2$i=1000$AAAA$AAAA")]
    [InlineData("$pbkdf2-sha256$v=1$i=abc$AAAA$AAAA")]
    [InlineData("$pbkdf2-sha256$v=1$i=1000$!!!$AAAA")]
    [InlineData("$pbkdf2-sha256$v=1$i=99999999999$AAAA$AAAA")]
    [InlineData("$sha256$v=2$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("$sha256$v=1$!!!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("$sha256$v=1$AAAA$AAAA")]
    [InlineData("$sha256$v=1$AAAA")]
    public void Verify_MalformedHash_Fails(string encoded)
    {
        Assert.False(PasswordHasher.Verify("secret", encoded));
    }

    [Fact]
    public void SecretProtector_RoundTrips()
    {
        using var fixture = new IdentityFixture();
        var sealedValue = fixture.Secrets.Protect("hunter2", "admin:reg:password");
        Assert.DoesNotContain("hunter2", sealedValue);
        Assert.Equal("hunter2", fixture.Secrets.UnprotectOrNull(sealedValue, "admin:reg:password"));
    }

    [Fact]
    public void SecretProtector_OtherContext_DoesNotDecrypt()
    {
        using var fixture = new IdentityFixture();
        var sealedValue = fixture.Secrets.Protect("hunter2", "admin:reg:password");
        Assert.Null(fixture.Secrets.UnprotectOrNull(sealedValue, "admin:other:password"));
    }

    [Fact]
    public void SecretProtector_KeyFile_IsOwnerOnly()
    {
        using var fixture = new IdentityFixture();
        fixture.Secrets.Protect("x", "c");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite,
            File.GetUnixFileMode(Path.Combine(fixture.KeyDirectory, SecretProtector.KeyFileName)));
    }
}

public sealed class VerificationCacheTests
{
    [Fact]
    public void Added_IsFoundWithSameVersion()
    {
        using var fixture = new IdentityFixture();
        fixture.Cache.Add("reg", "token:t", 7, "pw", "password1");
        Assert.Equal("password1", fixture.Cache.GetCredentialOrNull("reg", "token:t", 7, "pw"));
    }

    [Fact]
    public void VersionChange_Misses()
    {
        using var fixture = new IdentityFixture();
        fixture.Cache.Add("reg", "token:t", 7, "pw", "password1");
        Assert.Null(fixture.Cache.GetCredentialOrNull("reg", "token:t", 8, "pw"));
    }

    [Fact]
    public void OtherPassword_Misses()
    {
        using var fixture = new IdentityFixture();
        fixture.Cache.Add("reg", "token:t", 7, "pw", "password1");
        Assert.Null(fixture.Cache.GetCredentialOrNull("reg", "token:t", 7, "pw2"));
    }

    [Fact]
    public void OtherRegistry_Misses()
    {
        using var fixture = new IdentityFixture();
        fixture.Cache.Add("reg", "token:t", 7, "pw", "password1");
        Assert.Null(fixture.Cache.GetCredentialOrNull("reg2", "token:t", 7, "pw"));
    }

    [Fact]
    public void AfterDuration_Misses()
    {
        using var fixture = new IdentityFixture();
        fixture.Cache.Add("reg", "token:t", 7, "pw", "password1");
        fixture.Time.Advance(TimeSpan.FromSeconds(61));
        Assert.Null(fixture.Cache.GetCredentialOrNull("reg", "token:t", 7, "pw"));
    }

    [Fact]
    public void ZeroDuration_CachesNothing()
    {
        using var fixture = new IdentityFixture(o => o.VerificationCacheDuration = TimeSpan.Zero);
        fixture.Cache.Add("reg", "token:t", 7, "pw", "password1");
        Assert.Equal(0, fixture.Cache.Count);
    }

    [Fact]
    public void FullCache_StaysWithinCapacity()
    {
        using var fixture = new IdentityFixture(o => o.VerificationCacheCapacity = 10);
        for (var i = 0; i < 25; i++)
            fixture.Cache.Add("reg", "token:t", i, "pw", "password1");
        Assert.True(fixture.Cache.Count <= 10);
    }
}
