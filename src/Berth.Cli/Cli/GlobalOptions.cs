namespace Berth.Cli.Cli;

/// <summary>The options every <c>berth acr</c> command takes, as az's global arguments plus Berth's connection options.</summary>
public sealed class GlobalOptions
{
    public Option<string?> Query { get; } = new("--query") { Description = "JMESPath query string over az's (flattened) output. See http://jmespath.org/.", Recursive = true };
    public Option<OutputFormat> Output { get; } = new("--output", "-o")
    {
        Description = "Output format: json, jsonc, table, tsv or none.",
        DefaultValueFactory = _ => OutputFormat.Json,
        CustomParser = r =>
        {
            var value = r.Tokens.Count == 0 ? "json" : r.Tokens[0].Value;
            if (OutputFormats.TryParse(value, out var format))
            {
                return format;
            }
            r.AddError($"argument --output/-o: invalid choice: '{value}' (choose from 'json', 'jsonc', 'none', 'table', 'tsv')");
            return OutputFormat.Json;
        },
        Recursive = true,
    };
    public Option<bool> Debug { get; } = new("--debug") { Description = "Print the HTTP requests made (without secrets) to stderr.", Recursive = true };
    public Option<bool> Verbose { get; } = new("--verbose") { Description = "Accepted for az compatibility.", Recursive = true };
    public Option<bool> OnlyShowErrors { get; } = new("--only-show-errors") { Description = "Suppress warnings.", Recursive = true };
    public Option<string?> Subscription { get; } = new("--subscription") { Description = "Subscription name or id (default: the server's only or first subscription).", Recursive = true };
    public Option<string?> Data { get; } = new("--data") { Description = "The Berth data folder holding management/endpoint.json and management/owner.json (default: $BERTH_DATA, else ./data).", Recursive = true };
    public Option<string?> Endpoint { get; } = new("--endpoint") { Description = "Management URL of a remote Berth server (default: $BERTH_ENDPOINT, else the data folder's endpoint.json).", Recursive = true };
    public Option<string?> ClientId { get; } = new("--client-id") { Description = "Service principal client id for --endpoint (default: $BERTH_CLIENT_ID).", Recursive = true };
    public Option<string?> ClientSecret { get; } = new("--client-secret") { Description = "Service principal secret (default: $BERTH_CLIENT_SECRET).", Recursive = true };

    public IEnumerable<Option> All => [Query, Output, Debug, Verbose, OnlyShowErrors, Subscription, Data, Endpoint, ClientId, ClientSecret];
}
