using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Berth.Testing;

/// <summary>
/// A webhook receiver on loopback (Kestrel): records every request (headers, JSON body) and answers with the status
/// the test chose. It can fail the next requests, or hold every request open until released (a hanging receiver).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<int>> _statuses = new();
    private readonly List<ReceivedWebhook> _received = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _blocked = new();

    public sealed record ReceivedWebhook(string Path, IReadOnlyDictionary<string, string> Headers, JsonNode Body, DateTimeOffset ReceivedAt);

    private WebhookReceiver(WebApplication app) => _app = app;

    /// <summary><c>127.0.0.1:port</c>, as <c>Berth:Webhooks:AllowedDestinations</c> lists it.</summary>
    public string Destination { get; private set; } = "";

    public string Url(string path = "/hook") => $"http://{Destination}{path}";

    public static async Task<WebhookReceiver> StartAsync(int? port = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port ?? 0}");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        receiver.Destination = new Uri(app.Urls.First()).Authority;
        return receiver;
    }

    /// <summary>The next <paramref name="count"/> requests to <paramref name="path"/> are answered <paramref name="status"/>, then 200 again.</summary>
    public void FailNext(string path, int count, int status = 500)
    {
        var queue = _statuses.GetOrAdd(path, _ => new ConcurrentQueue<int>());
        for (var i = 0; i < count; i++) queue.Enqueue(status);
    }

    /// <summary>Requests to <paramref name="path"/> from now on are held open until <see cref="Release"/>.</summary>
    public void Block(string path) => _blocked[path] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Whether requests to <paramref name="path"/> are still held open.</summary>
    public bool IsBlocked(string path) => _blocked.TryGetValue(path, out var gate) && !gate.Task.IsCompleted;

    public void Release(string path)
    {
        if (_blocked.TryRemove(path, out var gate)) gate.TrySetResult();
    }

    public IReadOnlyList<ReceivedWebhook> Received
    {
        get
        {
            lock (_received) return [.. _received];
        }
    }

    /// <summary>Waits (at most a minute) until a received request satisfies <paramref name="match"/>, and returns it.</summary>
    public async Task<ReceivedWebhook> WaitForAsync(Func<ReceivedWebhook, bool> match, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(1));
        while (true)
        {
            if (Received.FirstOrDefault(match) is { } found) return found;
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _arrived.WaitAsync(left))
                throw new TimeoutException($"no matching webhook request arrived; received: {string.Join(" | ", Received.Select(r => r.Body.ToJsonString()))}");
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var text = await reader.ReadToEndAsync();
        var received = new ReceivedWebhook(context.Request.Path.Value ?? "",
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            JsonNode.Parse(text) ?? new JsonObject(), DateTimeOffset.UtcNow);
        lock (_received) _received.Add(received);
        _arrived.Release();
        if (_blocked.TryGetValue(received.Path, out var gate)) await gate.Task;
        context.Response.StatusCode = _statuses.TryGetValue(received.Path, out var queue) && queue.TryDequeue(out var status) ? status : StatusCodes.Status200OK;
        await context.Response.WriteAsync($"received {received.Body["id"]}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var path in _blocked.Keys) Release(path);
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
