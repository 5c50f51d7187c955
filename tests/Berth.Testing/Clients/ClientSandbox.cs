namespace Berth.Testing;

/// <summary>
/// A private temp folder for skopeo and podman: signature policy, an empty auth file (so no credentials of the
/// machine are ever picked up), podman storage, HOME and TMPDIR. Nothing global is read or changed.
/// </summary>
public sealed class ClientSandbox : IDisposable
{
    public ClientSandbox()
    {
        Root = Path.Combine(Path.GetTempPath(), "berth-clients-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Path.Combine(Root, "tmp"));
        PolicyPath = Path.Combine(Root, "policy.json");
        File.WriteAllText(PolicyPath, """{"default":[{"type":"insecureAcceptAnything"}]}""");
        AuthFile = Path.Combine(Root, "auth.json");
        File.WriteAllText(AuthFile, """{"auths":{}}""");
        File.SetUnixFileMode(AuthFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var containersConf = Path.Combine(Root, "containers.conf");
        File.WriteAllText(containersConf, "[engine]\nevents_logger = \"none\"\ncgroup_manager = \"cgroupfs\"\n");
        var registriesConf = Path.Combine(Root, "registries.conf");
        File.WriteAllText(registriesConf, "unqualified-search-registries = []\n");
        Environment = new Dictionary<string, string>
        {
            ["REGISTRY_AUTH_FILE"] = AuthFile,
            ["CONTAINERS_CONF"] = containersConf,
            ["CONTAINERS_REGISTRIES_CONF"] = registriesConf,
            ["HOME"] = Root,
            ["TMPDIR"] = Path.Combine(Root, "tmp"),
            ["XDG_CONFIG_HOME"] = Path.Combine(Root, "config"),
            ["XDG_DATA_HOME"] = Path.Combine(Root, "data"),
            ["XDG_RUNTIME_DIR"] = Path.Combine(Root, "tmp"),
        };
    }

    public string Root { get; }
    public string PolicyPath { get; }
    public string AuthFile { get; }
    public IReadOnlyDictionary<string, string> Environment { get; }

    public string Combine(string name) => Path.Combine(Root, name);

    public Task<ExternalToolResult> SkopeoAsync(IEnumerable<string> arguments, params string[] secrets) =>
        ExternalTool.RunAsync("skopeo", ["--policy", PolicyPath, .. arguments], Environment, secrets);

    /// <summary>podman with its own root and run root in this folder (vfs: no kernel overlay support needed).</summary>
    public Task<ExternalToolResult> PodmanAsync(IEnumerable<string> arguments, params string[] secrets) =>
        ExternalTool.RunAsync("podman",
            ["--root", Combine("podman-root"), "--runroot", Combine("podman-runroot"), "--storage-driver", "vfs",
             "--events-backend", "none", "--cgroup-manager", "cgroupfs", .. arguments], Environment, secrets);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // podman's vfs layers may hold read-only files; the OS cleans temp eventually.
        }
    }
}
