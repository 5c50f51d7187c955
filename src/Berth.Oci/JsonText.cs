using System.Text.Json;
using System.Text.Unicode;

namespace Berth.Oci;

/// <summary>
/// System.Text.Json parses a document without checking that its strings are valid UTF-8, nor that their \u escapes
/// pair up into valid UTF-16; the first <c>GetString</c> on such a string then throws InvalidOperationException, long
/// after parsing said the body was fine. Request bodies go through <see cref="EnsureValidStrings"/> first, so a body
/// with a stray 0xff is refused as malformed JSON (RFC 8259 §8.1: JSON text is UTF-8) like any other.
/// </summary>
public static class JsonText
{
    /// <summary>Throws <see cref="JsonException"/> for malformed JSON and for any string or property name that is not valid text.</summary>
    public static void EnsureValidStrings(ReadOnlySpan<byte> json, int maxDepth = 64)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        while (reader.Read())
        {
            if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName))
                continue;
            if (!reader.ValueIsEscaped)
            {
                if (!Utf8.IsValid(reader.ValueSpan))
                    throw Invalid(reader, "is not valid UTF-8");
                continue;
            }
            try
            {
                reader.GetString();
            }
            catch (InvalidOperationException)
            {
                throw Invalid(reader, "is not valid UTF-8 or holds an unpaired surrogate escape");
            }
        }
    }

    private static JsonException Invalid(in Utf8JsonReader reader, string problem) =>
        new($"the {(reader.TokenType == JsonTokenType.PropertyName ? "property name" : "string")} ending at byte {reader.BytesConsumed} {problem}");
}
