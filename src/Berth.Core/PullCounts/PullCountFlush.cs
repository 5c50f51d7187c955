using Microsoft.Extensions.Logging;

namespace Berth.Core.PullCounts;

/// <summary>
/// One flush: takes what <see cref="PullCounter"/> gathered and writes it, a repository at a time, through the sink. What
/// a repository's write fails with goes back into the counter for the next flush, so a database or Redis outage delays
/// counts instead of losing them (unless the node is then killed).
/// </summary>
public sealed partial class PullCountFlush(PullCounter counter, IPullCountSink sink, ILogger<PullCountFlush> logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task RunAsync(bool final, CancellationToken cancellationToken)
    {
        // A flush on stop may overlap the last scheduled one; one at a time keeps each delta in one of them.
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var groups = counter.Take();
            var failed = 0;
            for (var i = 0; i < groups.Count; i++)
            {
                try
                {
                    await sink.WriteAsync(groups[i][0].Repository, groups[i], cancellationToken);
                }
                catch (Exception error)
                {
                    counter.Restore(groups[i]);
                    if (cancellationToken.IsCancellationRequested)
                    {
                        foreach (var rest in groups.Skip(i + 1)) counter.Restore(rest);
                        throw;
                    }
                    if (failed++ == 0) LogFailed(logger, error);
                }
            }
            await sink.CompleteFlushAsync(final, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Pull counts could not be written; they are kept for the next flush")]
    private static partial void LogFailed(ILogger logger, Exception error);
}
