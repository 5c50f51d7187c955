namespace Berth.Cli.Output;

public enum OutputFormat
{
    Json,
    Jsonc,
    Table,
    Tsv,
    None,
}

public static class OutputFormats
{
    public static bool TryParse(string value, out OutputFormat format)
    {
        format = OutputFormat.Json;
        try
        {
            format = Parse(value);
            return true;
        }
        catch (CliException)
        {
            return false;
        }
    }

    public static OutputFormat Parse(string value) => value.ToLowerInvariant() switch
    {
        "json" => OutputFormat.Json,
        "jsonc" => OutputFormat.Jsonc,
        "table" => OutputFormat.Table,
        "tsv" => OutputFormat.Tsv,
        "none" => OutputFormat.None,
        // yaml and yamlc exist in az; they are the one output family Berth does not render.
        _ => throw CliException.Usage($"argument --output/-o: invalid choice: '{value}' (choose from 'json', 'jsonc', 'none', 'table', 'tsv')"),
    };
}
