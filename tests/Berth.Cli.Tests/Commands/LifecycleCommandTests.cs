using System.Text.Json.Nodes;
using Berth.Cli.Tests.Infrastructure;

namespace Berth.Cli.Tests.Commands;

/// <summary>
/// <c>berth acr manifest ...</c>, <c>acr config retention|soft-delete</c> and <c>acr repository list-deleted</c> against a
/// live server: the same commands and options as az, each effect checked with the next command.
/// </summary>
public sealed class LifecycleCommandTests(LiveServer server) : IClassFixture<LiveServer>
{
    private static async Task<string> OkAsync(CliRun cli, params string[] args)
    {
        var result = await cli.RunAsync(args);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Out.Trim();
    }

    [Fact]
    public async Task ManifestCommands_ShowListUpdateAndDelete()
    {
        var cli = server.Cli("manifest");
        var digest = await server.PushImageAsync("team/app", "v1");

        Assert.Equal(digest, await OkAsync(cli, "acr", "manifest", "show-metadata", "-r", "myregistry", "-n", "team/app:v1", "--query", "digest", "-o", "tsv"));
        var metadata = JsonNode.Parse(await OkAsync(cli, "acr", "manifest", "list-metadata", "-r", "myregistry", "-n", "team/app"))!.AsArray();
        Assert.Equal("v1", (string)Assert.Single(metadata)!["tags"]![0]!);
        Assert.Equal("false", await OkAsync(cli, "acr", "manifest", "update-metadata", "-r", "myregistry", "-n", $"team/app@{digest}", "--write-enabled", "false",
            "--query", "changeableAttributes.writeEnabled", "-o", "tsv"));
        var locked = await cli.RunAsync("acr", "manifest", "delete", "-r", "myregistry", "-n", "team/app:v1", "--yes");
        Assert.NotEqual(0, locked.ExitCode);
        await OkAsync(cli, "acr", "manifest", "update-metadata", "-r", "myregistry", "-n", $"team/app@{digest}", "--write-enabled", "true");

        Assert.Equal("2", await OkAsync(cli, "acr", "manifest", "show", "-r", "myregistry", "-n", "team/app:v1", "--query", "schemaVersion", "-o", "tsv"));
        Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes((await cli.RunAsync("acr", "manifest", "show", "-r", "myregistry", "-n", $"team/app@{digest}", "--raw")).Out))));
        Assert.Single(JsonNode.Parse(await OkAsync(cli, "acr", "manifest", "list", "-r", "myregistry", "-n", "team/app"))!.AsArray());
        Assert.Empty(JsonNode.Parse(await OkAsync(cli, "acr", "manifest", "list-referrers", "-r", "myregistry", "-n", "team/app:v1"))!["manifests"]!.AsArray());

        await OkAsync(cli, "acr", "manifest", "delete", "-r", "myregistry", "-n", "team/app:v1", "--yes");
        Assert.NotEqual(0, (await cli.RunAsync("acr", "manifest", "show", "-r", "myregistry", "-n", $"team/app@{digest}")).ExitCode);
    }

    [Fact]
    public async Task Config_SoftDelete_Then_ListDeletedAndRestore_Then_Retention()
    {
        var cli = server.Cli("lifecycle");
        Assert.Equal("enabled", await OkAsync(cli, "acr", "config", "soft-delete", "update", "-r", "myregistry", "--status", "enabled", "--days", "2", "--yes", "--query", "status", "-o", "tsv"));
        Assert.Equal("2", await OkAsync(cli, "acr", "config", "soft-delete", "show", "-r", "myregistry", "--query", "retentionDays", "-o", "tsv"));
        var outOfRange = await cli.RunAsync("acr", "config", "soft-delete", "update", "-r", "myregistry", "--days", "91", "--yes");
        Assert.NotEqual(0, outOfRange.ExitCode);
        Assert.Contains("1 to 90", outOfRange.Error);

        var digest = await server.PushImageAsync("soft/app", "v1");
        await OkAsync(cli, "acr", "manifest", "delete", "-r", "myregistry", "-n", "soft/app:v1", "--yes");
        Assert.Equal(digest, await OkAsync(cli, "acr", "manifest", "list-deleted", "-r", "myregistry", "-n", "soft/app", "--query", "[0].digest", "-o", "tsv"));
        var tags = JsonNode.Parse(await OkAsync(cli, "acr", "manifest", "list-deleted-tags", "-r", "myregistry", "-n", "soft/app:v1"))!.AsArray();
        Assert.Equal(digest, (string)Assert.Single(tags)!["digest"]!);
        Assert.NotNull(tags[0]!["expiresAfter"]);
        Assert.Contains("soft/app", await OkAsync(cli, "acr", "repository", "list-deleted", "-n", "myregistry", "-o", "tsv"));
        Assert.Equal(digest, await OkAsync(cli, "acr", "manifest", "restore", "-r", "myregistry", "-n", "soft/app:v1", "--query", "digest", "-o", "tsv"));
        Assert.Equal(digest, await OkAsync(cli, "acr", "manifest", "show-metadata", "-r", "myregistry", "-n", "soft/app:v1", "--query", "digest", "-o", "tsv"));

        // Retention: Premium only, and never beside soft delete.
        var standard = await cli.RunAsync("acr", "config", "retention", "update", "-r", "myregistry", "--status", "enabled", "--type", "UntaggedManifests");
        Assert.NotEqual(0, standard.ExitCode);
        await OkAsync(cli, "acr", "update", "-n", "myregistry", "--sku", "Premium");
        var conflict = await cli.RunAsync("acr", "config", "retention", "update", "-r", "myregistry", "--status", "enabled", "--type", "UntaggedManifests");
        Assert.Contains("cannot both be enabled", conflict.Error);
        await OkAsync(cli, "acr", "config", "soft-delete", "update", "-r", "myregistry", "--status", "disabled");
        Assert.Equal("enabled", await OkAsync(cli, "acr", "config", "retention", "update", "-r", "myregistry", "--status", "enabled", "--days", "3",
            "--type", "UntaggedManifests", "--query", "status", "-o", "tsv"));
        Assert.Equal("3", await OkAsync(cli, "acr", "config", "retention", "show", "-r", "myregistry", "--query", "days", "-o", "tsv"));
    }
}
