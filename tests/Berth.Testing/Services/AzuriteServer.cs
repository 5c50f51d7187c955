using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Azure.Storage.Blobs;

namespace Berth.Testing;

/// <summary>
/// Azurite (Microsoft's Azure Storage emulator, from npm) serving Blob Storage on a free loopback port, started once
/// per test process by the first test that needs it, with its data in a fresh temporary folder. Each test class takes
/// its own container (<see cref="CreateContainerAsync"/>). <see cref="StopAsync"/> and <see cref="StartAsync"/> take the
/// service away and bring it back on the same port with the same data, for tests of what Berth does meanwhile. The
/// service is stopped and its folder removed when the test process exits, and a later run removes what a killed run
/// left behind.
/// </summary>
public sealed class AzuriteServer
{
    /// <summary>Azurite's fixed development account (its well-known, public key).</summary>
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const string FolderPrefix = "berth-azurite-";
    private static readonly Lazy<Task<AzuriteServer>> SharedServer = new(CreateAsync);

    private readonly string _folder;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Process? _process;

    private AzuriteServer(string folder, int port)
    {
        _folder = folder;
        Port = port;
    }

    public int Port { get; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>A connection string for the development account, as an operator would put it in Berth:Storage:AzureBlob:ConnectionString.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{Port}/{AccountName};";

    /// <summary>The server of this test process, started on first use.</summary>
    public static Task<AzuriteServer> GetAsync() => SharedServer.Value;

    /// <summary>
    /// A server of the caller's own, for a test that stops and starts it (the shared one must stay up for everyone
    /// else); <see cref="DisposeAsync"/> removes it.
    /// </summary>
    public static Task<AzuriteServer> StartPrivateAsync() => CreateAsync();

    public async Task DisposeAsync()
    {
        await StopAsync();
        Remove();
    }

    /// <summary>Creates an empty container with a fresh name and returns that name.</summary>
    public async Task<string> CreateContainerAsync(string prefix = "berth")
    {
        var name = $"{prefix.ToLowerInvariant()}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)];
        await new BlobServiceClient(ConnectionString).GetBlobContainerClient(name).CreateAsync();
        return name;
    }

    public async Task DeleteContainerAsync(string name)
    {
        if (IsRunning) await new BlobServiceClient(ConnectionString).GetBlobContainerClient(name).DeleteIfExistsAsync();
    }

    private static string NodeFolder =>
        typeof(AzuriteServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "ServicesNodeFolder").Value!;

    private static async Task<AzuriteServer> CreateAsync()
    {
        RemoveLeftovers();
        var folder = OwnedTempFolder.Create(FolderPrefix);
        Directory.CreateDirectory(Path.Combine(folder, "data"));
        var server = new AzuriteServer(folder, LoopbackPort.Free());
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Remove();
        server.StartWatchdog();
        await server.StartAsync();
        return server;
    }

    /// <summary>Starts Azurite on this server's port and data folder (again, after <see cref="StopAsync"/>).</summary>
    public async Task StartAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (IsRunning) return;
            var executable = Path.Combine(NodeFolder, "node_modules", ".bin", "azurite-blob");
            if (!File.Exists(executable))
                throw new InvalidOperationException(
                    $"Azurite is not installed in {NodeFolder}/node_modules; run scripts/test.sh (it runs `npm ci` there) or `npm ci` in that folder.");
            var startInfo = new ProcessStartInfo(executable) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            // --disableTelemetry: otherwise Azurite tries to reach an outside telemetry host. --skipApiVersionCheck: the
            // SDK may speak a newer service version than this Azurite knows. --loose: ignore headers Azurite does not implement.
            foreach (var argument in new[]
                     {
                         "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(), "--location", Path.Combine(_folder, "data"),
                         "--silent", "--skipApiVersionCheck", "--disableTelemetry", "--loose",
                     })
                startInfo.ArgumentList.Add(argument);
            var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {executable}");
            var output = new System.Text.StringBuilder();
            process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            process.StandardInput.Close();
            _process = process;
            await File.WriteAllTextAsync(Path.Combine(_folder, "azurite.pid"), process.Id.ToString());

            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!await AcceptsConnectionsAsync())
            {
                if (process.HasExited || DateTime.UtcNow > deadline)
                {
                    if (!process.HasExited) process.Kill(entireProcessTree: true);
                    string said;
                    lock (output) said = output.ToString();
                    throw new InvalidOperationException($"Azurite did not start on 127.0.0.1:{Port}:\n{said}");
                }
                await Task.Delay(100);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Stops Azurite the way an operator would (SIGTERM), so it saves its metadata and a later <see cref="StartAsync"/>
    /// finds every blob again; the port then refuses connections.
    /// </summary>
    public async Task StopAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_process is not { } process) return;
            if (!process.HasExited)
            {
                await ExternalTool.RunAsync("kill", ["-TERM", process.Id.ToString()]);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                try
                {
                    await process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
            process.Dispose();
            _process = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<bool> AcceptsConnectionsAsync()
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Remove()
    {
        try
        {
            if (_process is { HasExited: false } process) process.Kill(entireProcessTree: true);
            Directory.Delete(_folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // The watchdog removes it once this process is gone.
        }
    }

    /// <summary>
    /// The test host is not always given time for its exit handlers (the runner may kill it): a detached shell, outside
    /// the host's process tree, waits for the host to go and then stops Azurite and removes its folder.
    /// </summary>
    private void StartWatchdog()
    {
        var startInfo = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var argument in new[] { "-f", "sh", "-c", $"exec </dev/null >/dev/null 2>&1; while kill -0 {Environment.ProcessId}; do sleep 1; done; {RemoveScript(_folder)}" })
            startInfo.ArgumentList.Add(argument);
        using var process = Process.Start(startInfo);
        process?.WaitForExit(5_000);
    }

    private static string RemoveScript(string folder) =>
        $"if [ -f '{folder}/azurite.pid' ]; then kill -KILL $(cat '{folder}/azurite.pid'); fi; rm -rf '{folder}'";

    /// <summary>Folders of earlier runs whose test process is gone (killed before it could clean up): stop and remove.</summary>
    private static void RemoveLeftovers()
    {
        foreach (var folder in OwnedTempFolder.Leftovers(FolderPrefix))
        {
            var startInfo = new ProcessStartInfo("sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            startInfo.ArgumentList.Add("-c");
            startInfo.ArgumentList.Add(RemoveScript(folder));
            using var process = Process.Start(startInfo);
            process?.WaitForExit(10_000);
        }
    }

}
