using System.Text.Json.Nodes;
using Berth.Cli.Cli;
using Berth.Cli.Tests.Infrastructure;
using Berth.Testing;

namespace Berth.Cli.Tests.Commands;

/// <summary>
/// The README's path from the plain-HTTP quick start to HTTPS with the local CA, as separate server processes over one
/// data folder: the CLI trusts its own server's CA with no set-up, the default registry's login server follows the
/// HTTPS port, and network failures say their cause in one line.
/// </summary>
public sealed class HttpsServerTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task QuickStartDataServedOverHttps_CliTrustsTheLocalCa_AndLoginServerCarriesThePort()
    {
        var data = Path.Combine(_folder.Path, "data");
        using (var quickStart = new BerthProcess(data) { WorkingDirectory = _folder.Path })
        {
            await quickStart.StartAsync();
            using var admin = quickStart.CreateClient();
            await admin.PushImageAsync("samples/hello", new TestImage(), "1");
        }

        using var https = new BerthProcess(data) { WorkingDirectory = _folder.Path, Https = true, RequiredFiles = [Path.Combine("management", "endpoint.json")] };
        await https.StartAsync();
        var cli = new CliRun(Path.Combine(_folder.Path, "client")).Set("BERTH_DATA", data);

        var show = await cli.RunAsync("acr", "show", "-n", "myregistry", "--query", "loginServer", "-o", "tsv");
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Equal($"myregistry.acr.localhost:{https.Port}", show.Out.Trim());
        var activity = await cli.RunAsync("acr", "repository", "list", "-n", "myregistry", "-o", "tsv");
        Assert.True(activity.ExitCode == 0, activity.ToString());
        Assert.Equal("samples/hello", activity.Out.Trim());
        Assert.Contains($"login server is now myregistry.acr.localhost:{https.Port} (was myregistry.acr.localhost)", https.Output);
        var credentials = JsonNode.Parse(File.ReadAllText(Path.Combine(data, "admin-credentials.json")))!;
        Assert.Equal($"myregistry.acr.localhost:{https.Port}", (string?)credentials["loginServer"]);
        Assert.False(string.IsNullOrEmpty((string?)credentials["password"]));

        // Another data folder: no CA to trust, so the certificate is refused, and the line says why.
        var owner = JsonNode.Parse(File.ReadAllText(Path.Combine(data, "management", "owner.json")))!;
        var stranger = new CliRun(Path.Combine(_folder.Path, "stranger")).Set("BERTH_DATA", Path.Combine(_folder.Path, "stranger", "data"));
        var refused = await stranger.RunAsync("acr", "show", "-n", "myregistry", "--endpoint", https.BaseAddress.ToString(),
            "--client-id", (string)owner["clientId"]!, "--client-secret", (string)owner["clientSecret"]!);
        Assert.Equal(1, refused.ExitCode);
        var line = Assert.Single(refused.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"ERROR: Cannot reach https://{https.Address}: The SSL connection could not be established: ", line);
        Assert.True(line.Contains("The remote certificate is invalid", StringComparison.Ordinal), line);
        Assert.DoesNotContain("inner exception", line);
    }

    [Fact]
    public async Task NoServerListening_SaysConnectionRefused_InOneLine()
    {
        var cli = new CliRun(_folder.Path);
        var port = LoopbackPort.Free();
        var result = await cli.RunAsync("acr", "list", "--endpoint", $"http://127.0.0.1:{port}", "--client-id", "a", "--client-secret", "b");
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"ERROR: Cannot reach http://127.0.0.1:{port}: Connection refused (127.0.0.1:{port})", line.Trim());
    }

    [Fact]
    public void Causes_JoinsEveryInnerMessageOnce()
    {
        var error = new HttpRequestException("The SSL connection could not be established, see inner exception.",
            new System.Security.Authentication.AuthenticationException("The remote certificate is invalid because of errors in the certificate chain: UntrustedRoot"));
        Assert.Equal("The SSL connection could not be established: The remote certificate is invalid because of errors in the certificate chain: UntrustedRoot",
            CliException.Causes(error));
        Assert.Equal("Connection refused (127.0.0.1:1)", CliException.Causes(new HttpRequestException("Connection refused (127.0.0.1:1)", new System.Net.Sockets.SocketException(111))));
    }
}
