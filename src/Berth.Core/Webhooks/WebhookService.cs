using System.Net.Sockets;
using System.Text.Json;
using Berth.Core.Outbound;
using Berth.Core.Identity.Credentials;

namespace Berth.Core.Webhooks;

/// <summary>What a webhook PUT asks for: every field, the callback included.</summary>
public sealed record WebhookDefinition(
    string Location,
    IReadOnlyDictionary<string, string> Tags,
    string ServiceUri,
    IReadOnlyDictionary<string, string> CustomHeaders,
    IReadOnlyList<string> Actions,
    string Scope,
    bool Enabled);

/// <summary>What a webhook PATCH changes; null leaves a field as it is (empty headers clear them, as <c>--headers {}</c> does).</summary>
public sealed record WebhookPatch(
    string? ServiceUri = null,
    IReadOnlyDictionary<string, string>? CustomHeaders = null,
    IReadOnlyList<string>? Actions = null,
    string? Scope = null,
    bool? Enabled = null,
    IReadOnlyDictionary<string, string>? Tags = null);

/// <summary>
/// Registries' webhooks: ACR's rules for names, actions, scopes and per-tier limits, the callback kept encrypted at rest
/// like the admin passwords, the destination guard, pings and the attempts <c>listEvents</c> shows.
/// </summary>
public sealed class WebhookService(IWebhookStore store, SecretProtector secrets, IOptions<WebhookOptions> options, TimeProvider time)
{
    private readonly DestinationGuard _destinations = options.Value.CreateDestinationGuard();

    /// <summary>ACR's webhooks per registry: Basic 2, Standard 10, Premium 500.</summary>
    public static int LimitFor(RegistrySku sku) => sku switch
    {
        RegistrySku.Basic => 2,
        RegistrySku.Standard => 10,
        _ => 500,
    };

    /// <summary>ACR: 5-50 letters and digits.</summary>
    public static bool IsValidName(string name) => name.Length is >= 5 and <= 50 && name.All(char.IsAsciiLetterOrDigit);

    public async Task<IReadOnlyList<Webhook>> ListAsync(string registry, CancellationToken cancellationToken) =>
        (await store.ListAsync(registry, cancellationToken)).Select(w => w.Webhook).ToList();

    public async Task<Webhook?> GetOrNullAsync(string registry, string name, CancellationToken cancellationToken) =>
        (await store.GetOrNullAsync(registry, name, cancellationToken))?.Webhook;

    public async Task<WebhookCallback?> GetCallbackOrNullAsync(string registry, string name, CancellationToken cancellationToken) =>
        await store.GetOrNullAsync(registry, name, cancellationToken) is { } stored ? Unprotect(stored) : null;

    /// <summary>Creates or replaces the webhook; true when it was created.</summary>
    public async Task<(Webhook Webhook, bool Created)> PutAsync(Registry registry, string name, WebhookDefinition definition, CancellationToken cancellationToken)
    {
        if (!IsValidName(name))
            throw Invalid($"The webhook name '{name}' is invalid: use 5-50 letters and digits.");
        var existing = await store.GetOrNullAsync(registry.Name, name, cancellationToken);
        var webhook = new Webhook(registry.Name, existing?.Webhook.Name ?? name, definition.Location, definition.Tags, ValidActions(definition.Actions),
            ValidScope(definition.Scope), definition.Enabled, existing?.Webhook.CreatedAt ?? time.GetUtcNow());
        var callback = await ValidCallbackAsync(definition.ServiceUri, definition.CustomHeaders, cancellationToken);
        var outcome = await store.PutAsync(new StoredWebhook(webhook, Protect(webhook, callback)), LimitFor(registry.Sku), cancellationToken);
        if (outcome == WebhookPutOutcome.LimitReached)
            throw new WebhookException(WebhookErrorCode.QuotaExceeded,
                $"Quota exceeded for resource type webhooks for the registry SKU {registry.Sku}. The limit is {LimitFor(registry.Sku)}.");
        return (webhook, outcome == WebhookPutOutcome.Created);
    }

    public async Task<Webhook> UpdateAsync(Registry registry, string name, WebhookPatch patch, CancellationToken cancellationToken)
    {
        var stored = await store.GetOrNullAsync(registry.Name, name, cancellationToken) ?? throw NotFound(name);
        var current = stored.Webhook;
        var callback = Unprotect(stored);
        var updated = await PutAsync(registry, current.Name, new WebhookDefinition(
            current.Location,
            patch.Tags ?? current.Tags,
            patch.ServiceUri ?? callback.ServiceUri.OriginalString,
            patch.CustomHeaders ?? callback.CustomHeaders,
            patch.Actions ?? current.Actions,
            patch.Scope ?? current.Scope,
            patch.Enabled ?? current.Enabled), cancellationToken);
        return updated.Webhook;
    }

    public Task<bool> DeleteAsync(string registry, string name, CancellationToken cancellationToken) => store.DeleteAsync(registry, name, cancellationToken);

    /// <summary>Queues a <c>ping</c> event for the webhook and returns its id; it is delivered and recorded like any event.</summary>
    public async Task<string> PingAsync(string registry, string name, CancellationToken cancellationToken)
    {
        var webhook = await GetOrNullAsync(registry, name, cancellationToken) ?? throw NotFound(name);
        var id = Guid.NewGuid().ToString();
        var now = time.GetUtcNow();
        await store.EnqueueAsync(new WebhookDelivery(id, registry, webhook.Name, WebhookPayloads.ForPing(id, now), 0), now, cancellationToken);
        return id;
    }

    public async Task<IReadOnlyList<WebhookAttempt>> ListAttemptsAsync(string registry, string name, int limit, WebhookAttemptCursor? after,
        CancellationToken cancellationToken)
    {
        if (await store.GetOrNullAsync(registry, name, cancellationToken) is null) throw NotFound(name);
        return await store.ListAttemptsAsync(registry, name, limit, after, cancellationToken);
    }

    /// <summary>The callback of a webhook about to be called, or null when the webhook is gone or disabled.</summary>
    internal async Task<WebhookCallback?> GetEnabledCallbackOrNullAsync(string registry, string name, CancellationToken cancellationToken) =>
        await store.GetOrNullAsync(registry, name, cancellationToken) is { Webhook.Enabled: true } stored ? Unprotect(stored) : null;

    private static IReadOnlyList<string> ValidActions(IReadOnlyList<string> actions)
    {
        if (actions.Count == 0)
            throw Invalid("The property 'properties.actions' must name at least one of: " + string.Join(", ", WebhookActions.All) + ".");
        foreach (var action in actions)
        {
            if (!WebhookActions.All.Contains(action))
                throw Invalid($"The webhook action '{action}' is invalid: use one of " + string.Join(", ", WebhookActions.All) + ".");
        }
        return actions.Distinct().ToList();
    }

    private static string ValidScope(string scope) => WebhookScope.IsValid(scope)
        ? scope
        : throw Invalid($"The webhook scope '{scope}' is invalid: use repository:tag, repository:* or repository (meaning repository:latest), or leave it empty for every event.");

    private async Task<WebhookCallback> ValidCallbackAsync(string serviceUri, IReadOnlyDictionary<string, string> headers, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(serviceUri, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Host.Length == 0)
            throw Invalid("The property 'properties.serviceUri' must be an absolute http or https URI.");
        foreach (var (name, value) in headers)
        {
            if (name.Length == 0 || !name.All(c => c > 32 && c < 127 && c != ':') || value.Any(c => c is '\r' or '\n'))
                throw Invalid($"The custom header '{name}' is not a valid HTTP header.");
        }
        try
        {
            await _destinations.ResolveAsync(uri.Scheme, uri.Host, uri.Port, cancellationToken);
        }
        catch (SocketException)
        {
            // A name that does not resolve yet is accepted: each delivery resolves and checks it again.
        }
        catch (OutboundRequestRefusedException refused)
        {
            throw new WebhookException(WebhookErrorCode.DestinationRefused, $"The webhook destination is refused: {refused.Message}");
        }
        return new WebhookCallback(uri, headers);
    }

    private string Protect(Webhook webhook, WebhookCallback callback) =>
        secrets.Protect(JsonSerializer.Serialize(new StoredCallback(callback.ServiceUri.OriginalString, callback.CustomHeaders)), Context(webhook.Registry, webhook.Name));

    private WebhookCallback Unprotect(StoredWebhook stored)
    {
        var json = secrets.UnprotectOrNull(stored.ProtectedCallback, Context(stored.Webhook.Registry, stored.Webhook.Name))
            ?? throw new InvalidOperationException($"The callback of webhook {stored.Webhook.Name} does not decrypt with this server's secrets key.");
        var callback = JsonSerializer.Deserialize<StoredCallback>(json)!;
        return new WebhookCallback(new Uri(callback.ServiceUri), callback.CustomHeaders);
    }

    /// <summary>Binds the ciphertext to its webhook, so a row copied to another webhook does not decrypt.</summary>
    private static string Context(string registry, string name) => $"webhook-callback:{registry}/{name.ToLowerInvariant()}";

    private sealed record StoredCallback(string ServiceUri, IReadOnlyDictionary<string, string> CustomHeaders);

    private static WebhookException Invalid(string message) => new(WebhookErrorCode.InvalidParameter, message);

    private static WebhookException NotFound(string name) => new(WebhookErrorCode.NotFound, name);
}
