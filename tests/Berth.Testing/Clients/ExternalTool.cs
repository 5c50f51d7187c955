using System.Diagnostics;
using System.Text;

namespace Berth.Testing;

/// <summary>The outcome of one external command, kept whole so a failed assertion can show what the tool said.</summary>
public sealed record ExternalToolResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Both streams, for assertions about what the tool printed wherever it printed it.</summary>
    public string Output => StandardOutput + StandardError;

    public ExternalToolResult EnsureSuccess() =>
        ExitCode == 0 ? this : throw new InvalidOperationException(Describe());

    public string Describe() =>
        $"`{CommandLine}` exited with {ExitCode}\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
}

/// <summary>
/// Runs a real client tool (skopeo, podman, ...) without a shell, so arguments never need quoting. Standard input
/// is closed at once so a tool can never wait for a prompt; the run is bounded by a timeout after which the whole
/// process tree is killed. Secrets passed in <c>redact</c> are replaced by <c>***</c> in everything the result
/// reports (command line and output), so a failing assertion never prints a password into a CI log.
/// </summary>
public static class ExternalTool
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(3);

    public static bool IsInstalled(string fileName) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, fileName)));

    /// <summary>How every test starts a process: no shell (arguments never need quoting), all three streams redirected.</summary>
    public static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory(),
        };
        foreach (var argument in arguments) startInfo.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) startInfo.Environment[key] = value;
        return startInfo;
    }

    public static async Task<ExternalToolResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null,
        IEnumerable<string>? redact = null,
        TimeSpan? timeout = null,
        string? workingDirectory = null)
    {
        var startInfo = StartInfo(fileName, arguments, environment, workingDirectory);

        var secrets = (redact ?? []).Where(s => !string.IsNullOrEmpty(s)).ToArray();
        string Redact(string text) => secrets.Aggregate(text, (current, secret) => current.Replace(secret, "***", StringComparison.Ordinal));
        var commandLine = Redact(fileName + " " + string.Join(' ', startInfo.ArgumentList.Select(Quote)));

        using var process = new Process { StartInfo = startInfo };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var limit = timeout ?? DefaultTimeout;
        using var cts = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"`{commandLine}` did not finish within {limit}\n--- stdout ---\n{Redact(stdout.ToString())}\n--- stderr ---\n{Redact(stderr.ToString())}");
        }
        return new ExternalToolResult(commandLine, process.ExitCode, Redact(stdout.ToString()), Redact(stderr.ToString()));
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsLetterOrDigit(c) || "-_./:=@,+".Contains(c)) ? argument : "'" + argument.Replace("'", "'\\''") + "'";
}
