using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Berth.Testing;

namespace Berth.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A real Berth server in its own process (<c>dotnet berth.dll serve</c>), listening on a free loopback
/// port with a private data folder. Running it out of process is the point: the clients under test talk to
/// it over HTTP exactly as users would, and its memory can be measured on its own.
/// </summary>
public class BerthServer : IAsyncLifetime, IRegistryEndpoint
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(30);

    private readonly StringBuilder _output = new();
    private readonly TempDirectory _dataDirectory = new("data");
    private Process? _process;

    public int Port { get; private set; }

    /// <summary><c>127.0.0.1:port</c>, the registry host as the container tools spell it.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public Uri BaseAddress => new($"http://{Host}/");

    public string DataDirectory => _dataDirectory.Path;

    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("The server is not running.");

    /// <summary>
    /// "user:password" of the default registry's admin user, which the server creates on first start and
    /// writes to <c>admin-credentials.json</c> in its data folder (the registry is private by default).
    /// Every client helper takes its credentials from here; null means the clients go anonymous.
    /// </summary>
    public string? Credentials { get; private set; }

    public static string ServerDllPath
    {
        get
        {
            var fromEnvironment = Environment.GetEnvironmentVariable("BERTH_SERVER_DLL");
            if (!string.IsNullOrEmpty(fromEnvironment))
            {
                return fromEnvironment;
            }
            var recorded = typeof(BerthServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "BerthServerDll")?.Value;
            return string.IsNullOrEmpty(recorded)
                ? throw new InvalidOperationException("The build did not record where berth.dll is; set BERTH_SERVER_DLL.")
                : recorded;
        }
    }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Extra configuration, as <c>--Section:Key=value</c> arguments, for subclasses that run another set-up.</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    public virtual async Task InitializeAsync()
    {
        var dll = ServerDllPath;
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"The Berth server binary was not built at {dll}.", dll);
        }

        Port = LoopbackPort.Free();
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = DataDirectory,
        };
        foreach (var argument in new[] { dll, "serve", "--urls", $"http://{Host}", "--data", DataDirectory }.Concat(ExtraArguments))
        {
            startInfo.ArgumentList.Add(argument);
        }
        // The server must not pick up a developer's environment-specific settings from the test host.
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        startInfo.Environment.Remove("ASPNETCORE_URLS");

        _process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => Append("out", e.Data);
        _process.ErrorDataReceived += (_, e) => Append("err", e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        await WaitUntilHealthyAsync();
        Credentials = await ReadAdminCredentialsAsync();
    }

    public virtual Task DisposeAsync()
    {
        if (_process is not null)
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            _process.Dispose();
        }
        _dataDirectory.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>An HttpClient aimed at this server, with the registry credentials when there are any.</summary>
    public HttpClient CreateHttpClient(TimeSpan? timeout = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false })
        {
            BaseAddress = BaseAddress,
            Timeout = timeout ?? TimeSpan.FromMinutes(2),
        };
        if (Credentials is not null)
        {
            client.DefaultRequestHeaders.Authorization =
                new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Credentials)));
        }
        return client;
    }

    /// <summary>Reads a field such as VmRSS or VmHWM (in KiB) from the server's /proc status.</summary>
    public long ReadProcStatusKiB(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{ProcessId}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                var value = line[(field.Length + 1)..].Trim();
                return long.Parse(value.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]);
            }
        }
        throw new InvalidOperationException($"/proc/{ProcessId}/status has no {field}.");
    }

    private async Task WaitUntilHealthyAsync()
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        string lastProblem = "no attempt made";
        while (deadline.Elapsed < StartupTimeout)
        {
            if (_process!.HasExited)
            {
                _process.WaitForExit(); // flush the asynchronous output readers
                throw new InvalidOperationException(
                    $"The Berth server exited with code {_process.ExitCode} before it became healthy.\n{Output}");
            }
            try
            {
                using var response = await client.GetAsync(new Uri(BaseAddress, "healthz"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
                lastProblem = $"GET /healthz answered {(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                lastProblem = e.Message;
            }
            await Task.Delay(100);
        }
        var output = Output;
        await DisposeAsync();
        throw new TimeoutException(
            $"The Berth server did not answer GET /healthz with 200 within {StartupTimeout.TotalSeconds} s ({lastProblem}).\n{output}");
    }

    private async Task<string> ReadAdminCredentialsAsync()
    {
        var path = Path.Combine(DataDirectory, "admin-credentials.json");
        var deadline = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            if (deadline.Elapsed > StartupTimeout)
            {
                var output = Output;
                await DisposeAsync();
                throw new TimeoutException($"The Berth server is healthy but wrote no {path} within {StartupTimeout.TotalSeconds} s.\n{output}");
            }
            await Task.Delay(100);
        }
        // The file is created first and filled after; retry until it parses.
        while (true)
        {
            try
            {
                using var json = JsonDocument.Parse(await File.ReadAllBytesAsync(path));
                return json.RootElement.GetProperty("username").GetString() + ":" + json.RootElement.GetProperty("password").GetString();
            }
            catch (JsonException) when (deadline.Elapsed < StartupTimeout)
            {
                await Task.Delay(100);
            }
        }
    }

    private void Append(string stream, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            // Keep the log bounded: a long test logs every request, and only the start matters for diagnosis.
            if (_output.Length < 1_000_000)
            {
                _output.Append('[').Append(stream).Append("] ").AppendLine(line);
            }
        }
    }
}
