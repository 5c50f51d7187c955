using System.Text.Json;
using Berth.Core.Webhooks;
using static Berth.Metadata.Sql.SqlCommands;

namespace Berth.Metadata.Sql;

/// <summary>
/// Writes a content change's webhook events inside the change's own transaction (the transactional outbox): one
/// delivery row per enabled webhook whose actions and scope take the change. If the change rolls back, so do its
/// events; if it commits, the dispatcher finds them however the process ends afterwards.
/// </summary>
internal static class SqlWebhookOutbox
{
    public static async Task AddAsync(DbConnection connection, ContentEvent change, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var webhooks = await ListAsync(connection, "SELECT name, actions, scope FROM webhooks WHERE registry=@r AND enabled=@on;",
            reader => (Name: reader.GetString(0), Actions: JsonSerializer.Deserialize<string[]>(reader.GetString(1)) ?? [], Scope: reader.GetString(2)),
            cancellationToken, ("r", change.Repository.Registry), ("on", true));
        foreach (var webhook in webhooks.Where(w => w.Actions.Contains(change.Action) && WebhookScope.Matches(w.Scope, change)))
        {
            var id = Guid.NewGuid().ToString();
            await InsertAsync(connection, new WebhookDelivery(id, change.Repository.Registry, webhook.Name, WebhookPayloads.ForContent(id, now, change), 0),
                now, cancellationToken);
        }
    }

    public static Task InsertAsync(DbConnection connection, WebhookDelivery delivery, DateTimeOffset now, CancellationToken cancellationToken) =>
        ExecuteAsync(connection,
            """
            INSERT INTO webhook_deliveries (id, registry, webhook, payload, created_at, attempts, next_attempt_at)
            VALUES (@id, @r, @w, @p, @t, 0, @t);
            """, cancellationToken,
            ("id", delivery.Id), ("r", delivery.Registry), ("w", delivery.Webhook), ("p", delivery.Payload), ("t", now.ToUnixTimeMilliseconds()));
}
