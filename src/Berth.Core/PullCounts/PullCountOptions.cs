namespace Berth.Core.PullCounts;

/// <summary>The <c>Berth:PullCounts</c> configuration section.</summary>
public sealed class PullCountOptions
{
    public const string Section = "Berth:PullCounts";

    /// <summary>Count manifest pulls per repository and tag (shown by <c>/acr/v1</c>). On by default.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// How long a node gathers counts in memory before it adds them to the database (or, with Redis, to Redis); what a
    /// node killed without a graceful stop had gathered since its last flush is lost.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Bad pull count settings stop the process at start-up with a message naming the setting.</summary>
internal sealed class PullCountOptionsValidator : IValidateOptions<PullCountOptions>
{
    public ValidateOptionsResult Validate(string? name, PullCountOptions options) =>
        options.FlushInterval < TimeSpan.FromMilliseconds(100) || options.FlushInterval > TimeSpan.FromHours(1)
            ? ValidateOptionsResult.Fail($"Berth:PullCounts:FlushInterval ({options.FlushInterval}) must lie between 00:00:00.1 and 01:00:00 (for example 00:00:10).")
            : ValidateOptionsResult.Success;
}
