using System.Text.Json.Nodes;
using Berth.Cli.Tests.Infrastructure;

namespace Berth.Cli.Tests.Commands;

/// <summary><c>berth acr cache ...</c> and <c>berth acr credential-set ...</c> against a server process.</summary>
public sealed class CacheCommandTests(LiveServer server) : IClassFixture<LiveServer>
{
    private async Task<JsonNode?> JsonAsync(CliRun cli, params string[] args)
    {
        var result = await cli.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"berth {string.Join(' ', args)}\n{result}\n{server.Output}");
        return JsonNode.Parse(result.Out);
    }

    [Fact]
    public async Task CredentialSet_CreateShowUpdateListDelete_NeverPrintsTheSecrets()
    {
        var cli = server.Cli("credential-set");
        var created = await cli.RunAsync("acr", "credential-set", "create", "-r", "myregistry", "-n", "hub-login", "-l", "docker.io", "-u", "hubuser", "-p", "hub-secret-9");
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.DoesNotContain("hub-secret-9", created.Out);
        var set = JsonNode.Parse(created.Out)!;
        Assert.Equal("docker.io", (string?)set["loginServer"]);
        Assert.Equal("SystemAssigned", (string?)set["identity"]!["type"]);
        Assert.Equal("myregistry", ((string?)set["id"])!.Split('/')[8]);

        var shown = await cli.RunAsync("acr", "credential-set", "show", "-r", "myregistry", "-n", "hub-login");
        Assert.DoesNotContain("hubuser", shown.Out);
        Assert.DoesNotContain("hub-secret-9", shown.Out);

        var updated = await JsonAsync(cli, "acr", "credential-set", "update", "-r", "myregistry", "-n", "hub-login", "-p", "new-secret-1");
        Assert.Equal("Healthy", (string?)updated!["authCredentials"]![0]!["credentialHealth"]!["status"]);
        var noChange = await cli.RunAsync("acr", "credential-set", "update", "-r", "myregistry", "-n", "hub-login");
        Assert.NotEqual(0, noChange.ExitCode);
        Assert.Contains("--username, --password", noChange.Error);

        var names = await JsonAsync(cli, "acr", "credential-set", "list", "-r", "myregistry", "--query", "[].name");
        Assert.Contains("hub-login", names!.AsArray().Select(n => (string?)n));
        var table = await cli.RunAsync("acr", "credential-set", "list", "-r", "myregistry", "-o", "table");
        Assert.StartsWith("NAME", table.Out.TrimStart());

        Assert.Equal(0, (await cli.RunAsync("acr", "credential-set", "delete", "-r", "myregistry", "-n", "hub-login", "--yes")).ExitCode);
        var gone = await cli.RunAsync("acr", "credential-set", "show", "-r", "myregistry", "-n", "hub-login");
        Assert.NotEqual(0, gone.ExitCode);
    }

    [Fact]
    public async Task Cache_CreateShowUpdateListDelete_AndAnOverlappingWildcardIsOneClearError()
    {
        var cli = server.Cli("cache");
        await JsonAsync(cli, "acr", "credential-set", "create", "-r", "myregistry", "-n", "quay-login", "-l", "quay.io", "-u", "u", "-p", "p");

        var rule = await JsonAsync(cli, "acr", "cache", "create", "-r", "myregistry", "-n", "quay-rule", "-s", "quay.io/prometheus/*", "-t", "prometheus/*", "-c", "quay-login");
        Assert.Equal("quay.io/prometheus/*", (string?)rule!["sourceRepository"]);
        Assert.Equal("prometheus/*", (string?)rule["targetRepository"]);
        Assert.EndsWith("/credentialSets/quay-login", (string?)rule["credentialSetResourceId"]);
        Assert.Equal("Succeeded", (string?)rule["provisioningState"]);

        var removed = await JsonAsync(cli, "acr", "cache", "update", "-r", "myregistry", "-n", "quay-rule", "--remove-cred-set");
        Assert.Null(removed!["credentialSetResourceId"]);
        var both = await cli.RunAsync("acr", "cache", "update", "-r", "myregistry", "-n", "quay-rule", "-c", "quay-login", "--remove-cred-set");
        Assert.NotEqual(0, both.ExitCode);

        var overlap = await cli.RunAsync("acr", "cache", "create", "-r", "myregistry", "-n", "overlap-rule", "-s", "quay.io/*", "-t", "prometheus/node/*");
        Assert.NotEqual(0, overlap.ExitCode);
        Assert.Single(overlap.Error.Trim().Split('\n'));
        Assert.Contains("overlaps", overlap.Error);

        var shown = await JsonAsync(cli, "acr", "cache", "show", "-r", "myregistry", "-n", "quay-rule", "--query", "targetRepository");
        Assert.Equal("prometheus/*", (string?)shown);
        var table = await cli.RunAsync("acr", "cache", "list", "-r", "myregistry", "-o", "table");
        Assert.Contains("quay-rule", table.Out);
        Assert.StartsWith("NAME", table.Out.TrimStart());

        Assert.Equal(0, (await cli.RunAsync("acr", "cache", "delete", "-r", "myregistry", "-n", "quay-rule", "--yes")).ExitCode);
        var names = await JsonAsync(cli, "acr", "cache", "list", "-r", "myregistry", "--query", "[].name");
        Assert.DoesNotContain("quay-rule", names!.AsArray().Select(n => (string?)n));
    }
}
