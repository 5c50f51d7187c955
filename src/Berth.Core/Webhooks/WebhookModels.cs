namespace Berth.Core.Webhooks;

/// <summary>The actions ACR lets a webhook listen to. Berth fires <c>push</c> and <c>delete</c>; the others are accepted as ACR accepts them.</summary>
public static class WebhookActions
{
    public const string Push = "push";
    public const string Delete = "delete";
    public const string Ping = "ping";

    public static IReadOnlyList<string> All { get; } = [Push, Delete, "quarantine", "chart_push", "chart_delete"];
}

/// <summary>
/// A registry's webhook as everyone may see it. Its destination (<see cref="WebhookCallback"/>) is a secret kept apart:
/// ACR returns it only from <c>getCallbackConfig</c>.
/// </summary>
public sealed record Webhook(
    string Registry,
    string Name,
    string Location,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyList<string> Actions,
    string Scope,
    bool Enabled,
    DateTimeOffset CreatedAt);

/// <summary>Where a webhook posts and the headers it adds (often an Authorization header): secrets.</summary>
public sealed record WebhookCallback(Uri ServiceUri, IReadOnlyDictionary<string, string> CustomHeaders);

/// <summary>A webhook as stored: its callback encrypted (<see cref="Identity.Credentials.SecretProtector"/>).</summary>
public sealed record StoredWebhook(Webhook Webhook, string ProtectedCallback);

/// <summary>The request that caused an event, as ACR's payload names it (<c>request</c>).</summary>
public sealed record EventRequest(string Id, string Host, string Method, string UserAgent);

/// <summary>
/// A change to a repository's content that webhooks may be told of. <see cref="ScopeTags"/> are the tags the scope
/// filter is matched against: the pushed or deleted tag, or the tags a deleted manifest carried.
/// </summary>
public sealed record ContentEvent(
    string Action,
    RepositoryKey Repository,
    string? Tag,
    Digest Digest,
    string MediaType,
    long? Size,
    IReadOnlyList<string> ScopeTags,
    EventRequest? Request);

/// <summary>One event on its way to one webhook (an outbox row): <see cref="Id"/> is the event id the receiver sees.</summary>
public sealed record WebhookDelivery(string Id, string Registry, string Webhook, string Payload, int Attempts);

/// <summary>One HTTP exchange with a webhook's receiver, as <c>listEvents</c> shows it. No secret is kept in it.</summary>
public sealed record WebhookAttempt(
    string DeliveryId,
    int Attempt,
    string Registry,
    string Webhook,
    DateTimeOffset AttemptedAt,
    string Payload,
    IReadOnlyDictionary<string, string> RequestHeaders,
    string RequestUri,
    int StatusCode,
    string ReasonPhrase,
    IReadOnlyDictionary<string, string> ResponseHeaders,
    string ResponseContent);

/// <summary>Where a listing of attempts goes on: after this one (attempts are listed newest first).</summary>
public sealed record WebhookAttemptCursor(DateTimeOffset AttemptedAt, string DeliveryId, int Attempt);

public enum WebhookPutOutcome { Created, Replaced, LimitReached }
