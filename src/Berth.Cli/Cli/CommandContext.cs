using Berth.Cli.Commands;

namespace Berth.Cli.Cli;

/// <summary>One command invocation: its parse result, the global options' values, shared HTTP and the output rules.</summary>
public sealed class CommandContext : IDisposable
{
    private readonly GlobalOptions _globals;
    private ManagementClient? _management;
    private HttpClient? _http;

    public CommandContext(CliEnvironment environment, GlobalOptions globals, ParseResult parseResult, CancellationToken cancellationToken)
    {
        Environment = environment;
        _globals = globals;
        ParseResult = parseResult;
        CancellationToken = cancellationToken;
    }

    public CliEnvironment Environment { get; }
    public ParseResult ParseResult { get; }
    public CancellationToken CancellationToken { get; }

    public string? Query => ParseResult.GetValue(_globals.Query);
    public OutputFormat Output => ParseResult.GetValue(_globals.Output);
    public bool Debug => ParseResult.GetValue(_globals.Debug);
    public bool QuietWarnings => ParseResult.GetValue(_globals.OnlyShowErrors);
    public string? Subscription => ParseResult.GetValue(_globals.Subscription);
    public string? DataOption => ParseResult.GetValue(_globals.Data);
    public string? EndpointOption => ParseResult.GetValue(_globals.Endpoint);
    public string? ClientIdOption => ParseResult.GetValue(_globals.ClientId);
    public string? ClientSecretOption => ParseResult.GetValue(_globals.ClientSecret);

    public T? Get<T>(Option<T> option) => ParseResult.GetValue(option);

    /// <summary>A three-state flag: null when not given.</summary>
    public bool? Get(Option<Toggle?> option) => ParseResult.GetValue(option)?.Value;

    public bool Given(Option option) => ParseResult.GetResult(option) is { Implicit: false };

    public HttpClient Http => _http ??= new HttpClient(LocalCaTrust.Apply(Environment.CreateHandler(), this), disposeHandler: true) { Timeout = TimeSpan.FromSeconds(100) };

    public ManagementClient Management => _management ??= new ManagementClient(this);

    public void Warn(string message)
    {
        if (!QuietWarnings)
        {
            Environment.Error.WriteLine($"WARNING: {message}");
        }
    }

    public void DebugLine(string message)
    {
        if (Debug)
        {
            Environment.Error.WriteLine($"DEBUG: {message}");
        }
    }

    /// <summary>Prints a result: --query, then the --output format. A null result (delete, logout) prints nothing, as in az.</summary>
    public void Emit(JsonNode? result, TableLayout? table = null)
    {
        var shaped = ResultWriter.ApplyQuery(result, Query);
        if (result is null && string.IsNullOrWhiteSpace(Query))
        {
            return;
        }
        Environment.Out.Write(ResultWriter.Format(shaped, Output, string.IsNullOrWhiteSpace(Query) ? table : null));
        Environment.Out.Flush();
    }

    /// <summary>az asks "Are you sure you want to continue? (y/n)"; without a terminal the answer must come from --yes.</summary>
    public void Confirm(bool yes, string message)
    {
        if (yes)
        {
            return;
        }
        if (!Environment.Interactive)
        {
            throw CliException.Usage($"{message} Unable to prompt for confirmation as no tty available. Use --yes.");
        }
        Environment.Error.Write($"{message}\nAre you sure you want to continue? (y/n): ");
        Environment.Error.Flush();
        var answer = Environment.In.ReadLine()?.Trim().ToLowerInvariant();
        if (answer is not ("y" or "yes"))
        {
            throw new CliException("Operation cancelled.");
        }
    }

    public void Dispose() => _http?.Dispose();
}
