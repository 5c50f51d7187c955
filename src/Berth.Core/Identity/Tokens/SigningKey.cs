using Berth.Core.Identity.Credentials;

namespace Berth.Core.Identity.Tokens;

/// <summary>
/// The RSA key that signs registry tokens, created on first use as a PKCS#8 PEM file
/// (<see cref="FileName"/>, mode 0600, in a 0700 key directory) and kept for the life of the data folder.
/// </summary>
public sealed class SigningKey
{
    public const string FileName = "token-signing-key.pem";
    private const int KeySizeBits = 2048;

    private readonly Lazy<(RSA Rsa, string KeyId)> _key;

    public SigningKey(IOptions<IdentityOptions> options)
    {
        var directory = options.Value.KeyDirectory;
        _key = new Lazy<(RSA, string)>(() => Load(directory));
    }

    /// <summary>The <c>kid</c> header: the libtrust fingerprint of the public key.</summary>
    public string KeyId => _key.Value.KeyId;

    internal RSA Rsa => _key.Value.Rsa;

    /// <summary>
    /// libtrust's key id (reference §1.5): SHA-256 of the DER SubjectPublicKeyInfo, first 240 bits, base32
    /// (RFC 4648, no padding), 12 groups of 4 characters joined by ':'. Docker's token tooling prints ids in this
    /// form, which is why ACR's tokens use it.
    /// </summary>
    public static string ComputeKeyId(RSA rsa)
    {
        var digest = SHA256.HashData(rsa.ExportSubjectPublicKeyInfo());
        var encoded = Base32(digest.AsSpan(0, 30));
        return string.Join(':', Enumerable.Range(0, 12).Select(i => encoded.Substring(i * 4, 4)));
    }

    private static (RSA, string) Load(string directory)
    {
        if (string.IsNullOrWhiteSpace(directory))
            throw new InvalidOperationException("Identity:KeyDirectory is not set; the token signing key has nowhere to live");
        var pem = KeyFiles.ReadOrCreate(directory, FileName, () =>
        {
            using var created = RSA.Create(KeySizeBits);
            return created.ExportPkcs8PrivateKeyPem();
        });
        var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        return (rsa, ComputeKeyId(rsa));
    }

    private static string Base32(ReadOnlySpan<byte> data)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var output = new System.Text.StringBuilder((data.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                output.Append(alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0)
            output.Append(alphabet[(buffer << (5 - bits)) & 31]);
        return output.ToString();
    }
}
