using System.Net;
using System.Text.Json.Nodes;
using Berth.Server.Tests.Management;

namespace Berth.Server.Tests.Webhooks;

/// <summary>The ARM resource <c>registries/webhooks</c>: shapes, validation, tier limits, secrets and the destination guard.</summary>
public sealed class WebhookResourceTests(WebhookTestServer server) : IClassFixture<WebhookTestServer>
{
    [Fact]
    public async Task Webhook_Crud_ShowsNoSecretButGetCallbackConfig()
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("hooks");
        await client.CreateRegistryAsync(server, name);
        var path = server.RegistryPath(name) + "/webhooks/crudhook";
        var uri = server.Receiver.Url("/crud?code=s3cretQuery");

        var (status, created, response) = await client.SendAsync(HttpMethod.Put, path,
            WebhookApi.CreateBody(uri, scope: "app:*", headers: new Dictionary<string, string> { ["Authorization"] = "Basic c2VjcmV0" }));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(server.RegistryPath(name) + "/webhooks/crudhook", created!["id"]!.GetValue<string>());
        Assert.Equal("crudhook", created["name"]!.GetValue<string>());
        Assert.Equal("Microsoft.ContainerRegistry/registries/webhooks", created["type"]!.GetValue<string>());
        Assert.Equal("local", created["location"]!.GetValue<string>());
        Assert.Equal("web", created["tags"]!["team"]!.GetValue<string>());
        var properties = created["properties"]!;
        Assert.Equal("enabled", properties["status"]!.GetValue<string>());
        Assert.Equal("app:*", properties["scope"]!.GetValue<string>());
        Assert.Equal(["push", "delete"], properties["actions"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal("Succeeded", properties["provisioningState"]!.GetValue<string>());
        AssertNoSecret(created);

        var shown = await client.GetJsonAsync(path);
        AssertNoSecret(shown);
        Assert.Equal("app:*", shown["properties"]!["scope"]!.GetValue<string>());
        var listed = (await client.GetJsonAsync(server.RegistryPath(name) + "/webhooks"))["value"]!.AsArray();
        AssertNoSecret(Assert.Single(listed)!);

        var (configStatus, config, _) = await client.SendAsync(HttpMethod.Post, path + "/getCallbackConfig");
        Assert.Equal(HttpStatusCode.OK, configStatus);
        Assert.Equal(uri, config!["serviceUri"]!.GetValue<string>());
        Assert.Equal("Basic c2VjcmV0", config["customHeaders"]!["Authorization"]!.GetValue<string>());

        // PATCH changes only what it names; the callback stays.
        var (patchStatus, patched, _) = await client.SendAsync(HttpMethod.Patch, path, new { properties = new { status = "disabled", actions = new[] { "push" } } });
        Assert.Equal(HttpStatusCode.OK, patchStatus);
        Assert.Equal("disabled", patched!["properties"]!["status"]!.GetValue<string>());
        Assert.Equal("app:*", patched["properties"]!["scope"]!.GetValue<string>());
        Assert.Equal(["push"], patched["properties"]!["actions"]!.AsArray().Select(a => a!.GetValue<string>()));
        AssertNoSecret(patched);
        (_, config, _) = await client.SendAsync(HttpMethod.Post, path + "/getCallbackConfig");
        Assert.Equal(uri, config!["serviceUri"]!.GetValue<string>());

        // az's `--headers {}` clears the headers.
        await client.SendAsync(HttpMethod.Patch, path, new { properties = new { customHeaders = new Dictionary<string, string> { ["{}"] = "" } } });
        (_, config, _) = await client.SendAsync(HttpMethod.Post, path + "/getCallbackConfig");
        Assert.Empty(config!["customHeaders"]!.AsObject());

        // The callback is encrypted at rest: no file of the server (the database and its write-ahead log included) holds it in clear.
        var files = Directory.GetFiles(server.DataPath, "*", SearchOption.AllDirectories);
        Assert.Contains(files, f => f.EndsWith("-wal", StringComparison.Ordinal) || f.EndsWith(".db", StringComparison.Ordinal));
        foreach (var file in files)
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, System.Text.Encoding.Latin1);
            var text = await reader.ReadToEndAsync();
            Assert.DoesNotContain("s3cretQuery", text);
            Assert.DoesNotContain("c2VjcmV0", text);
        }

        var (replaceStatus, _, _) = await client.SendAsync(HttpMethod.Put, path, WebhookApi.CreateBody(uri));
        Assert.Equal(HttpStatusCode.OK, replaceStatus);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(HttpMethod.Delete, path)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(HttpMethod.Delete, path)).Status);
        Assert.Equal("ResourceNotFound", Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Get, path)));
        Assert.Equal("ResourceNotFound", Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Post, path + "/getCallbackConfig")));
        Assert.Equal("ResourceNotFound", Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Post, path + "/ping")));
        Assert.Equal("ResourceNotFound", Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Post, path + "/listEvents")));
        _ = response;
    }

    [Theory]
    [InlineData("{\"properties\":{\"serviceUri\":\"URI\",\"actions\":[\"push\"]}}")] // no location
    [InlineData("{\"location\":\"local\",\"properties\":{\"actions\":[\"push\"]}}")] // no serviceUri
    [InlineData("{\"location\":\"local\",\"properties\":{\"serviceUri\":\"URI\"}}")] // no actions
    [InlineData("{\"location\":\"local\",\"properties\":{\"serviceUri\":\"URI\",\"actions\":[]}}")]
    [InlineData("{\"location\":\"local\",\"properties\":{\"serviceUri\":\"URI\",\"actions\":[\"fly\"]}}")]
    [InlineData("{\"location\":\"local\",\"properties\":{\"serviceUri\":\"URI\",\"actions\":[\"push\"],\"status\":\"paused\"}}")]
    [InlineData("{\"location\":\"local\",\"properties\":{\"serviceUri\":\"URI\",\"actions\":[\"push\"],\"scope\":\"a:b:c\"}}")]
    [InlineData("{\"location\":\"local\",\"properties\":{\"serviceUri\":\"ftp://example.com/x\",\"actions\":[\"push\"]}}")]
    [InlineData("{\"location\":\"local\",\"properties\":{\"serviceUri\":\"not a uri\",\"actions\":[\"push\"]}}")]
    [InlineData("{\"location\":\"local\",\"properties\":{\"serviceUri\":\"URI\",\"actions\":[\"push\"],\"customHeaders\":{\"Bad Header\":\"x\"}}}")]
    [InlineData("{\"location\":\"local\",\"properties\":{\"serviceUri\":\"URI\",\"actions\":[\"push\"],\"customHeaders\":{\"X\":1}}}")]
    [InlineData("{not json")]
    public async Task Put_BadBody_Returns400AndCreatesNothing(string body)
    {
        using var client = await server.CreateManagementClientAsync();
        var path = server.RegistryPath(server.RegistryName) + "/webhooks/badhook" + Guid.NewGuid().ToString("N")[..6];
        var result = await client.SendAsync(HttpMethod.Put, path, rawBody: body.Replace("URI", server.Receiver.Url()));
        var code = Arm.AssertArmError(HttpStatusCode.BadRequest, result);
        Assert.Contains(code, new[] { "InvalidParameter", "InvalidRequestContent" });
        Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Get, path));
    }

    [Theory]
    [InlineData("abcd")]
    [InlineData("has-dash")]
    [InlineData("a123456789012345678901234567890123456789012345678901")]
    public async Task Put_InvalidName_Returns400(string name)
    {
        using var client = await server.CreateManagementClientAsync();
        var result = await client.SendAsync(HttpMethod.Put, server.RegistryPath(server.RegistryName) + "/webhooks/" + name, WebhookApi.CreateBody(server.Receiver.Url()));
        Assert.Equal("InvalidParameter", Arm.AssertArmError(HttpStatusCode.BadRequest, result));
    }

    [Theory]
    [InlineData("Basic", 2)]
    [InlineData("Standard", 10)]
    public async Task Create_BeyondTierLimit_QuotaExceeded(string sku, int limit)
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("quota");
        await client.CreateRegistryAsync(server, name, sku);
        var hooks = server.RegistryPath(name) + "/webhooks/";
        for (var i = 0; i < limit; i++)
            Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(HttpMethod.Put, hooks + $"hook{i:D2}", WebhookApi.CreateBody(server.Receiver.Url()))).Status);

        var refused = await client.SendAsync(HttpMethod.Put, hooks + "onetoomany", WebhookApi.CreateBody(server.Receiver.Url()));
        Assert.Equal("QuotaExceeded", Arm.AssertArmError(HttpStatusCode.Conflict, refused));
        Assert.StartsWith($"Quota exceeded for resource type webhooks for the registry SKU {sku}.", refused.Body!["error"]!["message"]!.GetValue<string>());
        // Replacing one that exists is no new webhook.
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(HttpMethod.Put, hooks + "HOOK00", WebhookApi.CreateBody(server.Receiver.Url(), scope: "x:*"))).Status);
        Assert.Equal(limit, (await client.GetJsonAsync(server.RegistryPath(name) + "/webhooks"))["value"]!.AsArray().Count);
        Assert.Equal("hook00", (await client.GetJsonAsync(hooks + "Hook00"))["name"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("http://127.0.0.1:9/hook")]
    [InlineData("http://127.9.9.9/hook")]
    [InlineData("http://localhost:9/hook")]
    [InlineData("http://[::1]:9/hook")]
    [InlineData("http://10.1.2.3/hook")]
    [InlineData("http://172.16.0.1/hook")]
    [InlineData("http://192.168.1.1/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[fe80::1]/hook")]
    [InlineData("http://0.0.0.0/hook")]
    public async Task Create_RefusedDestination_FailsClearlyAndCreatesNothing(string uri)
    {
        using var client = await server.CreateManagementClientAsync();
        var path = server.RegistryPath(server.RegistryName) + "/webhooks/refused" + Guid.NewGuid().ToString("N")[..6];
        var result = await client.SendAsync(HttpMethod.Put, path, WebhookApi.CreateBody(uri));
        Assert.Equal("WebhookDestinationRefused", Arm.AssertArmError(HttpStatusCode.BadRequest, result));
        Assert.Contains("Berth:Webhooks:AllowedDestinations", result.Body!["error"]!["message"]!.GetValue<string>());
        Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Get, path));
    }

    [Fact]
    public async Task Update_ToRefusedDestination_KeepsTheOldOne()
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("guard");
        await client.CreateRegistryAsync(server, name);
        var path = server.RegistryPath(name) + "/webhooks/guarded";
        Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(HttpMethod.Put, path, WebhookApi.CreateBody(server.Receiver.Url()))).Status);
        var result = await client.SendAsync(HttpMethod.Patch, path, new { properties = new { serviceUri = "http://10.0.0.1/steal" } });
        Assert.Equal("WebhookDestinationRefused", Arm.AssertArmError(HttpStatusCode.BadRequest, result));
        var (_, config, _) = await client.SendAsync(HttpMethod.Post, path + "/getCallbackConfig");
        Assert.Equal(server.Receiver.Url(), config!["serviceUri"]!.GetValue<string>());
    }

    private static void AssertNoSecret(JsonNode webhook)
    {
        var text = webhook.ToJsonString();
        Assert.DoesNotContain("serviceUri", text);
        Assert.DoesNotContain("customHeaders", text);
        Assert.DoesNotContain("c2VjcmV0", text);
        Assert.DoesNotContain("s3cretQuery", text);
    }
}
