using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace Berth.Reliability.Tests.Infrastructure;

/// <summary>
/// A Berth server as its own process (<c>dotnet berth.dll serve</c>) over a data folder that outlives it, so a test
/// can SIGKILL it and start it again on the same data. Each start takes a fresh loopback port. Throttling is off:
/// the crash workload is one identity sending many writes, and the test is about durability, not budgets.
/// With <see cref="Https"/> it serves https with its local CA; <see cref="Environment"/> adds to its environment
/// (e.g. an OpenSSL configuration, which is process-wide and so cannot be tried in the test process).
/// </summary>
public sealed class ServerProcess : IDisposable
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(60);
    private readonly Queue<string> _lastLines = new();
    private Process? _process;

    public ServerProcess(string dataDirectory) => DataDirectory = dataDirectory;

    public string DataDirectory { get; }

    public bool Https { get; init; }

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    public int Port { get; private set; }

    public Uri BaseAddress => new($"{(Https ? "https" : "http")}://127.0.0.1:{Port}/");

    public string Credentials { get; private set; } = "";

    /// <summary>The server's last output lines, for a failure message.</summary>
    public string Tail
    {
        get { lock (_lastLines) return string.Join('\n', _lastLines); }
    }

    public static string ServerDllPath
    {
        get
        {
            var fromEnvironment = System.Environment.GetEnvironmentVariable("BERTH_SERVER_DLL");
            if (!string.IsNullOrEmpty(fromEnvironment)) return fromEnvironment;
            return typeof(ServerProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "BerthServerDll")?.Value
                ?? throw new InvalidOperationException("The build did not record where berth.dll is; set BERTH_SERVER_DLL.");
        }
    }

    /// <summary>
    /// How the tests run <c>dotnet berth.dll serve</c> on <paramref name="baseAddress"/> over <paramref name="dataDirectory"/>
    /// (also the working directory), in the Production environment, with extra <paramref name="settings"/>.
    /// </summary>
    public static ProcessStartInfo ServeStartInfo(Uri baseAddress, string dataDirectory, IEnumerable<string> settings, IReadOnlyDictionary<string, string>? environment = null)
    {
        var startInfo = ExternalTool.StartInfo("dotnet",
            [ServerDllPath, "serve", "--urls", baseAddress.ToString().TrimEnd('/'), "--data", dataDirectory, .. settings],
            new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["ASPNETCORE_ENVIRONMENT"] = "Production" },
            dataDirectory);
        startInfo.Environment.Remove("ASPNETCORE_URLS");
        return startInfo;
    }

    public async Task StartAsync()
    {
        if (_process is not null) throw new InvalidOperationException("already running");
        Port = LoopbackPort.Free();
        string[] settings =
        [
            "--Berth:Throttling:Enabled=false", "--Logging:LogLevel:Default=Warning",
            .. Https ? ["--Berth:Tls:Mode=LocalCa"] : Array.Empty<string>(),
        ];
        var startInfo = ServeStartInfo(BaseAddress, DataDirectory, settings, Environment);

        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        // The probe only waits for the listener; whoever asked for https checks the certificate and protocol themselves.
        using var probe = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        }) { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"berth exited with {process.ExitCode} while starting:\n{Tail}");
            if (clock.Elapsed > StartupTimeout) throw new TimeoutException($"berth did not become healthy in {StartupTimeout}:\n{Tail}");
            try
            {
                using var response = await probe.GetAsync(new Uri(BaseAddress, "healthz"));
                if (response.StatusCode == HttpStatusCode.OK) break;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(50);
        }

        // The file is written once on first start and read-only after; retry until it parses.
        var path = Path.Combine(DataDirectory, "admin-credentials.json");
        while (true)
        {
            try
            {
                using var json = JsonDocument.Parse(await File.ReadAllBytesAsync(path));
                Credentials = json.RootElement.GetProperty("username").GetString() + ":" + json.RootElement.GetProperty("password").GetString();
                return;
            }
            catch (Exception e) when (e is JsonException or IOException && clock.Elapsed < StartupTimeout)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, exactly what a crash or the OOM killer does.</summary>
    public void Kill()
    {
        if (_process is null) return;
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
        _process = null;
    }

    public HttpClient CreateClient(TimeSpan? timeout = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, MaxConnectionsPerServer = 64 })
        {
            BaseAddress = BaseAddress,
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Credentials)));
        return client;
    }

    public void Dispose() => Kill();

    private void Remember(string? line)
    {
        if (line is null) return;
        lock (_lastLines)
        {
            _lastLines.Enqueue(line);
            while (_lastLines.Count > 40) _lastLines.Dequeue();
        }
    }
}
