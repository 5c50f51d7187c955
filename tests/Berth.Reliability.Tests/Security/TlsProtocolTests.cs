using System.Diagnostics;
using Berth.Reliability.Tests.Infrastructure;

namespace Berth.Reliability.Tests.Security;

/// <summary>
/// Berth as its own process, serving https with its local CA, under an OpenSSL configuration that allows everything
/// down to TLS 1.0 at security level 0. Debian's own policy already refuses TLS 1.0 and 1.1, so a test under it would
/// pass with or without Berth's setting; under this one only Berth's setting stands between a client and TLS 1.0.
/// The configuration is process-wide in OpenSSL, hence the separate process.
/// </summary>
public sealed class PermissiveOpenSslBerth : IAsyncLifetime
{
    private const string PermissiveConfiguration = """
        openssl_conf = openssl_init

        [openssl_init]
        ssl_conf = ssl_sect

        [ssl_sect]
        system_default = system_default_sect

        [system_default_sect]
        MinProtocol = TLSv1
        CipherString = DEFAULT@SECLEVEL=0
        """;

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "berth-tls-protocols-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary><c>OPENSSL_CONF</c> for the server and for every openssl command of the tests.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["OPENSSL_CONF"] = Path.Combine(Folder, "permissive.cnf") };

    public BerthProcess Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(Folder, "data"));
        await File.WriteAllTextAsync(Path.Combine(Folder, "permissive.cnf"), PermissiveConfiguration + "\n");
        Server = ReliabilityServer.Create(Path.Combine(Folder, "data"), https: true, environment: Environment);
        await Server.StartAsync();
    }

    public Task DisposeAsync()
    {
        Server?.Dispose();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}

public sealed class TlsProtocolTests(PermissiveOpenSslBerth berth) : IClassFixture<PermissiveOpenSslBerth>
{
    [Theory]
    [InlineData("-tls1")]
    [InlineData("-tls1_1")]
    public async Task OldProtocol_RefusedByBerthEvenWhereOpenSslAllowsIt(string protocol)
    {
        var result = await HandshakeAsync(berth.Server.Port, protocol);
        Assert.NotEqual(0, result.ExitCode);
        // The server's own refusal, not a closed port or a client that cannot offer the version.
        Assert.Contains("alert protocol version", result.Output);
        Assert.DoesNotContain("CONNECTION ESTABLISHED", result.Output);
    }

    [Theory]
    [InlineData("-tls1_2", "TLSv1.2")]
    [InlineData("-tls1_3", "TLSv1.3")]
    public async Task CurrentProtocol_Handshakes(string protocol, string negotiated)
    {
        var result = await HandshakeAsync(berth.Server.Port, protocol);
        Assert.True(result.ExitCode == 0, result.Describe());
        AssertNegotiated(result, negotiated);
    }

    /// <summary>
    /// The control: under the same configuration OpenSSL's own test server does speak TLS 1.0 and 1.1, so the refusals
    /// above come from Berth (were this machine's OpenSSL built without them, those tests would prove nothing).
    /// </summary>
    [Fact]
    public async Task PermissiveConfiguration_LetsOpenSslItselfNegotiateTls10And11()
    {
        var key = Path.Combine(berth.Folder, "control.key");
        var certificate = Path.Combine(berth.Folder, "control.crt");
        (await ExternalTool.RunAsync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
            "-keyout", key, "-out", certificate], berth.Environment)).EnsureSuccess();
        var port = LoopbackPort.Free();
        var startInfo = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in new[] { "s_server", "-accept", $"127.0.0.1:{port}", "-cert", certificate, "-key", key, "-www" })
            startInfo.ArgumentList.Add(argument);
        foreach (var (name, value) in berth.Environment) startInfo.Environment[name] = value;
        using var server = Process.Start(startInfo)!;
        try
        {
            // s_server prints ACCEPT once it listens.
            using var startup = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (await server.StandardOutput.ReadLineAsync(startup.Token) is { } line && line != "ACCEPT")
            {
            }
            foreach (var (protocol, negotiated) in new[] { ("-tls1", "TLSv1"), ("-tls1_1", "TLSv1.1") })
            {
                var result = await HandshakeAsync(port, protocol);
                Assert.True(result.ExitCode == 0, result.Describe());
                AssertNegotiated(result, negotiated);
            }
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync();
        }
    }

    private static void AssertNegotiated(ExternalToolResult result, string protocol)
    {
        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Contains("CONNECTION ESTABLISHED", result.Output);
        Assert.Contains($"Protocol version: {protocol}\n", result.Output.ReplaceLineEndings("\n"));
    }

    /// <summary>One handshake offering only <paramref name="protocol"/>; stdin is closed, so s_client leaves right after it.</summary>
    private Task<ExternalToolResult> HandshakeAsync(int port, string protocol) =>
        ExternalTool.RunAsync("openssl", ["s_client", "-brief", "-connect", $"127.0.0.1:{port}", protocol, "-cipher", "DEFAULT@SECLEVEL=0"],
            berth.Environment, timeout: TimeSpan.FromSeconds(20));
}
