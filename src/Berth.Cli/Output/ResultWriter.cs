using System.Globalization;
using System.Text.Encodings.Web;
using DevLab.JmesPath;

namespace Berth.Cli.Output;

/// <summary>
/// Renders a command's result as az does: JMESPath <c>--query</c> first, then json (sorted keys, two-space
/// indent), jsonc, tsv (one line per item, tab-separated values of a dictionary in key order, lower-case
/// booleans), table (a per-command column layout, else az's automatic one) or nothing.
/// </summary>
public static class ResultWriter
{
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Applies a JMESPath expression. A syntax error is a usage error, as in az.</summary>
    public static JsonNode? ApplyQuery(JsonNode? result, string? query)
    {
        if (string.IsNullOrWhiteSpace(query))
        {
            return result;
        }
        string transformed;
        try
        {
            transformed = new JmesPath().Transform(result?.ToJsonString() ?? "null", query);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            throw CliException.Usage($"argument --query: invalid jmespath_type value: '{query}' ({error.Message.Split('\n')[0].Trim()})");
        }
        return JsonNode.Parse(transformed);
    }

    public static string Format(JsonNode? result, OutputFormat format, TableLayout? table = null) => format switch
    {
        OutputFormat.Json => FormatJson(result) + "\n",
        OutputFormat.Jsonc => Colorize(FormatJson(result)) + "\n",
        OutputFormat.Tsv => FormatTsv(result),
        OutputFormat.Table => TableFormatter.Format(result, table),
        _ => "",
    };

    public static string FormatJson(JsonNode? result) => result is null ? "null" : JsonSerializer.Serialize(Sorted(result), Indented);

    /// <summary>az dumps JSON with sort_keys=True; Python sorts by code point, which is ordinal order.</summary>
    public static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
        JsonArray array => new JsonArray(array.Select(Sorted).ToArray()),
        null => null,
        _ => node.DeepClone(),
    };

    /// <summary>knack's _TsvOutput: a list gives one row per item; a row of a dictionary is its values in key order, a nested list prints its length and a nested dictionary prints nothing.</summary>
    public static string FormatTsv(JsonNode? result)
    {
        var rows = result is JsonArray array ? array.ToList() : [result];
        var output = new StringBuilder();
        foreach (var row in rows)
        {
            IEnumerable<JsonNode?> values = row switch
            {
                JsonObject obj => obj.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value),
                JsonArray list => list,
                _ => [row],
            };
            output.AppendJoin('\t', values.Select(TsvCell)).Append('\n');
        }
        return output.ToString();
    }

    private static string TsvCell(JsonNode? value) => value switch
    {
        null => "",
        JsonArray list => list.Count.ToString(CultureInfo.InvariantCulture),
        JsonObject => "",
        _ => Scalar(value),
    };

    /// <summary>A scalar as az prints it outside JSON: strings bare, booleans lower-case, numbers invariant.</summary>
    public static string Scalar(JsonNode? value)
    {
        if (value is not JsonValue scalar)
        {
            return value is null ? "" : value.ToJsonString();
        }
        return scalar.GetValueKind() switch
        {
            JsonValueKind.String => scalar.GetValue<string>(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Null => "",
            _ => scalar.ToJsonString(),
        };
    }

    /// <summary>jsonc: the same text with ANSI colours for keys and scalars (az uses pygments; the palette is close enough).</summary>
    private static string Colorize(string json)
    {
        var output = new StringBuilder(json.Length * 2);
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        var lastEnd = 0;
        var bytes = Encoding.UTF8.GetBytes(json);
        while (reader.Read())
        {
            var colour = reader.TokenType switch
            {
                JsonTokenType.PropertyName => "\u001b[94m",
                JsonTokenType.String => "\u001b[32m",
                JsonTokenType.Number => "\u001b[36m",
                JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null => "\u001b[95m",
                _ => null,
            };
            if (colour is null)
            {
                continue;
            }
            var start = (int)reader.TokenStartIndex;
            var end = reader.TokenType is JsonTokenType.PropertyName or JsonTokenType.String
                ? FindStringEnd(bytes, start)
                : start + (int)(reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length);
            output.Append(Encoding.UTF8.GetString(bytes, lastEnd, start - lastEnd));
            output.Append(colour).Append(Encoding.UTF8.GetString(bytes, start, end - start)).Append("\u001b[0m");
            lastEnd = end;
        }
        output.Append(Encoding.UTF8.GetString(bytes, lastEnd, bytes.Length - lastEnd));
        return output.ToString();
    }

    private static int FindStringEnd(byte[] bytes, int openingQuote)
    {
        for (var i = openingQuote + 1; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\\')
            {
                i++;
            }
            else if (bytes[i] == (byte)'"')
            {
                return i + 1;
            }
        }
        return bytes.Length;
    }
}
