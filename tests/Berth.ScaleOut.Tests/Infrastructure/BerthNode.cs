using System.Diagnostics;
using System.Net;
using System.Reflection;
using Berth.Testing;

namespace Berth.ScaleOut.Tests.Infrastructure;

/// <summary>
/// One Berth node: <c>dotnet berth.dll serve</c> in its own process on its own loopback port with its own data folder,
/// configured through <c>Berth__...</c> environment variables (as a container would be) so that no connection string
/// shows on a command line. It can be killed with SIGKILL and started again on the same port and folder.
/// </summary>
public sealed class BerthNode : IDisposable
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(60);
    private readonly IReadOnlyDictionary<string, string> _settings;
    private ServiceProcess? _process;

    public BerthNode(string name, string dataDirectory, IReadOnlyDictionary<string, string> settings)
    {
        Name = name;
        DataDirectory = dataDirectory;
        _settings = settings;
        Port = LoopbackPort.Free();
    }

    /// <summary>"A" or "B", for messages.</summary>
    public string Name { get; }

    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>, as nginx's <c>$upstream_addr</c> names this node.</summary>
    public string Address => $"127.0.0.1:{Port}";

    public Uri BaseAddress => new($"http://{Address}/");

    public string DataDirectory { get; }

    public bool IsRunning => _process is { HasExited: false };

    public string Output => _process?.Output ?? "";

    public static string ServerDllPath
    {
        get
        {
            var fromEnvironment = Environment.GetEnvironmentVariable("BERTH_SERVER_DLL");
            if (!string.IsNullOrEmpty(fromEnvironment)) return fromEnvironment;
            var recorded = typeof(BerthNode).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "BerthServerDll")?.Value;
            return string.IsNullOrEmpty(recorded)
                ? throw new InvalidOperationException("The build did not record where berth.dll is; set BERTH_SERVER_DLL.")
                : recorded;
        }
    }

    public async Task StartAsync()
    {
        if (IsRunning) throw new InvalidOperationException($"Node {Name} is already running.");
        var dll = ServerDllPath;
        if (!File.Exists(dll)) throw new FileNotFoundException($"The Berth server binary was not built at {dll}.", dll);
        Directory.CreateDirectory(DataDirectory);

        var environment = new Dictionary<string, string>(_settings.Select(s => KeyValuePair.Create("Berth__" + s.Key.Replace(":", "__"), s.Value)))
        {
            // The node must not pick up a developer's environment-specific settings from the test host.
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
        };
        _process?.Dispose();
        _process = ServiceProcess.Start("dotnet", [dll, "serve", "--urls", $"http://{Address}", "--data", DataDirectory], environment, DataDirectory);
        await WaitUntilHealthyAsync();
    }

    /// <summary>SIGKILL, as a crashed machine: no request is finished and nothing is flushed.</summary>
    public void Kill() => _process?.KillHard();

    public HttpClient CreateHttpClient(string? credentials = null) => Cluster.CreateHttpClient(BaseAddress, credentials);

    public void Dispose() => _process?.Dispose();

    private async Task WaitUntilHealthyAsync()
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        var lastProblem = "no attempt made";
        while (deadline.Elapsed < StartupTimeout)
        {
            if (_process!.HasExited)
                throw new InvalidOperationException($"Node {Name} exited with code {_process.ExitCode} before it became ready.\n{Output}");
            try
            {
                // /readyz, not /healthz: ready means the shared database and storage answer too.
                using var response = await client.GetAsync(new Uri(BaseAddress, "readyz"));
                if (response.StatusCode == HttpStatusCode.OK) return;
                lastProblem = $"GET /readyz answered {(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                lastProblem = e.Message;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Node {Name} did not answer GET /readyz with 200 within {StartupTimeout.TotalSeconds} s ({lastProblem}).\n{Output}");
    }
}
