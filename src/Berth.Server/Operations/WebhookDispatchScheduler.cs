using Berth.Core.Webhooks;

namespace Berth.Server.Operations;

/// <summary>
/// Runs the node's <see cref="WebhookDispatcher"/>: claims due events while it has free delivery slots, sends each
/// in the background (a hanging receiver holds one slot, never the loop), and sleeps a poll interval when nothing is due.
/// On stop, deliveries in flight are cancelled unrecorded; their leases expire and another claim sends them again.
/// </summary>
internal sealed partial class WebhookDispatchScheduler(WebhookDispatcher dispatcher, TimeProvider time, ILogger<WebhookDispatchScheduler> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = dispatcher.Options;
        if (!options.DeliveryEnabled) return;
        using var slots = new SemaphoreSlim(options.Concurrency, options.Concurrency);
        var inFlight = new HashSet<Task>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await slots.WaitAsync(stoppingToken);
                var free = slots.CurrentCount + 1;
                IReadOnlyList<WebhookDelivery> claimed;
                try
                {
                    claimed = await dispatcher.ClaimAsync(free, stoppingToken);
                }
                catch (Exception error) when (!stoppingToken.IsCancellationRequested)
                {
                    LogClaimFailed(logger, error);
                    claimed = [];
                }
                if (claimed.Count == 0)
                {
                    slots.Release();
                    await Task.Delay(options.PollInterval, time, stoppingToken);
                    continue;
                }
                // One slot is held already; take one more for each further delivery (they were free when counted).
                for (var i = 1; i < claimed.Count; i++) await slots.WaitAsync(stoppingToken);
                foreach (var delivery in claimed)
                {
                    var task = DeliverAsync(delivery, slots, stoppingToken);
                    lock (inFlight) inFlight.Add(task);
                    _ = task.ContinueWith(done => { lock (inFlight) inFlight.Remove(done); }, TaskScheduler.Default);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        Task[] remaining;
        lock (inFlight) remaining = [.. inFlight];
        await Task.WhenAll(remaining);
    }

    private async Task DeliverAsync(WebhookDelivery delivery, SemaphoreSlim slots, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Yield();
            await dispatcher.DeliverAsync(delivery, stoppingToken);
        }
        catch (Exception error) when (error is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // The lease expires and the event is claimed again.
            LogDeliveryFailed(logger, delivery.Id, error);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            slots.Release();
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Claiming due webhook events failed")]
    private static partial void LogClaimFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Sending webhook event {EventId} failed; it will be sent again when its lease expires")]
    private static partial void LogDeliveryFailed(ILogger logger, string eventId, Exception error);
}
