namespace Berth.Cli.Cli;

/// <summary>
/// Everything the CLI takes from its surroundings: streams, environment variables, directories and the HTTP
/// stack. Tests run the whole command tree in-process with their own environment instead of mutating the
/// test host's (DOCKER_CONFIG, REGISTRY_AUTH_FILE, BERTH_DATA ...).
/// </summary>
public sealed class CliEnvironment
{
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }
    public TextReader In { get; init; } = TextReader.Null;

    /// <summary>Whether confirmation prompts can be answered; without a terminal, destructive commands need --yes.</summary>
    public bool Interactive { get; init; }

    /// <summary>Whether stderr is a terminal: progress is drawn there, and written as plain lines otherwise.</summary>
    public bool ErrorIsTerminal { get; init; }

    public required Func<string, string?> GetVariable { get; init; }
    public required string CurrentDirectory { get; init; }
    public required string HomeDirectory { get; init; }

    /// <summary>
    /// <c>/run/containers/$UID</c>: where skopeo and podman keep credentials when <c>XDG_RUNTIME_DIR</c> is unset (as root
    /// outside a login session). Tests point it at a scratch folder.
    /// </summary>
    public string ContainersRunDirectory { get; init; } = $"/run/containers/{UserId()}";

    /// <summary>Creates the handler every HTTP call goes through; tests may substitute one.</summary>
    public Func<HttpMessageHandler> CreateHandler { get; init; } = () => new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(1),
    };

    public string? Variable(string name) => GetVariable(name) is { Length: > 0 } value ? value : null;

    /// <summary>The real user id (getuid), as the container tools use it in their per-user run folder.</summary>
    private static uint UserId() => OperatingSystem.IsWindows() ? 0 : GetUid();

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getuid")]
    private static extern uint GetUid();

    public static CliEnvironment FromProcess() => new()
    {
        Out = Console.Out,
        Error = Console.Error,
        In = Console.In,
        Interactive = !Console.IsInputRedirected,
        ErrorIsTerminal = !Console.IsErrorRedirected,
        GetVariable = Environment.GetEnvironmentVariable,
        CurrentDirectory = Directory.GetCurrentDirectory(),
        HomeDirectory = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
    };
}
