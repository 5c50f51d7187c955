namespace Berth.Testing;

/// <summary>
/// A private containerd (Debian's <c>containerd</c>, the runtime Kubernetes nodes pull with) for <c>ctr</c>: its own
/// root, state and socket in a temporary folder, no CRI plugin, stopped and removed on dispose. containerd runs as
/// root; the test command runs the suite as root or installs with sudo, and a daemon that cannot start fails the test.
/// </summary>
public sealed class ContainerdServer : IAsyncDisposable
{
    private readonly ServiceProcess _process;
    private readonly string _folder;

    private ContainerdServer(ServiceProcess process, string folder)
    {
        _process = process;
        _folder = folder;
    }

    public string Socket => Path.Combine(_folder, "containerd.sock");

    public static async Task<ContainerdServer> StartAsync()
    {
        var folder = Directory.CreateTempSubdirectory("berth-ctd-").FullName;
        var config = Path.Combine(folder, "config.toml");
        await File.WriteAllTextAsync(config, $"""
            version = 2
            root = "{folder}/root"
            state = "{folder}/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]
            [grpc]
              address = "{folder}/containerd.sock"
            """);
        var server = new ContainerdServer(ServiceProcess.Start(AsRoot[0], [.. AsRoot[1..], "containerd", "--config", config]), folder);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await server.CtrAsync("version")).ExitCode != 0)
        {
            if (server._process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"containerd did not start:\n{server._process.Tail}");
            await Task.Delay(200);
        }
        return server;
    }

    /// <summary>Runs <c>ctr</c> against this daemon, in its own namespace.</summary>
    public Task<ExternalToolResult> CtrAsync(params string[] arguments) =>
        ExternalTool.RunAsync(AsRoot[0], [.. AsRoot[1..], "ctr", "--address", Socket, "--namespace", "berth-tests", .. arguments], timeout: TimeSpan.FromMinutes(2));

    /// <summary>containerd and its socket need root: as root they run directly, otherwise through <c>sudo -n</c> (as the test command installs).</summary>
    private static readonly string[] AsRoot = Environment.UserName == "root" ? ["env"] : ["sudo", "-n"];

    public async ValueTask DisposeAsync()
    {
        _process.Dispose();
        await Task.Delay(100);
        try { Directory.Delete(_folder, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
