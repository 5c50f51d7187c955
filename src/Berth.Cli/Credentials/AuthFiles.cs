using System.Text.Encodings.Web;

namespace Berth.Cli.Credentials;

/// <summary>
/// The two files where docker, podman and skopeo look for registry credentials:
/// docker's <c>config.json</c> (<c>$DOCKER_CONFIG/config.json</c>, else <c>~/.docker/config.json</c>) and the
/// containers <c>auth.json</c> (<c>$REGISTRY_AUTH_FILE</c>, else <c>$XDG_RUNTIME_DIR/containers/auth.json</c>,
/// else <c>~/.config/containers/auth.json</c>, which containers-auth.json(5) also reads). Both keep
/// <c>{"auths": {"&lt;server&gt;": {"auth": base64(user:password)}}}</c>. Edits touch one entry: everything else in
/// the file is kept as parsed, the file is replaced atomically and keeps its mode (new files are 0600).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
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

    public static string ContainersAuthPath(CliEnvironment env)
    {
        if (env.Variable("REGISTRY_AUTH_FILE") is { } file)
        {
            return file;
        }
        if (env.Variable("XDG_RUNTIME_DIR") is { } runtime)
        {
            return Path.Combine(runtime, "containers", "auth.json");
        }
        return Path.Combine(env.Variable("XDG_CONFIG_HOME") ?? Path.Combine(env.HomeDirectory, ".config"), "containers", "auth.json");
    }

    public static IReadOnlyList<string> Paths(CliEnvironment env) => [DockerConfigPath(env), ContainersAuthPath(env)];

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

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void Write(string path, JsonObject root)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var mode = File.Exists(path) ? File.GetUnixFileMode(path) : UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(root, Tabbed));
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.SetUnixFileMode(temporary, mode);
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
