using System.Net;
using System.Net.Http.Headers;
using Berth.Core.Outbound;
using Microsoft.Extensions.Logging;

namespace Berth.Core.Webhooks;

/// <summary>
/// Sends due webhook events, at least once each: a node claims deliveries under a lease (so among nodes sharing the
/// database one sends each at a time), posts ACR's payload with ACR's headers, records the attempt, and on failure
/// schedules the next one after an exponential back-off. Pushes never wait for any of this: they only wrote the outbox row.
/// A node that dies mid-delivery leaves its lease to expire, and another claim sends the event again.
/// </summary>
public sealed partial class WebhookDispatcher : IDisposable
{
    /// <summary>ACR's user agent, which receivers written for ACR may check.</summary>
    public const string UserAgent = "AzureContainerRegistry/1.0";

    private const int MaxResponseChars = 4096;

    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    private readonly IWebhookStore _store;
    private readonly WebhookService _webhooks;
    private readonly WebhookOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookDispatcher> _logger;
    private readonly HttpClient _client;
    private readonly string _owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    public WebhookDispatcher(IWebhookStore store, WebhookService webhooks, IOptions<WebhookOptions> options,
        TimeProvider time, ILogger<WebhookDispatcher> logger)
    {
        _store = store;
        _webhooks = webhooks;
        _options = options.Value;
        _time = time;
        _logger = logger;
        // A receiver's redirect would be a request to a destination nobody checked, so none is followed.
        _client = new HttpClient(_options.CreateDestinationGuard().CreateHandler(followRedirects: false))
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public WebhookOptions Options => _options;

    /// <summary>How long a claim holds a delivery: well past one attempt's timeout, so a live sender never loses it.</summary>
    private TimeSpan Lease => _options.Timeout + TimeSpan.FromMinutes(1);

    /// <summary>Claims up to <paramref name="limit"/> due deliveries; the caller runs each with <see cref="DeliverAsync"/>.</summary>
    public Task<IReadOnlyList<WebhookDelivery>> ClaimAsync(int limit, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        return _store.ClaimDueAsync(_owner, now, now + Lease, limit, cancellationToken);
    }

    /// <summary>One attempt of a claimed delivery, recorded with its outcome.</summary>
    public async Task DeliverAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var attempt = delivery.Attempts + 1;
        var callback = await _webhooks.GetEnabledCallbackOrNullAsync(delivery.Registry, delivery.Webhook, cancellationToken);
        var started = _time.GetUtcNow();
        WebhookAttempt record;
        if (callback is null)
        {
            record = Record(delivery, attempt, started, NoHeaders, "", 0, "Webhook disabled or deleted; event dropped", NoHeaders, "");
            await _store.RecordAttemptAsync(record, _owner, null, cancellationToken);
            return;
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, callback.ServiceUri)
        {
            Content = new StringContent(delivery.Payload, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.UserAgent.ParseAdd(UserAgent);
        foreach (var (name, value) in callback.CustomHeaders)
        {
            // A custom Content-Type replaces the default, as ACR's does.
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) request.Content.Headers.Remove("Content-Type");
            if (!request.Headers.TryAddWithoutValidation(name, value)) request.Content.Headers.TryAddWithoutValidation(name, value);
        }
        // What listEvents shows of the request: the standard headers, not the custom ones (secrets such as Authorization),
        // and the destination's origin only (a path or query may carry a token).
        var shownHeaders = new Dictionary<string, string>
        {
            ["Content-Type"] = request.Content.Headers.ContentType?.ToString() ?? "",
            ["Content-Length"] = Encoding.UTF8.GetByteCount(delivery.Payload).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["User-Agent"] = UserAgent,
        };
        var origin = callback.ServiceUri.GetLeftPart(UriPartial.Authority) + "/";

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var content = await ReadSomeAsync(response, timeout.Token);
            var headers = response.Headers.Concat(response.Content.Headers).ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
            record = Record(delivery, attempt, started, shownHeaders, origin, (int)response.StatusCode, response.ReasonPhrase ?? "", headers, content);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // As ACR records a receiver that did not answer in time.
            record = Record(delivery, attempt, started, shownHeaders, origin, 504, "Gateway Timeout", NoHeaders, "");
        }
        catch (HttpRequestException error) when (error.InnerException is OutboundRequestRefusedException refused)
        {
            record = Record(delivery, attempt, started, shownHeaders, origin, 0, refused.Message, NoHeaders, "");
        }
        catch (HttpRequestException error)
        {
            record = Record(delivery, attempt, started, shownHeaders, origin, 0, $"Request failed: {error.HttpRequestError}", NoHeaders, "");
        }

        var delivered = record.StatusCode is >= 200 and < 300;
        DateTimeOffset? retryAt = delivered || attempt >= _options.MaxAttempts ? null : _time.GetUtcNow() + RetryDelay(attempt);
        if (!delivered) LogFailedAttempt(_logger, delivery.Registry, delivery.Webhook, delivery.Id, attempt, record.StatusCode, retryAt is not null);
        // Shutting down mid-record leaves the lease to expire and the event to be sent again: at least once.
        await _store.RecordAttemptAsync(record, _owner, retryAt, cancellationToken);
    }

    /// <summary>The wait after failed attempt <paramref name="attempt"/>: the first delay doubled each time, capped.</summary>
    public TimeSpan RetryDelay(int attempt)
    {
        var delay = _options.FirstRetryDelay * Math.Pow(2, Math.Min(attempt - 1, 30));
        return delay > _options.MaxRetryDelay ? _options.MaxRetryDelay : delay;
    }

    private static WebhookAttempt Record(WebhookDelivery delivery, int attempt, DateTimeOffset at, IReadOnlyDictionary<string, string> requestHeaders,
        string requestUri, int status, string reason, IReadOnlyDictionary<string, string> responseHeaders, string content) =>
        new(delivery.Id, attempt, delivery.Registry, delivery.Webhook, at, delivery.Payload, requestHeaders, requestUri, status, reason, responseHeaders, content);

    private static async Task<string> ReadSomeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var buffer = new char[MaxResponseChars];
        var read = await reader.ReadBlockAsync(buffer, cancellationToken);
        return new string(buffer, 0, read);
    }

    public void Dispose() => _client.Dispose();

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "Webhook {Registry}/{Webhook}: attempt {Attempt} of event {EventId} failed with status {Status}; retrying: {WillRetry}")]
    private static partial void LogFailedAttempt(ILogger logger, string registry, string webhook, string eventId, int attempt, int status, bool willRetry);
}
