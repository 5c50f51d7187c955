namespace Berth.Testing;

/// <summary>
/// CNCF distribution (Debian's <c>docker-registry</c>) on a loopback port over a temporary folder, optionally behind
/// htpasswd Basic authentication: an upstream for the artifact cache tests and a peer for comparisons. Its access log
/// lets a test count the requests it was sent.
/// </summary>
public sealed class DistributionRegistry : IRegistryEndpoint, IAsyncDisposable
{
    /// <summary>A bcrypt hash of <see cref="Password"/> (distribution's htpasswd takes bcrypt only).</summary>
    private const string PasswordHash = "$2b$12$Zaek1KgTmSeOv.WsCg4t2enTwtvl/OU569j7SawpRrGSC4VvNicvO";
    public const string User = "upstream";
    public const string Password = "upstream-pass-1";

    private readonly string _folder;
    private readonly bool _basicAuth;
    private ServiceProcess? _process;

    private DistributionRegistry(string folder, int port, bool basicAuth)
    {
        _folder = folder;
        Port = port;
        _basicAuth = basicAuth;
    }

    public int Port { get; }

    public string Host => $"127.0.0.1:{Port}";

    public string? Credentials => _basicAuth ? $"{User}:{Password}" : null;

    public static async Task<DistributionRegistry> StartAsync(bool basicAuth)
    {
        var registry = new DistributionRegistry(Directory.CreateTempSubdirectory("berth-dist-").FullName, LoopbackPort.Free(), basicAuth);
        await registry.StartAgainAsync();
        return registry;
    }

    /// <summary>Starts the registry (again, after <see cref="Stop"/>) on the same port and content.</summary>
    public async Task StartAgainAsync()
    {
        var auth = _basicAuth
            ? $"""
              auth:
                htpasswd:
                  realm: upstream
                  path: {_folder}/htpasswd
              """
            : "";
        await File.WriteAllTextAsync(Path.Combine(_folder, "htpasswd"), $"{User}:{PasswordHash}\n");
        await File.WriteAllTextAsync(Path.Combine(_folder, "config.yml"), $"""
            version: 0.1
            log:
              level: info
              accesslog:
                disabled: false
            storage:
              filesystem:
                rootdirectory: {_folder}/data
              delete:
                enabled: true
            {auth}
            http:
              addr: {Host}
            """);
        _process = ServiceProcess.Start("docker-registry", ["serve", Path.Combine(_folder, "config.yml")]);
        using var client = new HttpClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                using var response = await client.GetAsync($"http://{Host}/v2/");
                if ((int)response.StatusCode is 200 or 401) return;
            }
            catch (HttpRequestException)
            {
            }
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"docker-registry did not start:\n{_process.Tail}");
            await Task.Delay(100);
        }
    }

    public void Stop()
    {
        _process?.Dispose();
        _process = null;
    }

    /// <summary>How many requests of <paramref name="method"/> for paths containing <paramref name="pathPart"/> the access log shows so far.</summary>
    public int CountRequests(string method, string pathPart) =>
        (_process?.Output ?? "").Split('\n').Count(line => line.Contains($"\"{method} /v2/", StringComparison.Ordinal) && line.Contains(pathPart, StringComparison.Ordinal));

    public ValueTask DisposeAsync()
    {
        Stop();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
