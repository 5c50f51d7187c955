using System.Diagnostics;
using System.Text;

namespace Berth.ScaleOut.Tests.Infrastructure;

/// <summary>
/// A long-running child process (a Berth node, nginx) whose output is kept for failure messages. It is stopped on
/// dispose, and a detached watchdog stops it too when the test host goes without disposing it (the runner may kill the
/// host), so no node or nginx outlives a test run holding its port.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private const int OutputLimit = 1_000_000;
    private readonly StringBuilder _output = new();
    private readonly Process _process;

    private ServiceProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public static ServiceProcess Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var startInfo = Berth.Testing.ExternalTool.StartInfo(fileName, arguments, environment, workingDirectory);

        var service = new ServiceProcess(new Process { StartInfo = startInfo, EnableRaisingEvents = true });
        service._process.OutputDataReceived += (_, e) => service.Append("out", e.Data);
        service._process.ErrorDataReceived += (_, e) => service.Append("err", e.Data);
        service._process.Start();
        service._process.StandardInput.Close();
        service._process.BeginOutputReadLine();
        service._process.BeginErrorReadLine();
        service.StartWatchdog();
        return service;
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

    private void Append(string stream, string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            // A long test logs every request; only the start matters for diagnosis.
            if (_output.Length < OutputLimit) _output.Append('[').Append(stream).Append("] ").AppendLine(line);
        }
    }
}
