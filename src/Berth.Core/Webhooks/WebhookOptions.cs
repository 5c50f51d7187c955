using Berth.Core.Outbound;
using Berth.Core.Upstream;
namespace Berth.Core.Webhooks;

/// <summary>The <c>Berth:Webhooks</c> configuration section.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Berth:Webhooks";

    /// <summary>
    /// <c>host:port</c> destinations allowed although they are loopback, private or link-local addresses (or resolve to
    /// one), which are refused otherwise: a webhook is a request the server makes wherever an owner aims it.
    /// </summary>
    public List<string> AllowedDestinations { get; set; } = [];

    /// <summary>Whether this node sends webhook events. Every node may; a node that does not still records them.</summary>
    public bool DeliveryEnabled { get; set; } = true;

    /// <summary>How long one attempt waits for the receiver's answer (ACR: 5 seconds).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often an idle node looks for due events.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The wait after a failed first attempt; it doubles with every further failure, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Attempts before an event is given up (each one is listed by <c>listEvents</c>).</summary>
    public int MaxAttempts { get; set; } = 10;

    /// <summary>Deliveries a node has in flight at once, so one hanging receiver does not hold up the others.</summary>
    public int Concurrency { get; set; } = 16;

    /// <summary>The guard every webhook request goes through: plain HTTP is allowed, restricted addresses only when listed.</summary>
    public DestinationGuard CreateDestinationGuard() => new(AllowedDestinations, null, $"{Section}:AllowedDestinations");

    /// <summary><c>host:port</c> or <c>[v6]:port</c>, as an <see cref="AllowedDestinations"/> entry must be (the port is required).</summary>
    public static bool TryParseDestination(string entry, out string host, out int port)
    {
        var parsed = UpstreamEndpoint.TryParseHostPort(entry, out host, out var given);
        port = given ?? 0;
        return parsed && port > 0;
    }

    internal void Validate()
    {
        foreach (var entry in AllowedDestinations)
        {
            if (!TryParseDestination(entry, out _, out _))
                throw new InvalidOperationException($"{Section}:AllowedDestinations entry \"{entry}\" must be host:port (for example 127.0.0.1:8080 or [::1]:8080).");
        }
        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromMinutes(5))
            throw new InvalidOperationException($"{Section}:Timeout ({Timeout}) must lie between 0 and 00:05:00.");
        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromHours(1))
            throw new InvalidOperationException($"{Section}:PollInterval ({PollInterval}) must lie between 00:00:00.01 and 01:00:00.");
        if (FirstRetryDelay <= TimeSpan.Zero || MaxRetryDelay < FirstRetryDelay)
            throw new InvalidOperationException($"{Section}:FirstRetryDelay ({FirstRetryDelay}) must be positive and no more than MaxRetryDelay ({MaxRetryDelay}).");
        if (MaxAttempts is < 1 or > 100)
            throw new InvalidOperationException($"{Section}:MaxAttempts ({MaxAttempts}) must lie between 1 and 100.");
        if (Concurrency is < 1 or > 256)
            throw new InvalidOperationException($"{Section}:Concurrency ({Concurrency}) must lie between 1 and 256.");
    }
}
