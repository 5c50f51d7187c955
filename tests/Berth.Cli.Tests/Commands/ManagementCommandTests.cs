using System.Text.Json.Nodes;
using Berth.Cli.Tests.Infrastructure;

namespace Berth.Cli.Tests.Commands;

/// <summary>Every management command against a server process, found through ./data with no flags.</summary>
public sealed class ManagementCommandTests : IClassFixture<LiveServer>
{
    private readonly LiveServer _server;

    public ManagementCommandTests(LiveServer server) => _server = server;

    private async Task<JsonNode?> JsonAsync(CliRun cli, params string[] args)
    {
        var result = await cli.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"berth {string.Join(' ', args)}\n{result}\n{_server.Output}");
        return JsonNode.Parse(result.Out);
    }

    [Fact]
    public async Task Registry_CreateShowListUpdateUsageDelete()
    {
        var cli = _server.Cli("registry");
        var created = await JsonAsync(cli, "acr", "create", "-n", "lifecycle1", "-g", "berth", "--sku", "Basic");
        Assert.Equal("lifecycle1", (string?)created!["name"]);
        Assert.Equal("Basic", (string?)created["sku"]!["name"]);
        Assert.Equal("berth", (string?)created["resourceGroup"]);
        Assert.False((bool)created["anonymousPullEnabled"]!);

        var shown = await JsonAsync(cli, "acr", "show", "-n", "lifecycle1");
        Assert.Equal((string?)created["loginServer"], (string?)shown!["loginServer"]);

        var names = await JsonAsync(cli, "acr", "list", "--query", "[].name");
        Assert.Contains("lifecycle1", names!.AsArray().Select(n => (string?)n));
        var inGroup = await JsonAsync(cli, "acr", "list", "-g", "BERTH", "--query", "[].name");
        Assert.Contains("lifecycle1", inGroup!.AsArray().Select(n => (string?)n));

        var check = await JsonAsync(cli, "acr", "check-name", "-n", "lifecycle1");
        Assert.False((bool)check!["nameAvailable"]!);
        Assert.Equal("AlreadyExists", (string?)check["reason"]);

        var updated = await JsonAsync(cli, "acr", "update", "-n", "lifecycle1", "--admin-enabled", "--sku", "Standard");
        Assert.True((bool)updated!["adminUserEnabled"]!);
        Assert.Equal("Standard", (string?)updated["sku"]!["name"]);

        var usage = await JsonAsync(cli, "acr", "show-usage", "-n", "lifecycle1");
        Assert.Contains("Size", usage!["value"]!.AsArray().Select(u => (string?)u!["name"]));

        // Newest first: the tier changed above, then anonymous pull is switched on.
        Assert.Equal(0, (await cli.RunAsync("acr", "update", "-n", "lifecycle1", "--anonymous-pull-enabled")).ExitCode);
        var log = (await JsonAsync(cli, "acr", "activity-log", "-n", "lifecycle1", "--top", "2"))!.AsArray();
        Assert.Equal([("anonymousPullEnabled", "false", "true"), ("sku", "Basic", "Standard")],
            log.Select(e => ((string?)e!["setting"], (string?)e["oldValue"], (string?)e["newValue"])));
        var table = await cli.RunAsync("acr", "activity-log", "-n", "lifecycle1", "-o", "table");
        Assert.Equal(0, table.ExitCode);
        Assert.StartsWith("TIMESTAMP", table.Out.TrimStart());
        var badTop = await cli.RunAsync("acr", "activity-log", "-n", "lifecycle1", "--top", "0");
        Assert.NotEqual(0, badTop.ExitCode);
        Assert.Contains("$top", badTop.Error);

        var credentials = await JsonAsync(cli, "acr", "credential", "show", "-n", "lifecycle1");
        Assert.Equal(["password", "password2"], credentials!["passwords"]!.AsArray().Select(p => (string?)p!["name"]));
        var before = (string?)credentials["passwords"]![1]!["value"];
        var renewed = await JsonAsync(cli, "acr", "credential", "renew", "-n", "lifecycle1", "--password-name", "password2");
        Assert.NotEqual(before, (string?)renewed!["passwords"]![1]!["value"]);
        Assert.Equal((string?)credentials["passwords"]![0]!["value"], (string?)renewed["passwords"]![0]!["value"]);

        var deleted = await cli.RunAsync("acr", "delete", "-n", "lifecycle1", "--yes");
        Assert.Equal(0, deleted.ExitCode);
        Assert.Equal("", deleted.Out);
        var gone = await cli.RunAsync("acr", "show", "-n", "lifecycle1");
        Assert.Equal(3, gone.ExitCode);
        Assert.StartsWith("ERROR: (ResourceNotFound)", gone.Error);
    }

    [Fact]
    public async Task Registry_AnonymousPullOnBasic_IsRefusedWithTheArmError()
    {
        var cli = _server.Cli("basic");
        await JsonAsync(cli, "acr", "create", "-n", "basicreg1", "-g", "berth", "--sku", "Basic");
        var result = await cli.RunAsync("acr", "update", "-n", "basicreg1", "--anonymous-pull-enabled");
        Assert.Equal(1, result.ExitCode);
        Assert.Matches(@"^ERROR: \(\w+\) .+\n$", result.Error);
        Assert.Equal("false\n", (await cli.RunAsync("acr", "show", "-n", "basicreg1", "--query", "anonymousPullEnabled")).Out);
    }

    [Fact]
    public async Task Registry_InvalidName_IsTheServersError()
    {
        var result = await _server.Cli("invalid").RunAsync("acr", "create", "-n", "a-b", "-g", "berth", "--sku", "Standard");
        Assert.NotEqual(0, result.ExitCode);
        Assert.StartsWith("ERROR: (", result.Error);
    }

    [Fact]
    public async Task ScopeMapsAndTokens_FullCycle()
    {
        var cli = _server.Cli("tokens");
        var map = await JsonAsync(cli, "acr", "scope-map", "create", "-n", "cyclemap", "-r", "myregistry",
            "--repository", "hello", "content/read", "content/write", "--description", "cycle");
        Assert.Equal("UserDefined", (string?)map!["scopeMapType"]);
        Assert.Equal(2, map["actions"]!.AsArray().Count);

        var updatedMap = await JsonAsync(cli, "acr", "scope-map", "update", "-n", "cyclemap", "-r", "myregistry",
            "--add-repository", "other", "metadata/read", "--remove-repository", "hello", "content/write");
        Assert.Equal(["repositories/hello/content/read", "repositories/other/metadata/read"], updatedMap!["actions"]!.AsArray().Select(a => (string?)a));

        var maps = await JsonAsync(cli, "acr", "scope-map", "list", "-r", "myregistry", "--query", "[].name");
        Assert.Contains("_repositories_pull", maps!.AsArray().Select(m => (string?)m));
        Assert.Contains("cyclemap", maps.AsArray().Select(m => (string?)m));
        Assert.Equal("cycle", (string?)(await JsonAsync(cli, "acr", "scope-map", "show", "-n", "cyclemap", "-r", "myregistry"))!["description"]);

        var system = await cli.RunAsync("acr", "scope-map", "delete", "-n", "_repositories_pull", "-r", "myregistry", "--yes");
        Assert.Equal(1, system.ExitCode);
        Assert.StartsWith("ERROR: (", system.Error);

        var token = await JsonAsync(cli, "acr", "token", "create", "-n", "cycletoken", "-r", "myregistry", "--scope-map", "cyclemap");
        Assert.Equal("cycletoken", (string?)token!["credentials"]!["username"]);
        Assert.Equal(2, token["credentials"]!["passwords"]!.AsArray().Count(p => ((string?)p!["value"])?.Length > 0));
        Assert.EndsWith("/scopeMaps/cyclemap", (string?)token["scopeMapId"]);

        var viaRepository = await JsonAsync(cli, "acr", "token", "create", "-n", "repotoken", "-r", "myregistry", "--repository", "alpine", "content/read", "--no-passwords");
        Assert.EndsWith("/scopeMaps/repotoken-scope-map", (string?)viaRepository!["scopeMapId"]);

        var generated = await cli.RunAsync("acr", "token", "credential", "generate", "-n", "cycletoken", "-r", "myregistry", "--password1", "--expiration-in-days", "2", "--query", "passwords[0].value", "-o", "tsv");
        Assert.Equal(0, generated.ExitCode);
        Assert.True(generated.Out.Trim().Length >= 20, generated.ToString());

        var afterDelete = await JsonAsync(cli, "acr", "token", "credential", "delete", "-n", "cycletoken", "-r", "myregistry", "--password2");
        Assert.Equal(["password1"], afterDelete!["credentials"]!["passwords"]!.AsArray().Select(p => (string?)p!["name"]));

        Assert.Equal("disabled", (string?)(await JsonAsync(cli, "acr", "token", "update", "-n", "cycletoken", "-r", "myregistry", "--status", "disabled"))!["status"]);
        Assert.Equal("disabled", (string?)(await JsonAsync(cli, "acr", "token", "show", "-n", "cycletoken", "-r", "myregistry"))!["status"]);
        var tokens = await JsonAsync(cli, "acr", "token", "list", "-r", "myregistry", "--query", "[].name");
        Assert.Contains("cycletoken", tokens!.AsArray().Select(t => (string?)t));

        Assert.Equal(0, (await cli.RunAsync("acr", "token", "delete", "-n", "cycletoken", "-r", "myregistry", "--yes")).ExitCode);
        Assert.Equal(0, (await cli.RunAsync("acr", "token", "delete", "-n", "repotoken", "-r", "myregistry", "--yes")).ExitCode);
        Assert.Equal(3, (await cli.RunAsync("acr", "token", "show", "-n", "cycletoken", "-r", "myregistry")).ExitCode);
        Assert.Equal(0, (await cli.RunAsync("acr", "scope-map", "delete", "-n", "cyclemap", "-r", "myregistry", "--yes")).ExitCode);
    }

    [Fact]
    public async Task RemoteStyle_EndpointAndClientCredentialsFromEnvironment()
    {
        var owner = JsonNode.Parse(File.ReadAllText(Path.Combine(_server.DataDirectory, "management", "owner.json")))!;
        var cli = new CliRun(Path.Combine(_server.Folder.Path, "clients")); // no ./data here
        cli.Set("BERTH_CLIENT_ID", (string?)owner["clientId"]).Set("BERTH_CLIENT_SECRET", (string?)owner["clientSecret"]);
        var result = await cli.RunAsync("acr", "show", "-n", "myregistry", "--endpoint", $"http://{_server.Address}", "--query", "name", "-o", "tsv");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("myregistry\n", result.Out);

        cli.Set("BERTH_CLIENT_SECRET", "wrong");
        var refused = await cli.RunAsync("acr", "show", "-n", "myregistry", "--endpoint", $"http://{_server.Address}");
        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith("ERROR: ", refused.Error);
    }
}
