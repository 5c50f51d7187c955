using System.Text.Json.Nodes;
using Berth.Cli.Tests.Infrastructure;
using Berth.Testing;

namespace Berth.Cli.Tests.Commands;

/// <summary>A server process whose webhooks may call a receiver on loopback.</summary>
public sealed class WebhookLiveServer : LiveServer
{
    public WebhookReceiver Receiver { get; private set; } = null!;

    protected override IEnumerable<string> ExtraArguments =>
        ["--Berth:Webhooks:AllowedDestinations:0=" + Receiver.Destination, "--Berth:Webhooks:PollInterval=00:00:00.05"];

    public override async Task InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}

/// <summary><c>berth acr webhook ...</c>: az's commands, options and output against a server process.</summary>
public sealed class WebhookCommandTests(WebhookLiveServer server) : IClassFixture<WebhookLiveServer>
{
    private async Task<JsonNode?> JsonAsync(CliRun cli, params string[] args)
    {
        var result = await cli.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"berth {string.Join(' ', args)}\n{result}\n{server.Output}");
        return JsonNode.Parse(result.Out);
    }

    [Fact]
    public async Task Webhook_CreateListShowUpdateGetConfigPingListEventsDelete()
    {
        var cli = server.Cli("webhooks");
        var registry = (string)JsonNode.Parse(File.ReadAllText(Path.Combine(server.DataDirectory, "admin-credentials.json")))!["registry"]!;
        var uri = server.Receiver.Url("/cli");

        var created = await JsonAsync(cli, "acr", "webhook", "create", "-n", "clihook", "-r", registry, "--uri", uri, "--actions", "push", "delete",
            "--headers", "X-Key=k1", "--scope", "cli/*:*", "--tags", "env=test");
        Assert.Equal("clihook", (string?)created!["name"]);
        Assert.Equal(["push", "delete"], created["actions"]!.AsArray().Select(a => (string?)a));
        Assert.Equal("cli/*:*", (string?)created["scope"]);
        Assert.Equal("enabled", (string?)created["status"]);
        Assert.Equal("test", (string?)created["tags"]!["env"]);
        Assert.NotNull((string?)created["location"]);
        Assert.NotNull((string?)created["resourceGroup"]);
        Assert.DoesNotContain("k1", created.ToJsonString());
        Assert.DoesNotContain(server.Receiver.Destination, created.ToJsonString());

        Assert.Equal(["clihook"], (await JsonAsync(cli, "acr", "webhook", "list", "-r", registry, "--query", "[].name"))!.AsArray().Select(n => (string?)n));
        Assert.Equal("cli/*:*", (string?)(await JsonAsync(cli, "acr", "webhook", "show", "-n", "clihook", "-r", registry))!["scope"]);
        var table = await cli.RunAsync("acr", "webhook", "list", "-r", registry, "-o", "table");
        Assert.StartsWith("NAME", table.Out.TrimStart());

        var updated = await JsonAsync(cli, "acr", "webhook", "update", "-n", "clihook", "-r", registry, "--status", "disabled");
        Assert.Equal("disabled", (string?)updated!["status"]);
        Assert.Equal("cli/*:*", (string?)updated["scope"]);
        await JsonAsync(cli, "acr", "webhook", "update", "-n", "clihook", "-r", registry, "--status", "enabled", "--headers", "X-Key=k2");

        var config = await JsonAsync(cli, "acr", "webhook", "get-config", "-n", "clihook", "-r", registry);
        Assert.Equal(uri, (string?)config!["serviceUri"]);
        Assert.Equal("k2", (string?)config["customHeaders"]!["X-Key"]);

        var pingId = (string?)(await JsonAsync(cli, "acr", "webhook", "ping", "-n", "clihook", "-r", registry))!["id"];
        var ping = await server.Receiver.WaitForAsync(r => r.Path == "/cli" && r.Body["id"]?.GetValue<string>() == pingId);
        Assert.Equal("k2", ping.Headers["X-Key"]);

        var digest = await server.PushImageAsync("cli/app", "v1");
        var push = await server.Receiver.WaitForAsync(r => r.Path == "/cli" && r.Body["action"]?.GetValue<string>() == "push");
        Assert.Equal(digest, push.Body["target"]!["digest"]!.GetValue<string>());

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        JsonArray events;
        while ((events = (await JsonAsync(cli, "acr", "webhook", "list-events", "-n", "clihook", "-r", registry))!.AsArray()).Count < 2 && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Contains(events, e => (string?)e!["id"] == pingId && (string?)e["eventResponseMessage"]!["statusCode"] == "200");
        var eventTable = await cli.RunAsync("acr", "webhook", "list-events", "-n", "clihook", "-r", registry, "-o", "table");
        Assert.Contains("cli/app:v1", eventTable.Out);
        Assert.Contains("200 OK", eventTable.Out);

        // Clearing the headers with az's {}.
        await JsonAsync(cli, "acr", "webhook", "update", "-n", "clihook", "-r", registry, "--headers", "{}");
        Assert.Empty((await JsonAsync(cli, "acr", "webhook", "get-config", "-n", "clihook", "-r", registry))!["customHeaders"]!.AsObject());

        Assert.Equal(0, (await cli.RunAsync("acr", "webhook", "delete", "-n", "clihook", "-r", registry)).ExitCode);
        Assert.Empty((await JsonAsync(cli, "acr", "webhook", "list", "-r", registry))!.AsArray());
    }

    [Fact]
    public async Task Webhook_BadInput_OneClearLineAndNonZeroExit()
    {
        var cli = server.Cli("webhook-errors");
        var registry = (string)JsonNode.Parse(File.ReadAllText(Path.Combine(server.DataDirectory, "admin-credentials.json")))!["registry"]!;

        var badAction = await cli.RunAsync("acr", "webhook", "create", "-n", "badaction", "-r", registry, "--uri", server.Receiver.Url(), "--actions", "fly");
        Assert.NotEqual(0, badAction.ExitCode);
        Assert.Contains("invalid choice: 'fly'", badAction.Error);

        var refused = await cli.RunAsync("acr", "webhook", "create", "-n", "refusedhook", "-r", registry, "--uri", "http://10.0.0.1/x", "--actions", "push");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Berth:Webhooks:AllowedDestinations", refused.Error);
        Assert.Single(refused.Error.Trim().Split('\n'));

        var missing = await cli.RunAsync("acr", "webhook", "show", "-n", "nosuchhook", "-r", registry);
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("nosuchhook", missing.Error);
    }
}
