using System.Security.Cryptography;
using System.Text;

namespace Berth.Conformance.Tests.TestSupport;

/// <summary>Bytes with their digest and size: a blob or a manifest as a client sees it.</summary>
public sealed record Content(byte[] Bytes, string Digest)
{
    public long Size => Bytes.LongLength;

    public static Content Of(byte[] bytes, string algorithm = "sha256") => new(bytes, Digests.Of(bytes, algorithm));

    public static Content Of(string text) => Of(Encoding.UTF8.GetBytes(text));

    public static Content Random(int length = 1024, string algorithm = "sha256") => Of(RandomBytes(length), algorithm);

    public static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        System.Random.Shared.NextBytes(bytes);
        return bytes;
    }
}

public static class Digests
{
    /// <summary>The OCI empty descriptor's content, <c>{}</c>.</summary>
    public const string EmptyJsonDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    public static string Of(byte[] bytes, string algorithm = "sha256") => algorithm switch
    {
        "sha256" => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)),
        "sha512" => "sha512:" + Convert.ToHexStringLower(SHA512.HashData(bytes)),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>A well-formed sha256 digest of nothing this registry holds.</summary>
    public static string Unknown() => Of(Content.RandomBytes(32));
}
