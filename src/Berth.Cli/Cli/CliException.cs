namespace Berth.Cli.Cli;

/// <summary>
/// A failure reported as az reports it: one line on stderr, <c>ERROR: (Code) message</c> when the server gave a
/// code, and az's exit codes (1 for errors, 2 for bad usage, 3 for a missing resource).
/// </summary>
public sealed class CliException : Exception
{
    public const int GeneralExitCode = 1;
    public const int UsageExitCode = 2;
    public const int NotFoundExitCode = 3;

    public CliException(string message, string? code = null, int exitCode = GeneralExitCode)
        : base(message)
    {
        Code = code;
        ExitCode = exitCode;
    }

    public string? Code { get; }
    public int ExitCode { get; }

    public static CliException Usage(string message) => new(message, exitCode: UsageExitCode);

    /// <summary>
    /// An exception and every inner exception in one line, outermost first, each message once: .NET's network errors
    /// put the cause (an untrusted certificate, a refused connection, an unknown host) in an inner exception behind
    /// "see inner exception".
    /// </summary>
    public static string Causes(Exception error)
    {
        var parts = new List<string>();
        for (var current = error; current is not null; current = current.InnerException)
        {
            var message = current.Message.ReplaceLineEndings(" ").Replace(", see inner exception", "", StringComparison.OrdinalIgnoreCase)
                .Replace("See the inner exception for details", "", StringComparison.OrdinalIgnoreCase).Trim().TrimEnd('.').Trim();
            if (message.Length > 0 && !parts.Any(p => p.Contains(message, StringComparison.Ordinal))) parts.Add(message);
        }
        return parts.Count == 0 ? error.GetType().Name : string.Join(": ", parts);
    }

    public string ErrorLine
    {
        get
        {
            // One line, always: a multi-line server message would break scripts that read the first line.
            var message = string.Join(' ', Message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            return Code is null ? $"ERROR: {message}" : $"ERROR: ({Code}) {message}";
        }
    }
}
