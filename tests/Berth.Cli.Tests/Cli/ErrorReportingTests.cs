using System.Net;
using Berth.Cli.Tests.Infrastructure;

namespace Berth.Cli.Tests.Cli;

public sealed class ErrorReportingTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private CliRun Cli(Func<HttpRequestMessage, HttpResponseMessage?> arm)
    {
        StubHandler.WriteDataFolder(Path.Combine(_folder.Path, "data"));
        return new CliRun(_folder.Path) { Handler = () => new StubHandler(StubHandler.Arm(arm)) };
    }

    [Fact]
    public async Task NoServer_OneLineNamingTheFix()
    {
        var result = await new CliRun(_folder.Path).RunAsync("acr", "show", "-n", "myregistry");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Out);
        var line = Assert.Single(result.Error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("ERROR: No Berth server found", line);
        Assert.Contains("berth serve", line);
    }

    [Fact]
    public async Task DataFolder_FromBerthDataVariable()
    {
        StubHandler.WriteDataFolder(Path.Combine(_folder.Path, "elsewhere"));
        var cli = new CliRun(Path.Combine(_folder.Path, "home")) { Handler = () => new StubHandler(StubHandler.Arm(_ => null)) };
        cli.Set("BERTH_DATA", Path.Combine(_folder.Path, "elsewhere"));
        var result = await cli.RunAsync("acr", "list", "--query", "length(@)");
        Assert.Equal(3, result.ExitCode); // the stub has no registries list: its ARM 404 proves the server was found
        Assert.Contains("(NotFound)", result.Error);
    }

    [Fact]
    public async Task ArmError_PrintsCodeAndMessage()
    {
        var cli = Cli(r => r.Method == HttpMethod.Patch
            ? StubHandler.Json(HttpStatusCode.BadRequest, """{"error":{"code":"AnonymousPullNotSupported","message":"Anonymous pull is not supported\nfor the Basic SKU."}}""")
            : StubHandler.Json(HttpStatusCode.OK, """{"id":"/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/myregistry","name":"myregistry","properties":{}}"""));
        var result = await cli.RunAsync("acr", "update", "-n", "myregistry", "--anonymous-pull-enabled");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("ERROR: (AnonymousPullNotSupported) Anonymous pull is not supported for the Basic SKU.\n", result.Error);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task UnknownRegistry_ExitsWithThree()
    {
        var result = await Cli(_ => null).RunAsync("acr", "show", "-n", "nosuchregistry");
        Assert.Equal(3, result.ExitCode);
        Assert.StartsWith("ERROR: (ResourceNotFound) The resource with name 'nosuchregistry'", result.Error);
    }

    [Fact]
    public async Task ServerWarningHeaders_ArePrintedAsWarnings()
    {
        var cli = Cli(r =>
        {
            var response = StubHandler.Json(HttpStatusCode.OK, """{"id":"/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/myregistry","name":"myregistry","properties":{"anonymousPullEnabled":true}}""");
            if (r.Method == HttpMethod.Patch)
            {
                response.Headers.TryAddWithoutValidation("x-ms-berth-warning", "Tokens no longer restrict pulls.");
                response.Headers.TryAddWithoutValidation("x-ms-berth-warning-2", "Second.");
            }
            return response;
        });
        var result = await cli.RunAsync("acr", "update", "-n", "myregistry", "--anonymous-pull-enabled", "--query", "anonymousPullEnabled");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("true\n", result.Out);
        Assert.Contains("WARNING: Tokens no longer restrict pulls.\n", result.Error);
        Assert.Contains("WARNING: Second.\n", result.Error);
    }

    [Fact]
    public async Task Debug_ShowsRequestsButNoSecrets()
    {
        var cli = Cli(_ => StubHandler.Json(HttpStatusCode.OK, """{"id":"/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/myregistry","name":"myregistry","properties":{}}"""));
        var result = await cli.RunAsync("acr", "show", "-n", "myregistry", "--debug", "-o", "none");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("DEBUG: Request: GET http://127.0.0.1:1/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/myregistry", result.Error);
        Assert.Contains("client_secret=***", result.Error);
        Assert.DoesNotContain("s3cret", result.Error);
        Assert.DoesNotContain("Bearer mgmt", result.Error);
    }

    [Fact]
    public async Task CredentialShow_RefusesWhenAdminIsOff()
    {
        var cli = Cli(_ => StubHandler.Json(HttpStatusCode.OK, """{"id":"/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/myregistry","name":"myregistry","properties":{"adminUserEnabled":false}}"""));
        var result = await cli.RunAsync("acr", "credential", "show", "-n", "myregistry");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("ERROR: Run 'berth acr update -n myregistry --admin-enabled true' to enable admin first.\n", result.Error);
    }
}
