using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Berth.Core.Identity.Credentials;

/// <summary>
/// Salted slow hashes for token passwords, in a versioned PHC-like string:
/// <c>$pbkdf2-sha256$v=1$i=&lt;iterations&gt;$&lt;salt&gt;$&lt;hash&gt;</c> (base64). The iteration count
/// travels with each hash so it can be raised without breaking existing passwords.
/// </summary>
public static class PasswordHasher
{
    private const string Prefix = "$pbkdf2-sha256$v=1$i=";
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    /// <summary>Refuses stored counts far above any sane setting, so a corrupted row cannot hang a request.</summary>
    private const int MaxIterations = 10_000_000;

    public static string Hash(string password, int iterations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
        return $"{Prefix}{iterations.ToString(CultureInfo.InvariantCulture)}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    /// <summary>Whether <paramref name="password"/> matches; false for any malformed or unknown-version hash.</summary>
    public static bool Verify(string password, string encoded)
    {
        if (!encoded.StartsWith(Prefix, StringComparison.Ordinal))
            return false;
        var parts = encoded[Prefix.Length..].Split('$');
        if (parts.Length != 3
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations)
            || iterations is < 1 or > MaxIterations)
            return false;
        byte[] salt, expected;
        try
        {
            salt = Convert.FromBase64String(parts[1]);
            expected = Convert.FromBase64String(parts[2]);
        }
        catch (FormatException)
        {
            return false;
        }
        if (expected.Length == 0)
            return false;
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}
