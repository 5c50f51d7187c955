namespace Berth.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A real Berth server in its own process (<see cref="BerthProcess"/>) with a private data folder, for one test class.
/// Running it out of process is the point: the clients under test talk to it over HTTP exactly as users would, and its
/// memory can be measured on its own.
/// </summary>
public class BerthServer : IAsyncLifetime, IRegistryEndpoint
{
    private readonly TempDirectory _dataDirectory = new("data");
    private BerthProcess? _process;

    private BerthProcess Process => _process ?? throw new InvalidOperationException("The server has not started.");

    public int Port => Process.Port;

    /// <summary><c>127.0.0.1:port</c>, the registry host as the container tools spell it.</summary>
    public string Host => Process.Address;

    public Uri BaseAddress => Process.BaseAddress;

    public string DataDirectory => _dataDirectory.Path;

    public int ProcessId => Process.ProcessId;

    /// <summary>
    /// "user:password" of the default registry's admin user, which the server creates on first start and
    /// writes to <c>admin-credentials.json</c> in its data folder (the registry is private by default).
    /// Every client helper takes its credentials from here; null means the clients go anonymous.
    /// </summary>
    public string? Credentials => _process?.Credentials;

    public string Output => _process?.Output ?? "";

    /// <summary>Extra configuration, as <c>--Section:Key=value</c> arguments, for subclasses that run another set-up.</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    public virtual async Task InitializeAsync()
    {
        _process = new BerthProcess(DataDirectory) { Arguments = [.. ExtraArguments], Executable = await ExecutableAsync() };
        await _process.StartAsync();
    }

    /// <summary>A published <c>berth</c> executable to run instead of <c>dotnet berth.dll</c>; null for the latter.</summary>
    protected virtual Task<string?> ExecutableAsync() => Task.FromResult<string?>(null);

    /// <summary>Asks the server to stop as a service manager does (SIGTERM) and returns its exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        (await ExternalTool.RunAsync("kill", ["-TERM", ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)])).EnsureSuccess();
        return await Process.WaitForExitAsync(timeout);
    }

    public virtual Task DisposeAsync()
    {
        _process?.Dispose();
        _dataDirectory.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>An HttpClient aimed at this server, with the registry credentials when there are any.</summary>
    public HttpClient CreateHttpClient(TimeSpan? timeout = null) => Process.CreateClient(timeout ?? TimeSpan.FromMinutes(2));

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
}
