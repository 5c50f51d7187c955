using System.Text;
using System.Text.Json;

namespace Berth.Testing;

/// <summary>Reads (never verifies) a compact JWT, and forges altered ones for tampering tests.</summary>
public sealed class Jwt
{
    public JsonElement Header { get; }
    public JsonElement Payload { get; }
    public string[] Parts { get; }

    private Jwt(string[] parts, JsonElement header, JsonElement payload)
    {
        Parts = parts;
        Header = header;
        Payload = payload;
    }

    public static Jwt Parse(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
            throw new FormatException($"a JWT has 3 parts; this one has {parts.Length}");
        return new Jwt(parts, JsonDocument.Parse(Decode(parts[0])).RootElement.Clone(), JsonDocument.Parse(Decode(parts[1])).RootElement.Clone());
    }

    public static byte[] Decode(string part)
    {
        var s = part.Replace('-', '+').Replace('_', '/');
        s += (s.Length % 4) switch { 2 => "==", 3 => "=", _ => "" };
        return Convert.FromBase64String(s);
    }

    public static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Encode(string json) => Encode(Encoding.UTF8.GetBytes(json));
}
