using Berth.Testing;

namespace Berth.Azure.Tests.Infrastructure;

/// <summary>
/// The real az (Debian azure-cli) in an isolated, offline set-up: its own HOME and config folder, Berth's CA as the
/// only trust (<c>REQUESTS_CA_BUNDLE</c>, <c>SSL_CERT_FILE</c>), telemetry, survey and recommendations off,
/// <c>MSI_ENDPOINT</c> always set (so a managed-identity account never falls back to the cloud's metadata address),
/// and every proxied request going to a <see cref="LoopbackGuardProxy"/> that refuses and records anything not on
/// loopback. Loopback names bypass the proxy through NO_PROXY.
/// </summary>
public sealed class AzureCli : IDisposable
{
    private readonly HttpsBerthServer _server;
    private readonly LoopbackGuardProxy _proxy;

    public string Home { get; } = Path.Combine(Path.GetTempPath(), "berth-az-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>What the set-up lines export: <c>$HOME/.azure-berth</c>.</summary>
    public string ConfigDirectory => Path.Combine(Home, ".azure-berth");

    public List<string> Transcript { get; } = [];

    public AzureCli(HttpsBerthServer server, LoopbackGuardProxy proxy)
    {
        _server = server;
        _proxy = proxy;
        Directory.CreateDirectory(Home);
    }

    public Dictionary<string, string> Environment()
    {
        var ca = _server.CaCertificatePath;
        return new Dictionary<string, string>
        {
            ["HOME"] = Home,
            ["AZURE_CONFIG_DIR"] = ConfigDirectory,
            ["AZURE_EXTENSION_DIR"] = Path.Combine(Home, "cliextensions"),
            ["REQUESTS_CA_BUNDLE"] = ca,
            ["SSL_CERT_FILE"] = ca,
            ["MSI_ENDPOINT"] = _server.MsiEndpoint,
            ["AZURE_CORE_COLLECT_TELEMETRY"] = "false",
            ["AZURE_CORE_ERROR_RECOMMENDATION"] = "off",
            ["AZURE_CORE_SURVEY_MESSAGE"] = "false",
            ["AZURE_CORE_NO_COLOR"] = "true",
            ["AZURE_CORE_DISABLE_CONFIRM_PROMPT"] = "true",
            ["HTTPS_PROXY"] = _proxy.Url,
            ["HTTP_PROXY"] = _proxy.Url,
            ["https_proxy"] = _proxy.Url,
            ["http_proxy"] = _proxy.Url,
            ["NO_PROXY"] = "localhost,127.0.0.1,.localhost,::1",
            ["no_proxy"] = "localhost,127.0.0.1,.localhost,::1",
        };
    }

    /// <summary>Runs a bash script (the server's az-setup lines) in this environment.</summary>
    public async Task<ExternalToolResult> RunScriptAsync(string script)
    {
        var path = Path.Combine(Home, $"setup-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(path, "set -euo pipefail\nset -x\n" + script);
        var result = await ExternalTool.RunAsync("bash", [path], Environment(), [_server.OwnerClientSecret, _server.AdminPassword], TimeSpan.FromMinutes(3));
        Transcript.Add(result.Describe());
        return result;
    }

    public async Task<ExternalToolResult> RunAsync(params string[] arguments)
    {
        var result = await ExternalTool.RunAsync("az", arguments, Environment(), [_server.OwnerClientSecret, _server.AdminPassword], TimeSpan.FromMinutes(2));
        Transcript.Add(result.Describe());
        return result;
    }

    /// <summary>Runs az and returns its standard output, trimmed; fails the test with the whole exchange otherwise.</summary>
    public async Task<string> OkAsync(params string[] arguments)
    {
        var result = await RunAsync(arguments);
        Assert.True(result.ExitCode == 0, result.Describe());
        return result.StandardOutput.Trim();
    }

    public void Dispose()
    {
        try { Directory.Delete(Home, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
