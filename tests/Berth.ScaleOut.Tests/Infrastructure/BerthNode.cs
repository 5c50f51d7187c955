namespace Berth.ScaleOut.Tests.Infrastructure;

/// <summary>
/// One Berth node: a <see cref="BerthProcess"/> on a port of its own that it keeps across restarts (nginx names the node
/// by it), configured through <c>Berth__...</c> environment variables (as a container would be) so that no connection
/// string shows on a command line. Ready means <c>/readyz</c> answers: the shared database and storage answer too.
/// </summary>
public sealed class BerthNode : IDisposable
{
    private readonly BerthProcess _process;

    public BerthNode(string name, string dataDirectory, IReadOnlyDictionary<string, string> settings)
    {
        Name = name;
        Directory.CreateDirectory(dataDirectory);
        _process = new BerthProcess(dataDirectory, LoopbackPort.Free())
        {
            Name = "node " + name,
            Environment = settings.ToDictionary(s => "Berth__" + s.Key.Replace(":", "__"), s => s.Value),
            ReadinessPath = "readyz",
            // The nodes share their state; the test reads the admin credentials node A created, once.
            ReadAdminCredentials = false,
        };
    }

    /// <summary>"A" or "B", for messages.</summary>
    public string Name { get; }

    public int Port => _process.Port;

    /// <summary><c>127.0.0.1:port</c>, as nginx's <c>$upstream_addr</c> names this node.</summary>
    public string Address => _process.Address;

    public Uri BaseAddress => _process.BaseAddress;

    public string DataDirectory => _process.DataDirectory;

    public bool IsRunning => _process.IsRunning;

    public string Output => _process.Output;

    public Task StartAsync() => _process.StartAsync();

    /// <summary>SIGKILL, as a crashed machine: no request is finished and nothing is flushed.</summary>
    public void Kill() => _process.Kill();

    public HttpClient CreateHttpClient(string? credentials = null) => Cluster.CreateHttpClient(BaseAddress, credentials);

    public void Dispose() => _process.Dispose();
}
