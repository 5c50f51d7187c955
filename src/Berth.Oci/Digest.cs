using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Berth.Oci;

/// <summary>
/// A content digest (<c>algorithm:encoded</c>). Only the algorithms the OCI image spec registers are
/// accepted: sha256 (64 lower-case hex digits) and sha512 (128).
/// </summary>
public readonly record struct Digest
{
    public const string Sha256 = "sha256";
    public const string Sha512 = "sha512";

    private Digest(string algorithm, string encoded)
    {
        Algorithm = algorithm;
        Encoded = encoded;
    }

    public string Algorithm { get; }
    public string Encoded { get; }

    public override string ToString() => Algorithm + ":" + Encoded;

    public static Digest Parse(string value) =>
        TryParse(value, out var digest) ? digest : throw new OciException(OciErrorCode.DigestInvalid, $"invalid digest \"{value}\"");

    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest)
    {
        digest = default;
        if (value is null) return false;
        var colon = value.IndexOf(':');
        if (colon <= 0) return false;
        var algorithm = value[..colon];
        var encoded = value[(colon + 1)..];
        var expectedLength = algorithm switch { Sha256 => 64, Sha512 => 128, _ => -1 };
        if (expectedLength < 0 || encoded.Length != expectedLength) return false;
        foreach (var c in encoded)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        }
        digest = new Digest(algorithm, encoded);
        return true;
    }

    public static Digest FromHash(string algorithm, ReadOnlySpan<byte> hash) =>
        new(algorithm, Convert.ToHexStringLower(hash));

    public static Digest Compute(ReadOnlySpan<byte> content, string algorithm = Sha256) =>
        algorithm switch
        {
            Sha256 => FromHash(Sha256, SHA256.HashData(content)),
            Sha512 => FromHash(Sha512, SHA512.HashData(content)),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
        };

    public static IncrementalHash CreateHasher(string algorithm) =>
        algorithm switch
        {
            Sha256 => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
            Sha512 => IncrementalHash.CreateHash(HashAlgorithmName.SHA512),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
        };
}
