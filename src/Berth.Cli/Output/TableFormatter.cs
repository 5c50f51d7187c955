namespace Berth.Cli.Output;

/// <summary>A command's table: column headers and how to read each column from one (flattened) item.</summary>
public sealed record TableLayout(IReadOnlyList<(string Header, Func<JsonNode?, string> Value)> Columns)
{
    public static TableLayout Of(params (string Header, string Path)[] columns) =>
        new(columns.Select(c => (c.Header, (Func<JsonNode?, string>)(item => ResultWriter.Scalar(Lookup(item, c.Path))))).ToList());

    /// <summary>A dotted path (<c>sku.name</c>) into an object.</summary>
    public static JsonNode? Lookup(JsonNode? item, string path)
    {
        foreach (var part in path.Split('.'))
        {
            item = item is JsonObject obj && obj.TryGetPropertyValue(part, out var value) ? value : null;
        }
        return item;
    }
}

/// <summary>
/// az's table output (tabulate's "simple" style): headers, a dashed rule per column, two spaces between
/// columns. When a <c>--query</c> has reshaped the result or no layout exists, columns come from the
/// item's scalar properties, as knack does (key order kept, first letter capitalised).
/// </summary>
public static class TableFormatter
{
    public static string Format(JsonNode? result, TableLayout? layout)
    {
        var items = result is JsonArray array ? array.ToList() : [result];
        if (items.Count == 0)
        {
            return "";
        }
        if (items.All(i => i is not JsonObject))
        {
            // A list of scalars (repository names, tags): knack prints a "Result" column.
            layout = new TableLayout([("Result", item => ResultWriter.Scalar(item))]);
        }
        else if (layout is null || !Fits(items, layout))
        {
            layout = AutomaticLayout(items);
        }
        var rows = items.Select(item => layout.Columns.Select(c => c.Value(item)).ToArray()).ToList();
        var widths = layout.Columns.Select((c, i) => Math.Max(c.Header.Length, rows.Select(r => r[i].Length).DefaultIfEmpty(0).Max())).ToArray();
        var output = new StringBuilder();
        AppendRow(output, layout.Columns.Select(c => c.Header).ToArray(), widths);
        AppendRow(output, widths.Select(w => new string('-', w)).ToArray(), widths);
        foreach (var row in rows)
        {
            AppendRow(output, row, widths);
        }
        return output.ToString();
    }

    /// <summary>A per-command layout applies to the command's own shape; after --query it may not.</summary>
    private static bool Fits(List<JsonNode?> items, TableLayout layout) =>
        items.All(i => i is JsonObject) && layout.Columns.Any(c => c.Value(items[0]).Length > 0);

    private static TableLayout AutomaticLayout(List<JsonNode?> items)
    {
        var keys = new List<string>();
        foreach (var item in items.OfType<JsonObject>())
        {
            foreach (var (key, value) in item)
            {
                if (value is not JsonObject and not JsonArray && !keys.Contains(key))
                {
                    keys.Add(key);
                }
            }
        }
        return new TableLayout(keys.Select(k => (Capitalize(k), (Func<JsonNode?, string>)(item => ResultWriter.Scalar(TableLayout.Lookup(item, k))))).ToList());
    }

    private static string Capitalize(string key) => key.Length == 0 ? key : char.ToUpperInvariant(key[0]) + key[1..];

    private static void AppendRow(StringBuilder output, string[] cells, int[] widths)
    {
        var line = new StringBuilder();
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                line.Append("  ");
            }
            line.Append(cells[i].PadRight(widths[i]));
        }
        output.Append(line.ToString().TrimEnd()).Append('\n');
    }
}
