using System.Diagnostics;
using System.Text;

namespace Berth.Testing;

/// <summary>
/// A long-running child process (<c>berth serve</c>, nginx) whose output is kept for failure messages. It is stopped on
/// dispose, and a detached watchdog stops it too when the test host goes without disposing it (the runner may kill the
/// host), so no node or nginx outlives a test run holding its port.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private const int OutputLimit = 1_000_000;
    private const int TailLines = 40;
    private readonly StringBuilder _output = new();
    private readonly Queue<string> _tail = new();
    private readonly Process _process;

    private ServiceProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>What the process wrote to stdout and stderr, as lines in arrival order, up to about a megabyte.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>The last lines the process wrote, however long it ran.</summary>
    public string Tail
    {
        get { lock (_output) return string.Join('\n', _tail); }
    }

    public static ServiceProcess Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null) =>
        Start(ExternalTool.StartInfo(fileName, arguments, environment, workingDirectory));

    /// <summary>Starts <paramref name="startInfo"/>, which must redirect all three streams (see <see cref="ExternalTool.StartInfo"/>).</summary>
    public static ServiceProcess Start(ProcessStartInfo startInfo)
    {
        var service = new ServiceProcess(new Process { StartInfo = startInfo, EnableRaisingEvents = true });
        service._process.OutputDataReceived += (_, e) => service.Append(e.Data);
        service._process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        service._process.Start();
        service._process.StandardInput.Close();
        service._process.BeginOutputReadLine();
        service._process.BeginErrorReadLine();
        service.StartWatchdog();
        return service;
    }

    /// <summary>The exit code, once the process has ended; a <see cref="TimeoutException"/> with its output when it has not within <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The process did not exit within {timeout}.\n{Tail}");
        }
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: the process gets no chance to finish requests or flush anything, as in a machine failure.</summary>
    public void KillHard()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public void Dispose()
    {
        KillHard();
        _process.Dispose();
    }

    /// <summary>
    /// A shell outside the test host's process tree that waits for the host to exit and then kills this process. It
    /// ends by itself once the process is gone, so a disposed service leaves no watchdog behind for long.
    /// </summary>
    private void StartWatchdog()
    {
        var host = Environment.ProcessId;
        var child = _process.Id;
        // Kill only when the host is the one that went: a child that ended on its own may have had its id reused.
        var script = $"while kill -0 {host} 2>/dev/null && kill -0 {child} 2>/dev/null; do sleep 1; done; kill -0 {host} 2>/dev/null || kill -9 {child} 2>/dev/null; exit 0";
        var startInfo = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-f", "sh", "-c", $"exec </dev/null >/dev/null 2>&1; {script}" }) startInfo.ArgumentList.Add(argument);
        using var watchdog = Process.Start(startInfo);
        watchdog?.WaitForExit(5_000);
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            // A long test logs every request; the start matters for diagnosis, and the tail for what happened last.
            if (_output.Length < OutputLimit) _output.AppendLine(line);
            _tail.Enqueue(line);
            while (_tail.Count > TailLines) _tail.Dequeue();
        }
    }
}
