using System.Text.Encodings.Web;

namespace Berth.Cli.Credentials;

/// <summary>
/// Where docker, podman and skopeo keep registry credentials. containers-auth.json(5) and containers/image read, in
/// order: <c>$REGISTRY_AUTH_FILE</c>; else <c>$XDG_RUNTIME_DIR/containers/auth.json</c>, or
/// <c>/run/containers/$UID/auth.json</c> when <c>XDG_RUNTIME_DIR</c> is unset (skopeo and podman as root without a
/// login session write there); then <c>$XDG_CONFIG_HOME/containers/auth.json</c> (<c>~/.config/...</c>); then docker's
/// <c>$DOCKER_CONFIG/config.json</c> (<c>~/.docker/config.json</c>). Login writes where the container tools write
/// (their first path) and docker's file; logout removes the entry from every one of them, so no credential is left
/// behind in a file a tool would still read. All keep <c>{"auths": {"&lt;server&gt;": {"auth": base64(user:password)}}}</c>.
/// Edits touch one entry: everything else in the file is kept as parsed, the file is replaced atomically and keeps its
/// mode (new files are 0600).
/// </summary>
public static class AuthFiles
{
    private static readonly JsonSerializerOptions Tabbed = new()
    {
        WriteIndented = true,
        IndentCharacter = '\t',
        IndentSize = 1,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string DockerConfigPath(CliEnvironment env) =>
        Path.Combine(env.Variable("DOCKER_CONFIG") ?? Path.Combine(env.HomeDirectory, ".docker"), "config.json");

    /// <summary>The file skopeo and podman write at login, and read first.</summary>
    public static string ContainersAuthPath(CliEnvironment env) =>
        env.Variable("REGISTRY_AUTH_FILE")
        ?? (env.Variable("XDG_RUNTIME_DIR") is { } runtime
            ? Path.Combine(runtime, "containers", "auth.json")
            : Path.Combine(env.ContainersRunDirectory, "auth.json"));

    /// <summary>The per-user file the container tools read after <see cref="ContainersAuthPath"/>; berth's fallback when that cannot be written.</summary>
    public static string ContainersConfigAuthPath(CliEnvironment env) =>
        Path.Combine(env.Variable("XDG_CONFIG_HOME") ?? Path.Combine(env.HomeDirectory, ".config"), "containers", "auth.json");

    /// <summary>Where login stores a credential: the container tools' file, then docker's.</summary>
    public static IReadOnlyList<string> Paths(CliEnvironment env) => [DockerConfigPath(env), ContainersAuthPath(env)];

    /// <summary>Every file a tool may read a credential from: logout clears each of them.</summary>
    public static IReadOnlyList<string> AllPaths(CliEnvironment env)
    {
        var runtime = env.Variable("XDG_RUNTIME_DIR");
        return new[]
            {
                env.Variable("REGISTRY_AUTH_FILE"),
                runtime is null ? null : Path.Combine(runtime, "containers", "auth.json"),
                Path.Combine(env.ContainersRunDirectory, "auth.json"),
                ContainersConfigAuthPath(env),
                DockerConfigPath(env),
            }
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    public static string EncodeAuth(string username, string password) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}"));

    /// <summary>Sets <c>auths[server]</c> to the credential, replacing any older entry for exactly that server.</summary>
    public static void Store(string path, string server, string username, string password)
    {
        var root = Read(path) ?? new JsonObject();
        if (root["auths"] is not JsonObject auths)
        {
            auths = new JsonObject();
            root["auths"] = auths;
        }
        auths[server] = new JsonObject { ["auth"] = EncodeAuth(username, password) };
        Write(path, root);
    }

    /// <summary>Removes <c>auths[server]</c> (and its scheme-prefixed spellings, which docker also writes); returns whether anything was removed.</summary>
    public static bool Remove(string path, string server)
    {
        var root = Read(path);
        if (root?["auths"] is not JsonObject auths)
        {
            return false;
        }
        var keys = auths.Select(p => p.Key)
            .Where(k => k == server || k == "https://" + server || k == "http://" + server || k == "https://" + server + "/v1/")
            .ToList();
        if (keys.Count == 0)
        {
            return false;
        }
        foreach (var key in keys)
        {
            auths.Remove(key);
        }
        Write(path, root);
        return true;
    }

    /// <summary>The user of the stored entry for a server, if any.</summary>
    public static string? StoredUser(string path, string server)
    {
        var auth = (Read(path)?["auths"]?[server]?["auth"] as JsonValue)?.GetValue<string>();
        if (auth is null)
        {
            return null;
        }
        var text = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
        return text.Split(':', 2)[0];
    }

    public static bool HasCredentialHelper(string path, string server)
    {
        var root = Read(path);
        return root?["credsStore"] is not null || root?["credHelpers"]?[server] is not null;
    }

    private static JsonObject? Read(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        var text = File.ReadAllText(path);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new CliException($"{path} does not hold a JSON object; it was left unchanged.");
        }
        catch (JsonException error)
        {
            throw new CliException($"{path} is not valid JSON ({error.Message}); it was left unchanged.");
        }
    }

    private static void Write(string path, JsonObject root)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        const UnixFileMode privateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
            else Directory.CreateDirectory(directory, privateFile | UnixFileMode.UserExecute);
        }
        // Windows keeps access in ACLs, which a new file inherits from its folder; elsewhere the file's mode is kept.
        var mode = OperatingSystem.IsWindows() || !File.Exists(path) ? privateFile : File.GetUnixFileMode(path);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = privateFile;
            using (var stream = new FileStream(temporary, options))
            {
                var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(root, Tabbed));
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temporary, mode);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }
}
