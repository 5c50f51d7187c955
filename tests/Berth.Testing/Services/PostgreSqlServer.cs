using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Berth.Testing;

/// <summary>
/// Debian's PostgreSQL, started once per test process by the first test that needs it: <c>initdb</c> into a fresh
/// temporary folder and <c>pg_ctl start</c> on a free loopback port, with its socket in that folder too, so it never
/// touches the machine's own cluster. PostgreSQL refuses to run as root, so as root the folder is handed to the
/// <c>postgres</c> user and every command runs through <c>runuser</c>. Each test class takes its own database
/// (<see cref="CreateDatabaseAsync"/>). The server is stopped and its folder removed when the test process exits, and
/// a later run removes what a killed run left behind. A test that stops the database takes a cluster of its own
/// (<see cref="StartDedicatedAsync"/>).
/// </summary>
public sealed class PostgreSqlServer : IAsyncDisposable
{
    private const string FolderPrefix = "berth-pg-";
    private static readonly Lazy<Task<PostgreSqlServer>> SharedServer = new(CreateSharedAsync);

    private readonly string _folder;
    private readonly string _binDirectory;
    private readonly string? _runAs;
    private readonly bool _dedicated;

    private PostgreSqlServer(string folder, string binDirectory, string? runAs, int port, bool dedicated)
    {
        _dedicated = dedicated;
        _folder = folder;
        _binDirectory = binDirectory;
        _runAs = runAs;
        Port = port;
    }

    public int Port { get; }

    private string DataDirectory => Path.Combine(_folder, "data");

    /// <summary>The server of this test process, started on first use.</summary>
    public static Task<PostgreSqlServer> GetAsync() => SharedServer.Value;

    /// <summary>The connection string of a database in this server (no password: trust authentication on loopback only).</summary>
    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = "postgres",
            Database = database,
            // Test servers come and go; keep each one's pool small so many of them fit under max_connections.
            MaxPoolSize = 20,
        }.ConnectionString;

    /// <summary>Creates an empty database with a fresh name and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "berth")
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)].ToLowerInvariant();
        await AdminAsync($"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C';");
        return ConnectionString(name);
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, closing whatever connections are still open to it.</summary>
    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await AdminAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE);");
    }

    private async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// A cluster of its own, for a test that stops and starts the database (<see cref="StopAsync"/>, <see cref="StartAsync"/>)
    /// and so must not share the process's server with other tests. Dispose it when done.
    /// </summary>
    public static Task<PostgreSqlServer> StartDedicatedAsync() => CreateAsync(dedicated: true);

    private static Task<PostgreSqlServer> CreateSharedAsync() => CreateAsync(dedicated: false);

    private static async Task<PostgreSqlServer> CreateAsync(bool dedicated)
    {
        var binDirectory = FindBinDirectory();
        RemoveLeftovers(binDirectory);
        var folder = OwnedTempFolder.Create(FolderPrefix);
        var runAs = Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root" || IsRoot() ? "postgres" : null;
        if (runAs is not null)
        {
            (await ExternalTool.RunAsync("chown", ["-R", $"{runAs}:", folder])).EnsureSuccess();
            // The postgres user must be able to reach the folder: /tmp is world-searchable, TMPDIR may not be.
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var server = new PostgreSqlServer(folder, binDirectory, runAs, LoopbackPort.Free(), dedicated);
        try
        {
            (await server.RunAsync("initdb", ["-D", server.DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"])).EnsureSuccess();
            await server.StartAsync();
        }
        catch
        {
            server.Stop();
            throw;
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
        server.StartWatchdog();
        return server;
    }

    /// <summary>Starts the cluster (again) on its port and data folder; returns once it accepts connections.</summary>
    public async Task StartAsync()
    {
        // A throw-away cluster: durability settings off for speed; enough connections for several servers' pools.
        var options = string.Join(' ',
            "-c listen_addresses=127.0.0.1", $"-p {Port}", $"-k {_folder}", "-c max_connections=300",
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off", "-c shared_buffers=32MB");
        var started = await RunAsync("pg_ctl", ["start", "-D", DataDirectory, "-w", "-t", "60", "-l", Path.Combine(_folder, "server.log"), "-o", options]);
        if (started.ExitCode != 0)
        {
            var log = File.Exists(Path.Combine(_folder, "server.log")) ? await File.ReadAllTextAsync(Path.Combine(_folder, "server.log")) : "";
            throw new InvalidOperationException(started.Describe() + "\n--- server.log ---\n" + log);
        }
    }

    /// <summary>
    /// Stops the cluster the way an operator's shutdown does (<c>pg_ctl stop -m fast</c>: open sessions are ended with
    /// "terminating connection due to administrator command"); the data stays for <see cref="StartAsync"/>.
    /// </summary>
    public async Task StopAsync() =>
        (await RunAsync("pg_ctl", ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60"])).EnsureSuccess();

    /// <summary>Stops a dedicated cluster and removes its folder; the shared server lives as long as the test process.</summary>
    public ValueTask DisposeAsync()
    {
        if (_dedicated) Stop();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The test host is not always given time for its exit handlers (the runner may kill it): a detached shell, outside
    /// the host's process tree, waits for the host to go and then stops the server and removes its folder.
    /// </summary>
    private void StartWatchdog()
    {
        var startInfo = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var argument in new[] { "-f", "sh", "-c", $"exec </dev/null >/dev/null 2>&1; while kill -0 {Environment.ProcessId}; do sleep 1; done; {StopScript()}" })
            startInfo.ArgumentList.Add(argument);
        using var process = Process.Start(startInfo);
        process?.WaitForExit(5_000);
    }

    /// <summary>
    /// Stops the server at once (its data is thrown away anyway) and removes its folder, from a shell of its own so the
    /// clean-up finishes even when the test host is ended right after its exit handlers start.
    /// </summary>
    private void Stop()
    {
        var startInfo = new ProcessStartInfo("sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(StopScript());
        using var process = Process.Start(startInfo);
        process?.WaitForExit(25_000);
    }

    /// <summary>Shell commands that stop the server if it runs and remove its folder.</summary>
    private string StopScript()
    {
        var (file, arguments) = Command(_binDirectory, _runAs, "pg_ctl", ["stop", "-D", DataDirectory, "-m", "immediate", "-w", "-t", "20"]);
        var stop = string.Join(' ', new[] { file }.Concat(arguments).Select(a => "'" + a.Replace("'", "'\\''") + "'"));
        return $"if [ -f '{DataDirectory}/postmaster.pid' ]; then {stop}; fi; rm -rf '{_folder}'";
    }

    private static void StopCluster(string binDirectory, string dataDirectory, string? runAs)
    {
        if (!File.Exists(Path.Combine(dataDirectory, "postmaster.pid"))) return;
        var (file, arguments) = Command(binDirectory, runAs, "pg_ctl", ["stop", "-D", dataDirectory, "-m", "immediate", "-w", "-t", "20"]);
        var startInfo = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) startInfo.ArgumentList.Add(argument);
        using var process = Process.Start(startInfo);
        process?.WaitForExit(25_000);
    }

    /// <summary>Folders of earlier runs whose test process is gone (killed before it could clean up): stop and remove.</summary>
    private static void RemoveLeftovers(string binDirectory)
    {
        foreach (var folder in OwnedTempFolder.Leftovers(FolderPrefix))
        {
            try
            {
                StopCluster(binDirectory, Path.Combine(folder, "data"), IsRoot() ? "postgres" : null);
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Someone else's folder; leave it.
            }
        }
    }


    private Task<ExternalToolResult> RunAsync(string tool, IEnumerable<string> arguments)
    {
        var (file, all) = Command(_binDirectory, _runAs, tool, arguments);
        return ExternalTool.RunAsync(file, all, timeout: TimeSpan.FromMinutes(2), workingDirectory: _folder);
    }

    private static (string File, IReadOnlyList<string> Arguments) Command(string binDirectory, string? runAs, string tool, IEnumerable<string> arguments)
    {
        var path = Path.Combine(binDirectory, tool);
        return runAs is null ? (path, arguments.ToList()) : ("runuser", ["-u", runAs, "--", path, .. arguments]);
    }

    /// <summary>Debian keeps the server binaries off PATH, in /usr/lib/postgresql/&lt;version&gt;/bin; the newest wins.</summary>
    private static string FindBinDirectory()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (Directory: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .Where(c => File.Exists(Path.Combine(c.Directory, "initdb")) && File.Exists(Path.Combine(c.Directory, "pg_ctl")))
                .OrderByDescending(c => c.Version)
                .Select(c => c.Directory)
            : [];
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Where(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
        return candidates.Concat(onPath).FirstOrDefault()
            ?? throw new InvalidOperationException(
                "PostgreSQL's server binaries (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin or on PATH; " +
                "install Debian's postgresql package (scripts/test.sh does this).");
    }

    private static bool IsRoot()
    {
        try
        {
            return File.ReadAllLines("/proc/self/status").Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0");
        }
        catch (IOException)
        {
            return false;
        }
    }
}
