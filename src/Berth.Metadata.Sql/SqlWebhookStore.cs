using System.Text.Json;
using Berth.Core.Webhooks;
using static Berth.Metadata.Sql.SqlCommands;

namespace Berth.Metadata.Sql;

internal sealed class SqlWebhookStore(SqlDatabase database) : IWebhookStore
{
    private readonly SqlDialect _dialect = database.Dialect;

    private const string Columns = "registry, name, location, tags, actions, scope, enabled, created_at, callback";

    public async Task<IReadOnlyList<StoredWebhook>> ListAsync(string registry, CancellationToken cancellationToken) =>
        await database.ListAsync($"SELECT {Columns} FROM webhooks WHERE registry=@r ORDER BY {_dialect.CaseInsensitive("name")};", ReadWebhook,
            cancellationToken, ("r", registry));

    public async Task<StoredWebhook?> GetOrNullAsync(string registry, string name, CancellationToken cancellationToken) =>
        (await database.ListAsync($"SELECT {Columns} FROM webhooks WHERE registry=@r AND {_dialect.SameName("name", "@n")};", ReadWebhook,
            cancellationToken, ("r", registry), ("n", name))).FirstOrDefault();

    public async Task<WebhookPutOutcome> PutAsync(StoredWebhook stored, int limit, CancellationToken cancellationToken)
    {
        var webhook = stored.Webhook;
        await using var connection = await database.OpenAsync(cancellationToken);
        // The registry's whole-content lock (no repository has an empty name) serialises the count and the insert, so
        // two concurrent creations cannot both pass the limit.
        await using var transaction = await _dialect.BeginWriteAsync(connection, new RepositoryKey(webhook.Registry, ""), cancellationToken);
        (string, object?)[] values =
        [
            ("r", webhook.Registry), ("n", webhook.Name), ("l", webhook.Location), ("tags", JsonSerializer.Serialize(webhook.Tags)),
            ("a", JsonSerializer.Serialize(webhook.Actions)), ("s", webhook.Scope), ("e", webhook.Enabled),
            ("t", webhook.CreatedAt.ToUnixTimeMilliseconds()), ("c", stored.ProtectedCallback),
        ];
        var replaced = await ExecuteAsync(connection,
            $"UPDATE webhooks SET location=@l, tags=@tags, actions=@a, scope=@s, enabled=@e, callback=@c WHERE registry=@r AND {_dialect.SameName("name", "@n")};",
            cancellationToken, values);
        if (replaced > 0)
        {
            await transaction.CommitAsync(cancellationToken);
            return WebhookPutOutcome.Replaced;
        }
        var count = Convert.ToInt32(await ScalarAsync(connection, "SELECT COUNT(*) FROM webhooks WHERE registry=@r;", cancellationToken, ("r", webhook.Registry)));
        if (count >= limit) return WebhookPutOutcome.LimitReached;
        await ExecuteAsync(connection, $"INSERT INTO webhooks ({Columns}) VALUES (@r, @n, @l, @tags, @a, @s, @e, @t, @c);", cancellationToken, values);
        await transaction.CommitAsync(cancellationToken);
        return WebhookPutOutcome.Created;
    }

    public async Task<bool> DeleteAsync(string registry, string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await _dialect.BeginWriteAsync(connection, null, cancellationToken);
        var deleted = 0;
        foreach (var (table, column) in new[] { ("webhooks", "name"), ("webhook_deliveries", "webhook"), ("webhook_attempts", "webhook") })
        {
            var count = await ExecuteAsync(connection, $"DELETE FROM {table} WHERE registry=@r AND {_dialect.SameName(column, "@n")};", cancellationToken,
                ("r", registry), ("n", name));
            if (table == "webhooks") deleted = count;
        }
        await transaction.CommitAsync(cancellationToken);
        return deleted > 0;
    }

    public async Task EnqueueAsync(WebhookDelivery delivery, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await SqlWebhookOutbox.InsertAsync(connection, delivery, now, cancellationToken);
    }

    public async Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken) =>
        // One statement: the rows it picks are leased before any other claimer can pick them (PostgreSQL skips rows
        // another claim has locked; SQLite runs one writer at a time).
        await database.ListAsync(
            $"""
            UPDATE webhook_deliveries SET lease_owner=@o, lease_until=@until
            WHERE id IN (SELECT id FROM webhook_deliveries
                         WHERE next_attempt_at <= @now AND (lease_until IS NULL OR lease_until < @now)
                         ORDER BY next_attempt_at LIMIT @limit{_dialect.SkipLocked})
            RETURNING id, registry, webhook, payload, attempts;
            """,
            reader => new WebhookDelivery(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4)),
            cancellationToken, ("o", owner), ("now", now.ToUnixTimeMilliseconds()), ("until", leaseUntil.ToUnixTimeMilliseconds()), ("limit", limit));

    public async Task<bool> RecordAttemptAsync(WebhookAttempt attempt, string owner, DateTimeOffset? retryAt, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await _dialect.BeginWriteAsync(connection, null, cancellationToken);
        var held = retryAt is { } next
            ? await ExecuteAsync(connection,
                "UPDATE webhook_deliveries SET attempts=@n, next_attempt_at=@next, lease_owner=NULL, lease_until=NULL WHERE id=@id AND lease_owner=@o;",
                cancellationToken, ("n", attempt.Attempt), ("next", next.ToUnixTimeMilliseconds()), ("id", attempt.DeliveryId), ("o", owner))
            // Finished: the attempts keep the history; the outbox keeps only what is still to send.
            : await ExecuteAsync(connection, "DELETE FROM webhook_deliveries WHERE id=@id AND lease_owner=@o;", cancellationToken,
                ("id", attempt.DeliveryId), ("o", owner));
        if (held == 0) return false;
        await ExecuteAsync(connection,
            """
            INSERT INTO webhook_attempts (delivery, attempt, registry, webhook, attempted_at, payload, request_headers, request_uri,
                                          status_code, reason_phrase, response_headers, response_content)
            VALUES (@id, @n, @r, @w, @at, @p, @qh, @qu, @sc, @rp, @sh, @sb);
            """, cancellationToken,
            ("id", attempt.DeliveryId), ("n", attempt.Attempt), ("r", attempt.Registry), ("w", attempt.Webhook),
            ("at", attempt.AttemptedAt.ToUnixTimeMilliseconds()), ("p", attempt.Payload), ("qh", JsonSerializer.Serialize(attempt.RequestHeaders)),
            ("qu", attempt.RequestUri), ("sc", attempt.StatusCode), ("rp", attempt.ReasonPhrase), ("sh", JsonSerializer.Serialize(attempt.ResponseHeaders)),
            ("sb", attempt.ResponseContent));
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<IReadOnlyList<WebhookAttempt>> ListAttemptsAsync(string registry, string webhook, int limit, WebhookAttemptCursor? after,
        CancellationToken cancellationToken) =>
        await database.ListAsync(
            $"""
            SELECT delivery, attempt, registry, webhook, attempted_at, payload, request_headers, request_uri,
                   status_code, reason_phrase, response_headers, response_content
            FROM webhook_attempts WHERE registry=@r AND {_dialect.SameName("webhook", "@w")}
            {(after is null ? "" : "AND (attempted_at < @at OR (attempted_at = @at AND (delivery < @d OR (delivery = @d AND attempt < @n))))")}
            ORDER BY attempted_at DESC, delivery DESC, attempt DESC LIMIT @limit;
            """,
            reader => new WebhookAttempt(reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), Time(reader, 4),
                reader.GetString(5), Dictionary(reader.GetString(6)), reader.GetString(7), reader.GetInt32(8), reader.GetString(9),
                Dictionary(reader.GetString(10)), reader.GetString(11)),
            cancellationToken, ("r", registry), ("w", webhook), ("limit", limit),
            ("at", after?.AttemptedAt.ToUnixTimeMilliseconds()), ("d", after?.DeliveryId), ("n", after?.Attempt));

    private static StoredWebhook ReadWebhook(DbDataReader reader) => new(
        new Webhook(reader.GetString(0), reader.GetString(1), reader.GetString(2), Dictionary(reader.GetString(3)),
            JsonSerializer.Deserialize<string[]>(reader.GetString(4)) ?? [], reader.GetString(5), reader.GetBoolean(6), Time(reader, 7)),
        reader.GetString(8));

    private static Dictionary<string, string> Dictionary(string json) => JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];
}
