using Berth.Azure.Tests.Infrastructure;
using Berth.Testing;

namespace Berth.Azure.Tests;

/// <summary>
/// One HTTPS Berth process for the az tests, the /etc/hosts line its names need, the loopback guard proxy, an image
/// (<c>samples/hello:1</c>) pushed with the admin credentials, and a webhook receiver the server may call.
/// </summary>
public sealed class AzureFixture : IAsyncLifetime
{
    public const string Repository = "samples/hello";
    public const string SecondRegistry = "secondreg";

    public HttpsBerthServer Server { get; private set; } = null!;
    public LoopbackGuardProxy Proxy { get; } = new();
    public TestImage Image { get; } = new();

    /// <summary>A webhook receiver on loopback, the one destination the server's webhooks may call.</summary>
    public WebhookReceiver Receiver { get; private set; } = null!;
    public string CertDirectory { get; } = Path.Combine(Path.GetTempPath(), "berth-az-certs-" + Guid.NewGuid().ToString("N")[..12]);
    private HostsFileEntry? _hosts;

    public async Task InitializeAsync()
    {
        if (!ExternalTool.IsInstalled("az"))
            throw new InvalidOperationException("The Azure CLI (az) is not installed: apt-get install -y azure-cli (scripts/test.sh installs it).");
        if (!ExternalTool.IsInstalled("skopeo"))
            throw new InvalidOperationException("skopeo is not installed: apt-get install -y skopeo (scripts/test.sh installs it).");
        Receiver = await WebhookReceiver.StartAsync();
        Server = await HttpsBerthServer.StartAsync("--Berth:Webhooks:AllowedDestinations:0=" + Receiver.Destination, "--Berth:Webhooks:PollInterval=00:00:00.1");
        _hosts = new HostsFileEntry(["management.localhost", "login.localhost", "myregistry.acr.localhost", $"{SecondRegistry}.acr.localhost"]);
        Directory.CreateDirectory(CertDirectory);
        File.Copy(Server.CaCertificatePath, Path.Combine(CertDirectory, "ca.crt"));
        using var admin = Server.CreateAdminClient();
        await admin.PushImageAsync(Repository, Image, "1");
    }

    public async Task DisposeAsync()
    {
        _hosts?.Dispose();
        await Proxy.DisposeAsync();
        if (Server is not null) await Server.DisposeAsync();
        if (Receiver is not null) await Receiver.DisposeAsync();
        try { Directory.Delete(CertDirectory, recursive: true); } catch (IOException) { }
    }

    /// <summary>skopeo, trusting Berth's CA, never through a proxy; <paramref name="credentials"/> null means anonymous.</summary>
    public async Task<ExternalToolResult> SkopeoPullAsync(string reference, string? credentials)
    {
        var destination = Path.Combine(Path.GetTempPath(), "berth-az-pull-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var arguments = new List<string> { "copy", "--src-cert-dir", CertDirectory };
            arguments.AddRange(credentials is null ? ["--src-no-creds"] : ["--src-creds", credentials]);
            arguments.AddRange([$"docker://{Server.LoginServer}/{reference}", $"oci:{destination}:pulled"]);
            return await ExternalTool.RunAsync("skopeo", arguments, new Dictionary<string, string> { ["NO_PROXY"] = "*", ["HTTPS_PROXY"] = "", ["HTTP_PROXY"] = "" },
                credentials is null ? null : [credentials.Split(':', 2)[1]], TimeSpan.FromMinutes(2));
        }
        finally
        {
            try { Directory.Delete(destination, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>The server's az-setup.txt with the lines a test runs itself left out (the hosts line, the other sign-in, step 5).</summary>
    public string SetupScript(bool managedIdentity) => SetupScriptFor(Server, managedIdentity);

    /// <summary>As <see cref="SetupScript"/>, for any HTTPS server the tests started.</summary>
    public static string SetupScriptFor(HttpsBerthServer server, bool managedIdentity)
    {
        var lines = File.ReadAllLines(Path.Combine(server.DataDirectory, "management", "az-setup.txt"));
        var kept = new List<string>();
        foreach (var line in lines)
        {
            if (line.StartsWith('#') || line.Contains("/etc/hosts") || line.StartsWith("az acr ")) continue;
            if (line.StartsWith("az login --service-principal") && managedIdentity) continue;
            if (line.StartsWith("az login --identity") && !managedIdentity) continue;
            kept.Add(line);
        }
        return string.Join('\n', kept) + "\n";
    }
}
