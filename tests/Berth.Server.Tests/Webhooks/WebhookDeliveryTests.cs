using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Berth.Server.Tests.Management;

namespace Berth.Server.Tests.Webhooks;

/// <summary>
/// Events reach a real HTTP receiver on loopback with ACR's JSON and headers, are retried with back-off, are listed by
/// listEvents, and never hold up a push. Each test uses a webhook of its own on the default registry, aimed at a path
/// of its own, and deletes it at the end (Standard allows ten). On SQLite and on PostgreSQL.
/// </summary>
public abstract class WebhookDeliveryTests<TServer>(TServer server) where TServer : BerthTestServer, IWebhookTestServer
{
    [Fact]
    public async Task Push_PostsAcrPushEventWithCustomHeaders()
    {
        await using var hook = await CreateWebhookAsync("pushhook", "/push", scope: "shop/web:*", headers: new Dictionary<string, string> { ["X-Hook-Key"] = "k3y" });
        var pushed = await PushAsync("shop/web", "v1");

        var received = await server.Receiver.WaitForAsync(r => r.Path == "/push");
        var body = received.Body;
        Assert.True(Guid.TryParse(body["id"]!.GetValue<string>(), out _));
        Assert.Equal("push", body["action"]!.GetValue<string>());
        var timestamp = DateTimeOffset.Parse(body["timestamp"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        Assert.Equal(TimeSpan.Zero, timestamp.Offset);
        Assert.EndsWith("Z", body["timestamp"]!.GetValue<string>());
        var target = body["target"]!;
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", target["mediaType"]!.GetValue<string>());
        Assert.Equal(pushed.Size, target["size"]!.GetValue<long>());
        Assert.Equal(pushed.Size, target["length"]!.GetValue<long>());
        Assert.Equal(pushed.Digest, target["digest"]!.GetValue<string>());
        Assert.Equal("shop/web", target["repository"]!.GetValue<string>());
        Assert.Equal("v1", target["tag"]!.GetValue<string>());
        Assert.Equal($"https://{server.Host}/v2/shop/web/manifests/{pushed.Digest}", target["url"]!.GetValue<string>());
        var request = body["request"]!;
        Assert.True(Guid.TryParse(request["id"]!.GetValue<string>(), out _));
        Assert.Equal(server.Host, request["host"]!.GetValue<string>());
        Assert.Equal("PUT", request["method"]!.GetValue<string>());
        Assert.Equal("berth-webhook-tests/1.0", request["useragent"]!.GetValue<string>());
        Assert.StartsWith("application/json", received.Headers["Content-Type"]);
        Assert.StartsWith("AzureContainerRegistry/", received.Headers["User-Agent"]);
        Assert.Equal("k3y", received.Headers["X-Hook-Key"]);

        // Out of scope: another repository fires nothing; the scope's own repository does.
        await PushAsync("shop/api", "v1");
        await PushAsync("shop/web", "v2");
        await server.Receiver.WaitForAsync(r => r.Path == "/push" && r.Body["target"]?["tag"]?.GetValue<string>() == "v2");
        var events = await WebhookApi.WaitForEventsAsync(hook.Client, hook.Path, e => e.Count >= 2);
        Assert.All(events, e => Assert.Equal("shop/web", e["eventRequestMessage"]!["content"]!["target"]!["repository"]!.GetValue<string>()));
    }

    [Fact]
    public async Task TagAndManifestDeletes_PostDeleteEvents()
    {
        await using var hook = await CreateWebhookAsync("deletehook", "/delete", actions: ["delete"]);
        var pushed = await PushAsync("gone/app", "old");
        await PushTagAsync("gone/app", "keep", pushed);

        // An untag (ACR's /acr/v1 tag delete) and a /v2 delete by tag name the tag.
        Assert.Equal(HttpStatusCode.Accepted, await DeleteAsync($"/acr/v1/gone/app/_tags/old"));
        var untag = (await server.Receiver.WaitForAsync(r => r.Path == "/delete" && r.Body["target"]?["tag"]?.GetValue<string>() == "old")).Body;
        Assert.Equal("delete", untag["action"]!.GetValue<string>());
        Assert.Equal(pushed.Digest, untag["target"]!["digest"]!.GetValue<string>());
        Assert.Equal("DELETE", untag["request"]!["method"]!.GetValue<string>());

        // A manifest delete names the manifest (ACR's delete payload: mediaType, digest, repository).
        Assert.Equal(HttpStatusCode.Accepted, await DeleteAsync($"/v2/gone/app/manifests/{pushed.Digest}"));
        var deleted = (await server.Receiver.WaitForAsync(r => r.Path == "/delete" && r.Body["target"]?["tag"] is null)).Body;
        var target = deleted["target"]!.AsObject();
        Assert.Equal(["mediaType", "digest", "repository"], target.Select(p => p.Key));
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", target["mediaType"]!.GetValue<string>());
        Assert.Equal(pushed.Digest, target["digest"]!.GetValue<string>());
        Assert.Equal("gone/app", target["repository"]!.GetValue<string>());
        Assert.DoesNotContain(server.Receiver.Received, r => r.Path == "/delete" && r.Body["action"]!.GetValue<string>() == "push");

        // A repository delete fires one event per manifest.
        var other = await PushAsync("gone/repo", "v1");
        Assert.Equal(HttpStatusCode.Accepted, await DeleteAsync("/acr/v1/gone/repo"));
        var repositoryDeleted = (await server.Receiver.WaitForAsync(r => r.Path == "/delete" && r.Body["target"]?["repository"]?.GetValue<string>() == "gone/repo")).Body;
        Assert.Equal(other.Digest, repositoryDeleted["target"]!["digest"]!.GetValue<string>());
    }

    [Fact]
    public async Task FailingReceiver_IsRetriedWithBackOff_AndEveryAttemptListed()
    {
        server.Receiver.FailNext("/flaky", 2, 503);
        await using var hook = await CreateWebhookAsync("flakyhook", "/flaky");
        var pushed = await PushAsync("retry/app", "v1");

        var events = await WebhookApi.WaitForEventsAsync(hook.Client, hook.Path, e => e.Any(a => a["eventResponseMessage"]!["statusCode"]?.GetValue<string>() == "200"));
        var requests = server.Receiver.Received.Where(r => r.Path == "/flaky").ToList();
        Assert.Equal(3, requests.Count);
        Assert.Single(requests.Select(r => r.Body["id"]!.GetValue<string>()).Distinct());
        Assert.Equal(3, events.Count);
        Assert.Equal(["200", "503", "503"], events.Select(e => e["eventResponseMessage"]!["statusCode"]!.GetValue<string>()));
        Assert.All(events, e => Assert.Equal(requests[0].Body["id"]!.GetValue<string>(), e["id"]!.GetValue<string>()));
        var first = events[^1];
        Assert.Equal(pushed.Digest, first["eventRequestMessage"]!["content"]!["target"]!["digest"]!.GetValue<string>());
        Assert.Equal("POST", first["eventRequestMessage"]!["method"]!.GetValue<string>());
        Assert.Equal($"http://{server.Receiver.Destination}/", first["eventRequestMessage"]!["requestUri"]!.GetValue<string>());
        Assert.Equal("Service Unavailable", first["eventResponseMessage"]!["reasonPhrase"]!.GetValue<string>());
        Assert.StartsWith("received ", events[0]["eventResponseMessage"]!["content"]!.GetValue<string>());

        // Back-off: the second wait is at least twice the first delay.
        var times = requests.Select(r => r.ReceivedAt).ToList();
        Assert.True(times[1] - times[0] >= TimeSpan.FromMilliseconds(WebhookTestServer.FirstRetryMilliseconds), $"{times[1] - times[0]}");
        Assert.True(times[2] - times[1] >= TimeSpan.FromMilliseconds(2 * WebhookTestServer.FirstRetryMilliseconds), $"{times[2] - times[1]}");
    }

    [Fact]
    public async Task HangingReceiver_DoesNotHoldUpPushes()
    {
        server.Receiver.Block("/hang");
        await using var hook = await CreateWebhookAsync("hanghook", "/hang");
        await PushAsync("hang/app", "v1");
        await server.Receiver.WaitForAsync(r => r.Path == "/hang");

        // The receiver holds that request open; pushes go on regardless.
        for (var i = 2; i <= 4; i++)
        {
            var pushed = await PushAsync("hang/app", $"v{i}");
            Assert.Equal(HttpStatusCode.Created, pushed.Status);
        }
        Assert.True(server.Receiver.IsBlocked("/hang"));
        server.Receiver.Release("/hang");
        await server.Receiver.WaitForAsync(r => r.Path == "/hang" && r.Body["target"]?["tag"]?.GetValue<string>() == "v4");
    }

    [Fact]
    public async Task Ping_PostsPingEvent_ListedWithPaging()
    {
        await using var hook = await CreateWebhookAsync("pinghook", "/ping");
        var ids = new List<string>();
        for (var i = 0; i < 55; i++)
        {
            var (status, body, _) = await hook.Client.SendAsync(HttpMethod.Post, hook.Path + "/ping");
            Assert.Equal(HttpStatusCode.OK, status);
            ids.Add(body!["id"]!.GetValue<string>());
        }
        var ping = (await server.Receiver.WaitForAsync(r => r.Path == "/ping" && r.Body["id"]!.GetValue<string>() == ids[0])).Body;
        Assert.Equal("ping", ping["action"]!.GetValue<string>());

        // More than a page (50): the second page comes from nextLink, and together they list each attempt once.
        var events = await WebhookApi.WaitForEventsAsync(hook.Client, hook.Path, e => e.Count >= 55);
        Assert.Equal(ids.Order(), events.Select(e => e["id"]!.GetValue<string>()).Order());
    }

    [Fact]
    public async Task DisabledWebhook_FiresNothing()
    {
        await using var hook = await CreateWebhookAsync("offhook", "/off", status: "disabled");
        await using var sentinel = await CreateWebhookAsync("onhook", "/on");
        await PushAsync("off/app", "v1");
        await server.Receiver.WaitForAsync(r => r.Path == "/on");
        Assert.Empty(await WebhookApi.ListAllEventsAsync(hook.Client, hook.Path));
        Assert.DoesNotContain(server.Receiver.Received, r => r.Path == "/off");
    }

    private sealed class TestWebhook(HttpClient client, string path) : IAsyncDisposable
    {
        public HttpClient Client => client;
        public string Path => path;

        public async ValueTask DisposeAsync()
        {
            await client.SendAsync(HttpMethod.Delete, path);
            client.Dispose();
        }
    }

    private async Task<TestWebhook> CreateWebhookAsync(string name, string receiverPath, string[]? actions = null, string? scope = null,
        Dictionary<string, string>? headers = null, string? status = null)
    {
        var client = await server.CreateManagementClientAsync();
        var path = server.RegistryPath(server.RegistryName) + "/webhooks/" + name;
        var (created, body, _) = await client.SendAsync(HttpMethod.Put, path, WebhookApi.CreateBody(server.Receiver.Url(receiverPath), actions, scope, headers, status));
        Assert.True(created == HttpStatusCode.Created, body?.ToJsonString());
        return new TestWebhook(client, path);
    }

    private async Task<(HttpStatusCode Status, string Digest, int Size)> PushAsync(string repository, string tag)
    {
        using var client = server.CreateClient(BerthTestServer.BasicAuthorization(server.AdminUsername, server.AdminPassword));
        client.DefaultRequestHeaders.UserAgent.ParseAdd("berth-webhook-tests/1.0");
        var pushed = await Arm.PushSmallImageReturningManifestAsync(client, server.Host, null, repository, tag);
        Assert.Equal(HttpStatusCode.Created, pushed.Status);
        return pushed;
    }

    /// <summary>Tags the pushed manifest again, by a PUT of the same bytes.</summary>
    private async Task PushTagAsync(string repository, string tag, (HttpStatusCode Status, string Digest, int Size) pushed)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{pushed.Digest}");
        get.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var manifest = await server.Client.SendAsync(get);
        var bytes = await manifest.Content.ReadAsByteArrayAsync();
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/v2/{repository}/manifests/{tag}") { Content = new ByteArrayContent(bytes) };
        put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        using var response = await server.Client.SendAsync(put);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private async Task<HttpStatusCode> DeleteAsync(string path)
    {
        using var response = await server.Client.DeleteAsync(path);
        return response.StatusCode;
    }
}

public sealed class SqliteWebhookDeliveryTests(WebhookTestServer server) : WebhookDeliveryTests<WebhookTestServer>(server), IClassFixture<WebhookTestServer>;

public sealed class PostgreSqlWebhookDeliveryTests(PostgreSqlWebhookTestServer server)
    : WebhookDeliveryTests<PostgreSqlWebhookTestServer>(server), IClassFixture<PostgreSqlWebhookTestServer>;
