using System.Text;
using System.Text.Json.Nodes;

namespace Berth.Testing;

/// <summary>Where the container tools reach a registry: one Berth server, or a load balancer in front of several.</summary>
public interface IRegistryEndpoint
{
    /// <summary><c>host:port</c> as the tools spell the registry.</summary>
    string Host { get; }

    /// <summary>"user:password", or null for a client without credentials.</summary>
    string? Credentials { get; }
}

/// <summary>
/// Runs skopeo and podman against one Berth server with configuration of their own in a temp folder:
/// signature policy, registries.conf (the server marked insecure because it speaks plain HTTP), an auth
/// file holding the server's credentials, and for podman a private image store. Nothing global on the machine is read or changed.
/// </summary>
public sealed class ContainerTools : IDisposable
{
    /// <summary>A large image through skopeo or podman can take minutes on a slow CI machine.</summary>
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(5);

    private readonly IRegistryEndpoint _server;
    private readonly TempDirectory _home = new("tools");
    private readonly Dictionary<string, string> _environment;
    private readonly string _policyPath;

    /// <param name="anonymous">Leave the server's credentials out, to act as a client that has none.</param>
    public ContainerTools(IRegistryEndpoint server, bool anonymous = false)
    {
        _server = server;
        _policyPath = _home.Combine("policy.json");
        File.WriteAllText(_policyPath, """{"default":[{"type":"insecureAcceptAnything"}]}""");

        var registriesConf = _home.Combine("registries.conf");
        File.WriteAllText(registriesConf, $"""
            unqualified-search-registries = []

            [[registry]]
            location = "{server.Host}"
            insecure = true
            """);

        // Credentials go in the tools' auth file rather than --creds, so they never appear on a command line
        // (visible to every process) or in a failure message that lands in the CI log.
        var authFile = _home.Combine("auth.json");
        var auths = new JsonObject();
        if (server.Credentials is not null && !anonymous)
        {
            auths[server.Host] = new JsonObject { ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(server.Credentials)) };
        }
        File.WriteAllText(authFile, new JsonObject { ["auths"] = auths }.ToJsonString());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(authFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var storageConf = _home.Combine("storage.conf");
        // vfs needs no kernel overlay support, so it works inside any container the tests may run in.
        File.WriteAllText(storageConf, $"""
            [storage]
            driver = "vfs"
            graphroot = "{PodmanRoot}"
            runroot = "{PodmanRunRoot}"
            """);

        var containersConf = _home.Combine("containers.conf");
        // No journald or systemd is assumed on a CI machine.
        File.WriteAllText(containersConf, """
            [engine]
            events_logger = "none"
            cgroup_manager = "cgroupfs"
            """);

        Directory.CreateDirectory(_home.Combine("tmp"));
        _environment = new Dictionary<string, string>
        {
            ["CONTAINERS_REGISTRIES_CONF"] = registriesConf,
            ["CONTAINERS_STORAGE_CONF"] = storageConf,
            ["CONTAINERS_CONF"] = containersConf,
            ["REGISTRY_AUTH_FILE"] = authFile,
            ["TMPDIR"] = _home.Combine("tmp"),
            // Keep tool caches (e.g. blob-info-cache) out of the machine's real home.
            ["HOME"] = _home.Path,
            ["XDG_CONFIG_HOME"] = _home.Combine("config"),
            ["XDG_DATA_HOME"] = _home.Combine("data"),
        };
    }

    public string WorkDirectory => _home.Path;

    private string PodmanRoot => _home.Combine("podman-root");

    private string PodmanRunRoot => _home.Combine("podman-runroot");

    /// <summary>docker://127.0.0.1:port/repo:tag (or @digest) for skopeo.</summary>
    public string RegistryReference(string repository, string tagOrDigest) =>
        $"docker://{_server.Host}/{repository}{(tagOrDigest.Contains(':') ? "@" : ":")}{tagOrDigest}";

    public Task<ExternalToolResult> SkopeoCopyAsync(string source, string destination, params string[] options)
    {
        var args = new List<string> { "--policy", _policyPath, "copy" };
        if (source.StartsWith("docker://", StringComparison.Ordinal))
        {
            args.Add("--src-tls-verify=false");
        }
        if (destination.StartsWith("docker://", StringComparison.Ordinal))
        {
            args.Add("--dest-tls-verify=false");
        }
        args.AddRange(options);
        args.Add(source);
        args.Add(destination);
        return ExternalTool.RunAsync("skopeo", args, _environment, timeout: ToolTimeout);
    }

    /// <summary>skopeo inspect / list-tags / delete: the subcommands that take one registry reference.</summary>
    public Task<ExternalToolResult> SkopeoAsync(string subcommand, string reference, params string[] options)
    {
        var args = new List<string> { "--policy", _policyPath, subcommand, "--tls-verify=false" };
        args.AddRange(options);
        args.Add(reference);
        return ExternalTool.RunAsync("skopeo", args, _environment, timeout: ToolTimeout);
    }

    public Task<ExternalToolResult> PodmanAsync(params string[] arguments)
    {
        var args = new List<string>
        {
            "--root", PodmanRoot,
            "--runroot", PodmanRunRoot,
            "--storage-driver", "vfs",
            "--events-backend", "none",
            "--cgroup-manager", "cgroupfs",
        };
        args.AddRange(arguments);
        return ExternalTool.RunAsync("podman", args, _environment, timeout: ToolTimeout);
    }

    /// <summary>Options podman push/pull need against this server: plain HTTP and our signature policy.</summary>
    public string[] PodmanRegistryOptions() => ["--tls-verify=false", "--signature-policy", _policyPath];

    public void Dispose() => _home.Dispose();
}
