using System.Globalization;

namespace Berth.Core.Identity.Credentials;

/// <summary>
/// Hashes of server-generated secrets (token passwords, management client secrets), in a versioned PHC-like string:
/// <c>$sha256$v=1$&lt;salt&gt;$&lt;hash&gt;</c> (base64), the SHA-256 of the salt followed by the secret's UTF-8 bytes.
/// <para>
/// Why a fast hash: a deliberately slow hash (PBKDF2, bcrypt, Argon2) buys time against offline guessing of
/// passwords that people choose, which have few bits of entropy. Berth never stores such a password: every secret it
/// hashes comes from <see cref="PasswordGenerator"/>, 52 characters from a CSPRNG (about 309 bits), which no
/// number of SHA-256 guesses can find, slow or fast. The slowness was therefore no protection, only a cost: each
/// check took about half a CPU-second, so unauthenticated callers could keep the processors busy by sending wrong
/// passwords. The salt keeps equal secrets from having equal hashes.
/// </para>
/// <para>
/// Hashes written before this format, <c>$pbkdf2-sha256$v=1$i=&lt;iterations&gt;$&lt;salt&gt;$&lt;hash&gt;</c>,
/// still verify (with the iteration count they carry), so existing databases keep working; regenerating a password
/// or rotating a secret stores it in the new format.
/// </para>
/// </summary>
public static class PasswordHasher
{
    private const string Prefix = "$sha256$v=1$";
    private const string LegacyPrefix = "$pbkdf2-sha256$v=1$i=";
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    /// <summary>Refuses stored counts far above any sane setting, so a corrupted row cannot hang a request.</summary>
    private const int MaxLegacyIterations = 10_000_000;

    /// <summary>The hash to store for a server-generated <paramref name="secret"/> (never a password a person chose).</summary>
    public static string Hash(string secret)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        return $"{Prefix}{Convert.ToBase64String(salt)}${Convert.ToBase64String(Sha256(salt, secret))}";
    }

    /// <summary>Whether <paramref name="password"/> matches; false for any malformed or unknown-version hash.</summary>
    public static bool Verify(string password, string encoded)
    {
        if (encoded.StartsWith(Prefix, StringComparison.Ordinal))
        {
            var parts = encoded[Prefix.Length..].Split('$');
            if (parts.Length != 2 || !TryDecode(parts[0], parts[1], out var salt, out var expected) || expected.Length != HashBytes)
                return false;
            return CryptographicOperations.FixedTimeEquals(Sha256(salt, password), expected);
        }
        if (encoded.StartsWith(LegacyPrefix, StringComparison.Ordinal))
        {
            var parts = encoded[LegacyPrefix.Length..].Split('$');
            if (parts.Length != 3
                || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations)
                || iterations is < 1 or > MaxLegacyIterations
                || !TryDecode(parts[1], parts[2], out var salt, out var expected) || expected.Length == 0)
                return false;
            var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
            return CryptographicOperations.FixedTimeEquals(actual, expected);
        }
        return false;
    }

    private static byte[] Sha256(byte[] salt, string secret)
    {
        var bytes = new byte[salt.Length + Encoding.UTF8.GetByteCount(secret)];
        salt.CopyTo(bytes, 0);
        Encoding.UTF8.GetBytes(secret, bytes.AsSpan(salt.Length));
        return SHA256.HashData(bytes);
    }

    private static bool TryDecode(string salt, string hash, out byte[] saltBytes, out byte[] hashBytes)
    {
        try
        {
            saltBytes = Convert.FromBase64String(salt);
            hashBytes = Convert.FromBase64String(hash);
            return true;
        }
        catch (FormatException)
        {
            saltBytes = hashBytes = [];
            return false;
        }
    }
}
