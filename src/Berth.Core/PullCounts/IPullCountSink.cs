namespace Berth.Core.PullCounts;

/// <summary>
/// Where a node's flush sends the pull counts it gathered: straight to the database (the default), or through Redis when
/// several nodes share it.
/// </summary>
public interface IPullCountSink
{
    /// <summary>
    /// Writes the deltas of one repository. Throws when they were not written, so the flush keeps them for the next one;
    /// once it returns they are counted exactly once.
    /// </summary>
    Task WriteAsync(RepositoryKey repository, IReadOnlyList<PullCountDelta> deltas, CancellationToken cancellationToken);

    /// <summary>Runs after every flush (with <paramref name="final"/> on a graceful stop): a sink that stages counts moves them on.</summary>
    Task CompleteFlushAsync(bool final, CancellationToken cancellationToken);
}

/// <summary>
/// The default: each flush adds its deltas to the database (UPSERT count = count + delta), which several nodes sharing
/// PostgreSQL can do at once and stay exact.
/// </summary>
internal sealed class DatabasePullCountSink(IPullCountStore store) : IPullCountSink
{
    public Task WriteAsync(RepositoryKey repository, IReadOnlyList<PullCountDelta> deltas, CancellationToken cancellationToken) =>
        store.AddAsync(repository, deltas, cancellationToken);

    public Task CompleteFlushAsync(bool final, CancellationToken cancellationToken) => Task.CompletedTask;
}
