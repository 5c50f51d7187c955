using Berth.Core.Maintenance;
using Microsoft.Extensions.Options;

namespace Berth.Server.Operations;

/// <summary>Runs garbage collection every <see cref="GarbageCollectionOptions.Interval"/>; does nothing when the interval is zero (the default).</summary>
internal sealed partial class GarbageCollectionScheduler(
    GarbageCollector collector, BerthMetrics metrics, IOptions<GarbageCollectionOptions> options, TimeProvider time, ILogger<GarbageCollectionScheduler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.Interval;
        if (interval <= TimeSpan.Zero) return;
        LogScheduled(logger, interval);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken);
                metrics.GarbageCollected(await collector.RunAsync(null, dryRun: false, stoppingToken));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                // A failed run (a busy database, a full disk) must not stop the schedule; the next run starts afresh.
                LogFailed(logger, error);
            }
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Garbage collection scheduled every {Interval}")]
    private static partial void LogScheduled(ILogger logger, TimeSpan interval);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Scheduled garbage collection failed")]
    private static partial void LogFailed(ILogger logger, Exception error);
}
