using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace Berth.Testing;

/// <summary>
/// <c>dotnet berth.dll serve --urls ... --data ...</c> (or a published <c>berth</c> executable) in its own process, as a user or a container runs it, on a loopback
/// port over a data folder that outlives it, so a test can SIGKILL it and start it again on the same data. Readiness is
/// a 200 from <see cref="ReadinessPath"/> (and the <see cref="RequiredFiles"/> present); after that the default registry's
/// admin credentials are read from the data folder unless <see cref="ReadAdminCredentials"/> is off. The server runs in
/// the Production environment so that no developer setting of the test host reaches it.
/// </summary>
public sealed class BerthProcess : IDisposable
{
    private readonly int _fixedPort;
    private ServiceProcess? _process;

    /// <param name="port">
    /// A port for every start, e.g. one a load balancer or a login server name already carries; 0 for a fresh free port at
    /// each start.
    /// </param>
    public BerthProcess(string dataDirectory, int port = 0)
    {
        DataDirectory = dataDirectory;
        Port = _fixedPort = port;
    }

    /// <summary>How failure messages name this server ("berth", "node A").</summary>
    public string Name { get; init; } = "berth";

    public string DataDirectory { get; }

    /// <summary>The server's working directory; the data folder unless set.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Extra command-line arguments after <c>serve --urls ... --data ...</c>, e.g. <c>--Berth:Section:Key=value</c>.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Extra environment variables, e.g. <c>Berth__Section__Key</c> settings that must not show on a command line.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// A published <c>berth</c> executable (scripts/publish.sh) to run instead of <c>dotnet berth.dll</c>; null runs the
    /// framework-dependent build.
    /// </summary>
    public string? Executable { get; init; }

    /// <summary>Serve https with the server's local CA (<c>--Berth:Tls:Mode=LocalCa</c>); the readiness probe trusts any certificate.</summary>
    public bool Https { get; init; }

    /// <summary><c>healthz</c> (listening), or <c>readyz</c> (its database and storage answer too).</summary>
    public string ReadinessPath { get; init; } = "healthz";

    /// <summary>Files, relative to the data folder, that must exist before the server counts as started.</summary>
    public IReadOnlyList<string> RequiredFiles { get; init; } = [];

    /// <summary>Read <c>admin-credentials.json</c> into <see cref="Credentials"/> after each start (a node joining existing state has none).</summary>
    public bool ReadAdminCredentials { get; init; } = true;

    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public int Port { get; private set; }

    /// <summary><c>127.0.0.1:port</c>, the registry host as the container tools and nginx spell it.</summary>
    public string Address => $"127.0.0.1:{Port}";

    public Uri BaseAddress => new($"{(Https ? "https" : "http")}://{Address}/");

    /// <summary>"user:password" of the default registry's admin user, or null before a start has read it.</summary>
    public string? Credentials { get; private set; }

    public bool IsRunning => _process is { HasExited: false };

    public bool HasExited => _process?.HasExited ?? throw new InvalidOperationException($"{Name} was never started.");

    public int ProcessId => _process?.Id ?? throw new InvalidOperationException($"{Name} is not running.");

    /// <summary>What the current (or last) run wrote, from its start.</summary>
    public string Output => _process?.Output ?? "";

    /// <summary>The last lines of the current (or last) run, for a failure message.</summary>
    public string Tail => _process?.Tail ?? "";

    /// <summary>Where the build put berth.dll (recorded in this assembly when it was built); BERTH_SERVER_DLL overrides it.</summary>
    public static string ServerDllPath
    {
        get
        {
            var fromEnvironment = System.Environment.GetEnvironmentVariable("BERTH_SERVER_DLL");
            if (!string.IsNullOrEmpty(fromEnvironment)) return fromEnvironment;
            var recorded = typeof(BerthProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "BerthServerDll")?.Value;
            return string.IsNullOrEmpty(recorded)
                ? throw new InvalidOperationException("The build did not record where berth.dll is; set BERTH_SERVER_DLL.")
                : recorded;
        }
    }

    /// <summary>Starts the process and returns at once, without waiting for it to listen (a test of how it starts watches it itself).</summary>
    public void Launch()
    {
        if (IsRunning) throw new InvalidOperationException($"{Name} is already running.");
        var program = Executable ?? ServerDllPath;
        if (!File.Exists(program)) throw new FileNotFoundException($"The Berth server binary was not built at {program}.", program);
        Port = _fixedPort != 0 ? _fixedPort : LoopbackPort.Free();

        string[] arguments =
        [
            .. Executable is null ? [program] : Array.Empty<string>(),
            "serve", "--urls", $"{(Https ? "https" : "http")}://{Address}", "--data", DataDirectory,
            .. Https ? ["--Berth:Tls:Mode=LocalCa"] : Array.Empty<string>(),
            .. Arguments,
        ];
        var environment = new Dictionary<string, string>(Environment) { ["ASPNETCORE_ENVIRONMENT"] = "Production" };
        var startInfo = ExternalTool.StartInfo(Executable ?? "dotnet", arguments, environment, WorkingDirectory ?? DataDirectory);
        startInfo.Environment.Remove("ASPNETCORE_URLS");

        _process?.Dispose();
        Credentials = null;
        _process = ServiceProcess.Start(startInfo);
    }

    /// <summary>Starts the process and waits until it is ready and, unless told not to, has written its admin credentials.</summary>
    public async Task StartAsync()
    {
        Launch();
        try
        {
            await WaitUntilReadyAsync();
            if (ReadAdminCredentials) Credentials = await ReadAdminCredentialsAsync();
        }
        catch
        {
            // A server that did not start is of no use to anyone, and must not hold its port.
            Kill();
            throw;
        }
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, exactly what a crash or the OOM killer does.</summary>
    public void Kill() => _process?.KillHard();

    /// <summary>The exit code once the process has ended by itself within <paramref name="timeout"/>.</summary>
    public Task<int> WaitForExitAsync(TimeSpan timeout) =>
        (_process ?? throw new InvalidOperationException($"{Name} was never started.")).WaitForExitAsync(timeout);

    /// <summary>Waits until the server has written <paramref name="text"/>; fails when it exits first or the time runs out.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!Output.Contains(text))
        {
            Assert.False(HasExited, $"{Name} exited before saying \"{text}\":\n{Output}");
            Assert.True(clock.Elapsed < timeout, $"{Name} did not say \"{text}\" within {timeout}:\n{Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>A client for this server with the admin credentials (when read), no redirects followed and no proxy.</summary>
    public HttpClient CreateClient(TimeSpan? timeout = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, MaxConnectionsPerServer = 64 })
        {
            BaseAddress = BaseAddress,
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        };
        if (Credentials is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Credentials)));
        return client;
    }

    public void Dispose()
    {
        _process?.Dispose();
        _process = null;
    }

    private async Task WaitUntilReadyAsync()
    {
        // The probe only waits for the listener; whoever asked for https checks the certificate and protocol themselves.
        using var probe = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        }) { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        var lastProblem = "no attempt made";
        while (true)
        {
            if (_process!.HasExited)
            {
                await _process.WaitForExitAsync(TimeSpan.FromSeconds(10)); // flush the output readers
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it became ready.\n{Output}");
            }
            if (clock.Elapsed > StartupTimeout)
                throw new TimeoutException($"{Name} did not become ready within {StartupTimeout.TotalSeconds} s ({lastProblem}).\n{Output}");
            var missing = RequiredFiles.FirstOrDefault(file => !File.Exists(Path.Combine(DataDirectory, file)));
            if (missing is not null)
            {
                lastProblem = $"no {missing} yet";
            }
            else
            {
                try
                {
                    using var response = await probe.GetAsync(new Uri(BaseAddress, ReadinessPath));
                    if (response.StatusCode == HttpStatusCode.OK) return;
                    lastProblem = $"GET /{ReadinessPath} answered {(int)response.StatusCode}";
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    lastProblem = e.Message;
                }
            }
            await Task.Delay(100);
        }
    }

    private async Task<string> ReadAdminCredentialsAsync()
    {
        var path = Path.Combine(DataDirectory, "admin-credentials.json");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var json = JsonDocument.Parse(await File.ReadAllBytesAsync(path));
                return json.RootElement.GetProperty("username").GetString() + ":" + json.RootElement.GetProperty("password").GetString();
            }
            // The file is created first and filled after; retry until it parses.
            catch (Exception e) when (e is JsonException or IOException && clock.Elapsed < StartupTimeout)
            {
                await Task.Delay(100);
            }
        }
    }
}
