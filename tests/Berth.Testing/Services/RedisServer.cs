using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Berth.Testing;

/// <summary>
/// Debian's <c>redis-server</c> on a free loopback port, with no persistence (<c>--save "" --appendonly no</c>), so
/// nothing it holds outlives it. <see cref="GetAsync"/> gives the one server of the test process, started by the
/// first test that needs it; fixtures keep apart with a key prefix each (<see cref="NewKeyPrefix"/>). A test that stops
/// Redis (to see how Berth copes) starts a server of its own with <see cref="StartNewAsync"/> and may
/// <see cref="StopAsync"/> and <see cref="StartAsync"/> it again on the same port. Servers are stopped when the test
/// process exits, or by a watchdog when it is killed.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly Lazy<Task<RedisServer>> SharedServer = new(StartNewAsync);

    private readonly string _folder;
    private Process? _process;

    private RedisServer(string folder, int port)
    {
        _folder = folder;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string for this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    private string PidFile => Path.Combine(_folder, "redis.pid");

    /// <summary>The server of this test process, started on first use.</summary>
    public static Task<RedisServer> GetAsync() => SharedServer.Value;

    /// <summary>A key prefix no other fixture uses.</summary>
    public static string NewKeyPrefix() => "test-" + Guid.NewGuid().ToString("N")[..12] + ":";

    /// <summary>A server of the caller's own, for tests that stop it.</summary>
    public static async Task<RedisServer> StartNewAsync()
    {
        var executable = FindExecutable();
        var folder = Path.Combine(Path.GetTempPath(), "berth-redis-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        var server = new RedisServer(folder, LoopbackPort.Free());
        await server.StartAsync(executable);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Kill();
        server.StartWatchdog();
        return server;
    }

    /// <summary>Starts the server again on its port (after <see cref="StopAsync"/>); it comes back empty.</summary>
    public Task StartAsync() => StartAsync(FindExecutable());

    /// <summary>Stops the server; clients see their connections closed.</summary>
    public async Task StopAsync()
    {
        var process = _process;
        if (process is null) return;
        _process = null;
        process.Kill();
        await process.WaitForExitAsync();
        process.Dispose();
        File.Delete(PidFile);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean.
        }
    }

    private async Task StartAsync(string executable)
    {
        if (_process is not null) throw new InvalidOperationException("The Redis server is already running.");
        var startInfo = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _folder,
        };
        foreach (var argument in new[]
                 {
                     "--bind", "127.0.0.1", "--port", Port.ToString(), "--save", "", "--appendonly", "no",
                     "--dir", _folder, "--pidfile", PidFile, "--daemonize", "no", "--protected-mode", "yes",
                 })
            startInfo.ArgumentList.Add(argument);
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"{executable} did not start.");
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        // Ready once it answers PING on its port.
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (process.HasExited)
            {
                _process = null;
                lock (output) throw new InvalidOperationException($"redis-server exited with {process.ExitCode}:\n{output}");
            }
            if (await PingAsync()) return;
            await Task.Delay(50);
        }
        lock (output) throw new InvalidOperationException($"redis-server did not answer on port {Port} within 20 s:\n{output}");
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return read >= 5 && System.Text.Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return false;
        }
    }

    private void Kill()
    {
        try
        {
            _process?.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>
    /// A detached shell, outside the test host's process tree, that stops the server (whichever process holds its pid
    /// file now) and removes its folder once the host is gone, even when the host is killed without running its handlers.
    /// </summary>
    private void StartWatchdog()
    {
        var startInfo = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        var script = $"exec </dev/null >/dev/null 2>&1; while kill -0 {Environment.ProcessId}; do sleep 1; done; " +
                     $"if [ -f '{PidFile}' ]; then kill $(cat '{PidFile}'); fi; sleep 1; rm -rf '{_folder}'";
        foreach (var argument in new[] { "-f", "sh", "-c", script })
            startInfo.ArgumentList.Add(argument);
        using var process = Process.Start(startInfo);
        process?.WaitForExit(5_000);
    }

    private static string FindExecutable() =>
        new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }
            .Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, "redis-server")))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("redis-server was not found; install Debian's redis-server package (scripts/test.sh does this).");
}
