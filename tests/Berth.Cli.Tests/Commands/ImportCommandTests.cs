using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Berth.Cli.Tests.Infrastructure;

namespace Berth.Cli.Tests.Commands;

/// <summary><c>berth acr import</c> against a server process: az's flags, its source rules, its silence on success and its errors.</summary>
public sealed class ImportCommandTests(LiveServer server) : IClassFixture<LiveServer>
{
    [Fact]
    public async Task Import_FromARegistryOfTheServer_CopiesByTagAndDigest_HonoursForce_AndWaitsUnlessNoWait()
    {
        var v1 = await server.PushImageAsync("cli/source", "v1");
        var v2 = await server.PushImageAsync("cli/source", "v2");
        var cli = server.Cli("import");

        var imported = await cli.RunAsync("acr", "import", "-n", "myregistry", "-r", "myregistry", "--source", "cli/source:v1", "-t", "cli/copy:v1", "-t", "cli/copy:also");
        Assert.True(imported.ExitCode == 0, $"{imported}\n{server.Output}");
        Assert.Equal("", imported.Out);
        Assert.Equal(v1, await TagDigestAsync("cli/copy", "v1"));
        Assert.Equal(v1, await TagDigestAsync("cli/copy", "also"));

        // NoForce keeps the tag where it is, with ACR's message; --force moves it.
        var conflict = await cli.RunAsync("acr", "import", "-n", "myregistry", "-r", "myregistry", "--source", "cli/source:v2", "-t", "cli/copy:v1");
        Assert.NotEqual(0, conflict.ExitCode);
        Assert.Equal("ERROR: (Conflict) Tag cli/copy:v1 already exists in target registry.", conflict.Error.Trim());
        Assert.Equal(v1, await TagDigestAsync("cli/copy", "v1"));
        var forced = await cli.RunAsync("acr", "import", "-n", "myregistry", "-r", "myregistry", "--source", $"cli/source@{v2}", "-t", "cli/copy:v1", "--force");
        Assert.True(forced.ExitCode == 0, $"{forced}\n{server.Output}");
        Assert.Equal(v2, await TagDigestAsync("cli/copy", "v1"));

        // --repository: manifests only; --no-wait: az's warning, then the import finishes on its own.
        var untagged = await cli.RunAsync("acr", "import", "-n", "myregistry", "-r", "myregistry", "--source", "cli/source:v1", "--repository", "cli/untagged", "--no-wait");
        Assert.True(untagged.ExitCode == 0, $"{untagged}\n{server.Output}");
        Assert.Contains("Import has started. Due to no-wait option, failures will not be reflected.", untagged.Error);
        var status = HttpStatusCode.NotFound;
        for (var attempt = 0; attempt < 100 && (status = await ManifestStatusAsync("cli/untagged", v1)) != HttpStatusCode.OK; attempt++) await Task.Delay(100);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(await TagDigestAsync("cli/untagged", "v1"));
    }

    [Fact]
    public async Task Import_RefusesBadSources_WithOneLineAndNonZeroExit()
    {
        var cli = server.Cli("import-errors");

        var noPassword = await cli.RunAsync("acr", "import", "-n", "myregistry", "--source", "registry.example.test/app:v1", "-u", "someone");
        Assert.NotEqual(0, noPassword.ExitCode);
        Assert.Equal("ERROR: Authentication failed. Please provide password.", noPassword.Error.Trim());

        var noDot = await cli.RunAsync("acr", "import", "-n", "myregistry", "--source", "localhost:5000/app:v1");
        Assert.NotEqual(0, noDot.ExitCode);
        Assert.Equal("ERROR: Login server of the registry is not valid because it is not a fully qualified domain name.", noDot.Error.Trim());

        var unknownRegistry = await cli.RunAsync("acr", "import", "-n", "myregistry", "-r", "nosuchregistry", "--source", "app:v1");
        Assert.NotEqual(0, unknownRegistry.ExitCode);
        Assert.Contains("The source container registry can not be found in the current subscription.", unknownRegistry.Error);

        // The server's own loopback address is not a listed source: refused before anything is sent.
        var loopback = await cli.RunAsync("acr", "import", "-n", "myregistry", "--source", $"{server.Address}/cli/source:v1", "-u", "someone", "-p", "pw-7f3c1e9a");
        Assert.NotEqual(0, loopback.ExitCode);
        Assert.StartsWith("ERROR: (SourceNotAllowed) The import source is refused:", loopback.Error.Trim());
        Assert.Contains("Berth:Import:AllowedSources", loopback.Error);
        Assert.DoesNotContain("pw-7f3c1e9a", loopback.Error + loopback.Out + server.Output);

        var missing = await cli.RunAsync("acr", "import", "-n", "myregistry", "-r", "myregistry", "--source", "cli/nothing:v1", "-t", "cli/nothing:v1");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("(NotFound)", missing.Error);
    }

    private async Task<string?> TagDigestAsync(string repository, string tag)
    {
        using var response = await HeadAsync(repository, tag);
        return response.StatusCode == HttpStatusCode.OK ? response.Headers.GetValues("Docker-Content-Digest").First() : null;
    }

    private async Task<HttpStatusCode> ManifestStatusAsync(string repository, string reference)
    {
        using var response = await HeadAsync(repository, reference);
        return response.StatusCode;
    }

    private async Task<HttpResponseMessage> HeadAsync(string repository, string reference)
    {
        var (user, password) = server.AdminCredentials();
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri($"http://{server.Address}/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var request = new HttpRequestMessage(HttpMethod.Head, $"v2/{repository}/manifests/{reference}");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        return await client.SendAsync(request);
    }
}
