using System.Net;
using System.Text.Json.Nodes;
using Berth.Server.Tests.Management;

namespace Berth.Server.Tests.Webhooks;

/// <summary>A test server whose webhooks may call <see cref="Receiver"/>.</summary>
public interface IWebhookTestServer
{
    WebhookReceiver Receiver { get; }
}

/// <summary>
/// A server whose webhooks may call one receiver on loopback (listed in <c>Berth:Webhooks:AllowedDestinations</c>), with
/// fast polling and short back-off so retries happen within a test.
/// </summary>
public sealed class WebhookTestServer : BerthTestServer, IWebhookTestServer
{
    public const int FirstRetryMilliseconds = 300;

    public WebhookReceiver Receiver { get; private set; } = null!;

    protected override IEnumerable<string> ExtraArguments => Arguments(Receiver);

    public static IEnumerable<string> Arguments(WebhookReceiver receiver) =>
    [
        "--Berth:Throttling:Enabled=false",
        "--Berth:Webhooks:AllowedDestinations:0=" + receiver.Destination,
        "--Berth:Webhooks:PollInterval=00:00:00.05",
        $"--Berth:Webhooks:FirstRetryDelay=00:00:00.{FirstRetryMilliseconds}",
        "--Berth:Webhooks:Timeout=00:00:02",
        "--Berth:Webhooks:MaxAttempts=5",
    ];

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

/// <summary>The same, with its metadata (webhooks and their outbox included) in PostgreSQL.</summary>
public sealed class PostgreSqlWebhookTestServer : PostgreSqlBerthTestServer, IWebhookTestServer
{
    public WebhookReceiver Receiver { get; private set; } = null!;

    protected override IEnumerable<string> ExtraArguments => [.. base.ExtraArguments, .. WebhookTestServer.Arguments(Receiver)];

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

internal static class WebhookApi
{
    public static object CreateBody(string uri, string[]? actions = null, string? scope = null, object? headers = null, string? status = null) => new
    {
        location = "local",
        tags = new { team = "web" },
        properties = new { serviceUri = uri, customHeaders = headers, actions = actions ?? ["push", "delete"], scope, status },
    };

    /// <summary>Waits (at most a minute) until listEvents shows an attempt that satisfies <paramref name="match"/>; returns every attempt listed.</summary>
    public static async Task<List<JsonNode>> WaitForEventsAsync(HttpClient client, string webhookPath, Func<List<JsonNode>, bool> match)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            var events = await ListAllEventsAsync(client, webhookPath);
            if (match(events)) return events;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("listEvents never matched: " + string.Join(" | ", events.Select(e => e.ToJsonString())));
            await Task.Delay(50);
        }
    }

    /// <summary>Every page of listEvents: the first by POST, the next ones by GET of nextLink, as the SDKs page.</summary>
    public static async Task<List<JsonNode>> ListAllEventsAsync(HttpClient client, string webhookPath)
    {
        var all = new List<JsonNode>();
        var (status, body, _) = await client.SendAsync(HttpMethod.Post, webhookPath + "/listEvents");
        Assert.True(status == HttpStatusCode.OK, $"listEvents: {(int)status} {body?.ToJsonString()}");
        while (true)
        {
            all.AddRange(body!["value"]!.AsArray().Select(e => e!));
            if (body["nextLink"]?.GetValue<string>() is not { } next) return all;
            var uri = new Uri(next);
            Assert.Equal(client.BaseAddress!.Authority, uri.Authority);
            (status, body, _) = await client.SendAsync(HttpMethod.Get, uri.PathAndQuery);
            Assert.Equal(HttpStatusCode.OK, status);
        }
    }
}
