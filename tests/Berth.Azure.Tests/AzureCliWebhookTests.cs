using System.Text.Json;
using Berth.Azure.Tests.Infrastructure;
using Berth.Testing;

namespace Berth.Azure.Tests;

/// <summary>
/// Every <c>az acr webhook</c> command of the unmodified Azure CLI 2.45 against Berth over HTTPS, with each effect
/// checked where it lands: the receiver on loopback gets the ping and the push event with the right digest and tag.
/// </summary>
public sealed class AzureCliWebhookTests(AzureFixture fixture) : IClassFixture<AzureFixture>
{
    private HttpsBerthServer Server => fixture.Server;

    [Fact]
    public async Task Webhook_commands_work_unchanged_and_the_receiver_gets_the_events()
    {
        using var az = new AzureCli(Server, fixture.Proxy);
        var setup = await az.RunScriptAsync(fixture.SetupScript(managedIdentity: false));
        Assert.True(setup.ExitCode == 0, setup.Describe());
        var uri = fixture.Receiver.Url("/az");

        // create: the answer shows no secret.
        using (var created = JsonDocument.Parse(await az.OkAsync("acr", "webhook", "create", "-n", "azhook", "-r", "myregistry", "--uri", uri,
            "--actions", "push", "delete", "--headers", "X-Key=secret1", "--scope", "samples/hello:*", "-o", "json")))
        {
            var root = created.RootElement;
            Assert.Equal("azhook", root.GetProperty("name").GetString());
            Assert.Equal("samples/hello:*", root.GetProperty("scope").GetString());
            Assert.Equal("enabled", root.GetProperty("status").GetString());
            Assert.Equal(["push", "delete"], root.GetProperty("actions").EnumerateArray().Select(a => a.GetString()));
            Assert.DoesNotContain("secret1", root.GetRawText());
            Assert.True(!root.TryGetProperty("serviceUri", out var shownUri) || shownUri.ValueKind == JsonValueKind.Null);
        }
        Assert.Equal("azhook", await az.OkAsync("acr", "webhook", "list", "-r", "myregistry", "--query", "[].name", "-o", "tsv"));
        Assert.Equal("samples/hello:*", await az.OkAsync("acr", "webhook", "show", "-n", "azhook", "-r", "myregistry", "--query", "scope", "-o", "tsv"));

        // update sends only what it is given.
        Assert.Equal("disabled", await az.OkAsync("acr", "webhook", "update", "-n", "azhook", "-r", "myregistry", "--status", "disabled", "--query", "status", "-o", "tsv"));
        Assert.Equal("samples/hello:*", await az.OkAsync("acr", "webhook", "show", "-n", "azhook", "-r", "myregistry", "--query", "scope", "-o", "tsv"));
        await az.OkAsync("acr", "webhook", "update", "-n", "azhook", "-r", "myregistry", "--status", "enabled", "--headers", "X-Key=secret2", "-o", "none");

        // get-config: the only place the callback comes back.
        using (var config = JsonDocument.Parse(await az.OkAsync("acr", "webhook", "get-config", "-n", "azhook", "-r", "myregistry", "-o", "json")))
        {
            Assert.Equal(uri, config.RootElement.GetProperty("serviceUri").GetString());
            Assert.Equal("secret2", config.RootElement.GetProperty("customHeaders").GetProperty("X-Key").GetString());
        }

        // ping: the receiver gets the ping event with the id az printed.
        var pingId = await az.OkAsync("acr", "webhook", "ping", "-n", "azhook", "-r", "myregistry", "--query", "id", "-o", "tsv");
        var ping = await fixture.Receiver.WaitForAsync(r => r.Path == "/az" && r.Body["id"]?.GetValue<string>() == pingId);
        Assert.Equal("ping", ping.Body["action"]!.GetValue<string>());
        Assert.Equal("secret2", ping.Headers["X-Key"]);

        // A push in scope: the receiver gets ACR's push event with the digest and tag.
        using (var admin = Server.CreateAdminClient())
            await admin.PushManifestAsync(AzureFixture.Repository, "hooked", fixture.Image.Manifest);
        var push = await fixture.Receiver.WaitForAsync(r => r.Path == "/az" && r.Body["action"]?.GetValue<string>() == "push");
        Assert.Equal(fixture.Image.ManifestDigest, push.Body["target"]!["digest"]!.GetValue<string>());
        Assert.Equal("hooked", push.Body["target"]!["tag"]!.GetValue<string>());
        Assert.Equal(AzureFixture.Repository, push.Body["target"]!["repository"]!.GetValue<string>());

        // list-events: the ping and the push, with the receiver's answers.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        JsonDocument events;
        while (true)
        {
            events = JsonDocument.Parse(await az.OkAsync("acr", "webhook", "list-events", "-n", "azhook", "-r", "myregistry", "-o", "json"));
            if (events.RootElement.GetArrayLength() >= 2 || DateTime.UtcNow > deadline) break;
            events.Dispose();
            await Task.Delay(200);
        }
        using (events)
        {
            var listed = events.RootElement.EnumerateArray().ToList();
            Assert.Contains(listed, e => e.GetProperty("id").GetString() == pingId
                && e.GetProperty("eventResponseMessage").GetProperty("statusCode").GetString() == "200");
            Assert.Contains(listed, e => e.GetProperty("eventRequestMessage").GetProperty("content").GetProperty("action").GetString() == "push"
                && e.GetProperty("eventRequestMessage").GetProperty("content").GetProperty("target").GetProperty("tag").GetString() == "hooked");
            Assert.DoesNotContain("secret2", events.RootElement.GetRawText());
        }
        var table = await az.OkAsync("acr", "webhook", "list-events", "-n", "azhook", "-r", "myregistry", "-o", "table");
        Assert.Contains($"{AzureFixture.Repository}:hooked", table);

        // A refused destination: az fails with Berth's clear message and nothing is created.
        var refused = await az.RunAsync("acr", "webhook", "create", "-n", "badhook", "-r", "myregistry", "--uri", "http://169.254.169.254/latest", "--actions", "push");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Berth:Webhooks:AllowedDestinations", refused.StandardError);
        Assert.DoesNotContain("badhook", await az.OkAsync("acr", "webhook", "list", "-r", "myregistry", "--query", "[].name", "-o", "tsv"));

        await az.OkAsync("acr", "webhook", "delete", "-n", "azhook", "-r", "myregistry");
        Assert.Equal("", await az.OkAsync("acr", "webhook", "list", "-r", "myregistry", "--query", "[].name", "-o", "tsv"));
    }
}
