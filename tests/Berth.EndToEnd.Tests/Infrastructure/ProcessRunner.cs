using System.Diagnostics;
using System.Text;

namespace Berth.EndToEnd.Tests.Infrastructure;

/// <summary>The outcome of one external command, kept whole so a failed assertion can show what the tool said.</summary>
public sealed record ProcessResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    public ProcessResult EnsureSuccess()
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException(Describe());
        }
        return this;
    }

    public string Describe() =>
        $"`{CommandLine}` exited with {ExitCode}\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
}

/// <summary>Runs real client tools (skopeo, podman, umoci) without a shell, so arguments never need quoting.</summary>
public static class ProcessRunner
{
    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null,
        TimeSpan? timeout = null)
    {
        var startInfo = Berth.Testing.ExternalTool.StartInfo(fileName, arguments, environment, workingDirectory);

        var commandLine = fileName + " " + string.Join(' ', startInfo.ArgumentList.Select(Quote));
        using var process = new Process { StartInfo = startInfo };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };

        process.Start();
        // The tools must never wait for a prompt answer (e.g. a password); closing stdin makes them fail fast instead.
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"`{commandLine}` did not finish within {timeout ?? TimeSpan.FromMinutes(5)}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
        }
        // WaitForExitAsync returns after the redirected streams reach EOF, so the buffers are complete here.
        return new ProcessResult(commandLine, process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsLetterOrDigit(c) || "-_./:=@,+".Contains(c)) ? argument : "'" + argument.Replace("'", "'\\''") + "'";
}
