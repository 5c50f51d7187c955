using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Berth.Testing;

/// <summary>
/// CNCF distribution (Debian's <c>docker-registry</c>, 2.8) serving plain HTTP on a free loopback port, with its storage
/// in a fresh temporary folder; with <see cref="Username"/> set, behind htpasswd Basic auth, as a private registry an
/// import or a cache reads from. Stopped and its folder removed on dispose.
/// </summary>
public sealed class DistributionServer : IAsyncDisposable
{
    private readonly string _folder;
    private ServiceProcess? _process;

    private DistributionServer(string folder, int port, string? username, string? password)
    {
        _folder = folder;
        Port = port;
        Username = username;
        Password = password;
    }

    public int Port { get; }

    /// <summary><c>127.0.0.1:PORT</c>: the registry's host as clients name it (it has a dot, which az wants).</summary>
    public string Address => $"127.0.0.1:{Port}";

    public string? Username { get; }
    public string? Password { get; }

    /// <summary>Starts a registry; with <paramref name="basicAuth"/> it accepts only a fresh random user and password.</summary>
    public static async Task<DistributionServer> StartAsync(bool basicAuth)
    {
        if (!ExternalTool.IsInstalled("docker-registry"))
            throw new InvalidOperationException("CNCF distribution (docker-registry) is not installed: apt-get install -y docker-registry (scripts/test.sh installs it).");
        var folder = Path.Combine(Path.GetTempPath(), "berth-distribution-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        var server = basicAuth
            ? new DistributionServer(folder, LoopbackPort.Free(), "importer", Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12)))
            : new DistributionServer(folder, LoopbackPort.Free(), null, null);
        try
        {
            await server.StartProcessAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client for the registry, with its credentials when it has any.</summary>
    public HttpClient CreateClient()
    {
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri($"http://{Address}/"),
            Timeout = TimeSpan.FromSeconds(30),
        };
        if (Username is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}")));
        return client;
    }

    private async Task StartProcessAsync()
    {
        var config = new StringBuilder($"""
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: {Path.Combine(_folder, "data")}
              delete:
                enabled: true
            http:
              addr: {Address}
            """);
        config.Append('\n');
        if (Username is not null)
        {
            var htpasswd = Path.Combine(_folder, "htpasswd");
            await File.WriteAllTextAsync(htpasswd, $"{Username}:{BCrypt.Net.BCrypt.HashPassword(Password, workFactor: 6)}\n");
            config.Append($"""
                auth:
                  htpasswd:
                    realm: berth-tests
                    path: {htpasswd}
                """).Append('\n');
        }
        var configPath = Path.Combine(_folder, "config.yml");
        await File.WriteAllTextAsync(configPath, config.ToString());
        _process = ServiceProcess.Start("docker-registry", ["serve", configPath]);

        // Ready once /v2/ answers (200 anonymous, 401 behind auth).
        using var probe = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"docker-registry exited with {_process.ExitCode}:\n{_process.Output}");
            try
            {
                using var response = await probe.GetAsync($"http://{Address}/v2/");
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Not answering yet.
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"docker-registry did not answer on {Address} within 30 s:\n{_process.Output}");
    }

    public ValueTask DisposeAsync()
    {
        _process?.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return ValueTask.CompletedTask;
    }
}
