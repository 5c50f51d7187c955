namespace Berth.Cli.Cli;

/// <summary>
/// berth's own settings, as az keeps them in <c>~/.azure/config</c>: a small JSON file at <c>$BERTH_CONFIG_DIR/config.json</c>,
/// else <c>$XDG_CONFIG_HOME/berth/config.json</c> (<c>~/.config/berth/config.json</c>). Only the keys in
/// <see cref="Keys"/> exist, so a typo is refused rather than stored and silently ignored.
/// </summary>
public static class UserConfig
{
    public const string DefaultGroup = "defaults.group";

    public static IReadOnlyDictionary<string, string> Keys { get; } = new Dictionary<string, string>
    {
        [DefaultGroup] = "the resource group 'berth acr create' uses when -g is not given",
    };

    public static string Path(CliEnvironment env) => env.Variable("BERTH_CONFIG_DIR") is { } directory
        ? System.IO.Path.Combine(directory, "config.json")
        : System.IO.Path.Combine(env.Variable("XDG_CONFIG_HOME") ?? System.IO.Path.Combine(env.HomeDirectory, ".config"), "berth", "config.json");

    public static JsonObject Read(CliEnvironment env)
    {
        var path = Path(env);
        if (!File.Exists(path)) return new JsonObject();
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new CliException($"{path} does not hold a JSON object.");
        }
        catch (JsonException error)
        {
            throw new CliException($"{path} is not valid JSON: {error.Message}");
        }
    }

    public static string? Get(CliEnvironment env, string key) => Read(env)[key] is JsonValue value ? value.GetValue<string>() : null;

    public static void Set(CliEnvironment env, string key, string? value)
    {
        if (!Keys.ContainsKey(key))
            throw CliException.Usage($"'{key}' is not a berth setting; known: {string.Join(", ", Keys.Keys)}.");
        var settings = Read(env);
        if (value is null) settings.Remove(key);
        else settings[key] = value;
        var path = Path(env);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path, settings.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
