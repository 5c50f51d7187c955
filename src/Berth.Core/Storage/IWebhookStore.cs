using Berth.Core.Webhooks;

namespace Berth.Core.Storage;

/// <summary>
/// Webhooks and their outbox. Events themselves are written by <see cref="IMetadataStore"/> in the transaction of the
/// change that causes them (a manifest put or delete), so an event exists if and only if its change committed. Several
/// nodes may share the store: a delivery is claimed under a lease, so one node sends it at a time.
/// </summary>
public interface IWebhookStore
{
    Task<IReadOnlyList<StoredWebhook>> ListAsync(string registry, CancellationToken cancellationToken);

    Task<StoredWebhook?> GetOrNullAsync(string registry, string name, CancellationToken cancellationToken);

    /// <summary>
    /// Creates the webhook, unless the registry already has <paramref name="limit"/> (checked in the same transaction),
    /// or replaces the one of that name (case-insensitive; the stored spelling stays).
    /// </summary>
    Task<WebhookPutOutcome> PutAsync(StoredWebhook webhook, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes the webhook with its pending deliveries and recorded attempts; false when there was none.</summary>
    Task<bool> DeleteAsync(string registry, string name, CancellationToken cancellationToken);

    /// <summary>Queues a delivery that no content change causes (a ping), due now.</summary>
    Task EnqueueAsync(WebhookDelivery delivery, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Claims up to <paramref name="limit"/> deliveries that are due and not leased by a live claim, leasing them to
    /// <paramref name="owner"/> until <paramref name="leaseUntil"/>. Concurrent claimers never get the same row.
    /// </summary>
    Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Records an attempt of a claimed delivery and, with <paramref name="retryAt"/>, when to try again; without, the
    /// delivery is finished (delivered or given up). Nothing is recorded when the lease was lost to another node.
    /// </summary>
    Task<bool> RecordAttemptAsync(WebhookAttempt attempt, string owner, DateTimeOffset? retryAt, CancellationToken cancellationToken);

    /// <summary>The webhook's attempts, newest first, after <paramref name="after"/>, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<WebhookAttempt>> ListAttemptsAsync(string registry, string webhook, int limit, WebhookAttemptCursor? after, CancellationToken cancellationToken);
}
