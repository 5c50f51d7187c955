namespace Berth.Core.Webhooks;

public enum WebhookErrorCode { InvalidParameter, NotFound, QuotaExceeded, DestinationRefused }

/// <summary>A webhook request refused by Berth's rules; the management plane turns it into ARM's error JSON.</summary>
public sealed class WebhookException(WebhookErrorCode code, string message) : Exception(message)
{
    public WebhookErrorCode Code { get; } = code;
}
