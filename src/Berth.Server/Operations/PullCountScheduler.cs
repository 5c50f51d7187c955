using Berth.Core.PullCounts;
using Microsoft.Extensions.Options;

namespace Berth.Server.Operations;

/// <summary>
/// Flushes the node's pull counts every <see cref="PullCountOptions.FlushInterval"/>, and once more when the host has
/// stopped: <see cref="StoppedAsync"/> runs after every hosted service's stop, the web server's included, so the pulls of
/// requests drained during shutdown are in that last flush.
/// </summary>
internal sealed partial class PullCountScheduler(
    PullCountFlush flush, PullCounter counter, IOptions<PullCountOptions> options, TimeProvider time, ILogger<PullCountScheduler> logger)
    : BackgroundService, IHostedLifecycleService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!counter.Enabled) return;
        using var timer = new PeriodicTimer(options.Value.FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                await FlushAsync(final: false, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (counter.Enabled) await FlushAsync(final: true, cancellationToken);
    }

    private async Task FlushAsync(bool final, CancellationToken cancellationToken)
    {
        try
        {
            await flush.RunAsync(final, cancellationToken);
        }
        catch (Exception error) when (!cancellationToken.IsCancellationRequested)
        {
            // A failed flush keeps its counts for the next one; the schedule goes on.
            LogFailed(logger, error);
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Flushing pull counts failed")]
    private static partial void LogFailed(ILogger logger, Exception error);
}
