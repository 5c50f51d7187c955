using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Berth.Reliability.Tests.CrashSafety;

/// <summary>
/// Webhook events are durable: an event committed with its push survives the process being killed before delivery and
/// arrives, once, after a restart. And the destination guard holds at delivery time too: a restarted server whose
/// configuration no longer lists the receiver records a refused attempt and sends nothing.
/// </summary>
public sealed class WebhookCrashTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "berth-webhook-crash-" + Guid.NewGuid().ToString("N")[..12]);
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task KilledBeforeDelivery_EventArrivesOnceAfterRestart_AndAnUnlistedDestinationIsRefusedAtDelivery()
    {
        Directory.CreateDirectory(_data);
        string eventId;
        // First life: the node records events but does not send them, so the kill surely falls between commit and delivery.
        using (var first = Server(listed: true, deliver: false))
        {
            await first.StartAsync();
            await CreateWebhookAsync(first);
            await PushAsync(first, "crash/app", "v1");
            first.Kill();
            await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        Assert.Empty(_receiver.Received);

        using (var second = Server(listed: true, deliver: true))
        {
            await second.StartAsync();
            var received = await _receiver.WaitForAsync(r => r.Path == "/crash");
            Assert.Equal("push", received.Body["action"]!.GetValue<string>());
            Assert.Equal("v1", received.Body["target"]!["tag"]!.GetValue<string>());
            eventId = received.Body["id"]!.GetValue<string>();
            var events = await WaitForEventsAsync(second, e => e.Any(a => a["eventResponseMessage"]!["statusCode"]?.GetValue<string>() == "200"));
            Assert.Single(events);
            // Recorded as delivered, so it is never sent again: the receiver saw it once.
            Assert.Single(_receiver.Received, r => r.Body["id"]?.GetValue<string>() == eventId);
            second.Kill();
            await second.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        // Third life: the receiver is no longer listed; the webhook exists, but delivery refuses the loopback address.
        using var third = Server(listed: false, deliver: true);
        await third.StartAsync();
        await PushAsync(third, "crash/app", "v2");
        var refused = await WaitForEventsAsync(third, e => e.Count >= 2);
        var attempt = refused.First(e => e["eventRequestMessage"]!["content"]!["target"]!["tag"]!.GetValue<string>() == "v2");
        Assert.Null(attempt["eventResponseMessage"]!["statusCode"]);
        Assert.Contains("loopback", attempt["eventResponseMessage"]!["reasonPhrase"]!.GetValue<string>());
        Assert.DoesNotContain(_receiver.Received, r => r.Body["target"]?["tag"]?.GetValue<string>() == "v2");
        Assert.Single(_receiver.Received);
    }

    private BerthProcess Server(bool listed, bool deliver) => new(_data)
    {
        Arguments =
        [
            "--Berth:Throttling:Enabled=false", "--Logging:LogLevel:Default=Warning",
            "--Berth:Webhooks:PollInterval=00:00:00.05",
            $"--Berth:Webhooks:DeliveryEnabled={deliver}",
            .. listed ? new[] { "--Berth:Webhooks:AllowedDestinations:0=" + _receiver.Destination } : [],
        ],
    };

    private async Task<HttpClient> ManagementClientAsync(BerthProcess server)
    {
        var client = server.CreateClient();
        client.DefaultRequestHeaders.Authorization = null;
        var token = await ManagementAccess.GetManagementTokenAsync(client, _data);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private string WebhookPath()
    {
        var owner = ManagementAccess.ReadOwnerCredential(_data);
        using var admin = JsonDocument.Parse(File.ReadAllText(Path.Combine(_data, "admin-credentials.json")));
        var registry = admin.RootElement.GetProperty("registry").GetString();
        return $"/subscriptions/{owner.SubscriptionId}/resourceGroups/{owner.ResourceGroup}/providers/Microsoft.ContainerRegistry/registries/{registry}/webhooks/crashhook";
    }

    private async Task CreateWebhookAsync(BerthProcess server)
    {
        using var client = await ManagementClientAsync(server);
        var body = new JsonObject
        {
            ["location"] = "local",
            ["properties"] = new JsonObject { ["serviceUri"] = _receiver.Url("/crash"), ["actions"] = new JsonArray("push") },
        };
        using var response = await client.PutAsync(WebhookPath() + "?api-version=2022-02-01-preview", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private static async Task PushAsync(BerthProcess server, string repository, string tag)
    {
        using var client = server.CreateClient();
        await client.PushImageAsync(repository, new TestImage(), tag);
    }

    private async Task<List<JsonNode>> WaitForEventsAsync(BerthProcess server, Func<List<JsonNode>, bool> match)
    {
        using var client = await ManagementClientAsync(server);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            using var response = await client.PostAsync(WebhookPath() + "/listEvents?api-version=2022-02-01-preview", null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var events = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["value"]!.AsArray().Select(e => e!).ToList();
            if (match(events)) return events;
            Assert.True(DateTime.UtcNow < deadline, "listEvents never matched: " + string.Join(" | ", events.Select(e => e.ToJsonString())));
            await Task.Delay(50);
        }
    }
}
