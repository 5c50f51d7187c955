namespace Berth.Core.Storage;

/// <summary>
/// What a node counted for one repository, or for one of its tags (<see cref="Tag"/> set), since its last flush: pulls
/// to add, split by who pulled, and the time of the latest.
/// </summary>
public sealed record PullCountDelta(RepositoryKey Repository, string? Tag, long Anonymous, long Authenticated, DateTimeOffset LastPulled);

/// <summary>The pull counts of a repository or tag as <c>/acr/v1</c> shows them; <see cref="None"/> before the first pull.</summary>
public sealed record PullCounts(long Anonymous, long Authenticated, DateTimeOffset? LastPulled)
{
    public static PullCounts None { get; } = new(0, 0, null);

    public long Total => Anonymous + Authenticated;
}

/// <summary>The database's pull counts, which only ever grow by deltas, so that several nodes adding at once stay exact.</summary>
public interface IPullCountStore
{
    /// <summary>
    /// Adds the deltas of one repository (and its tags) in one transaction. Deltas for a repository or tag that no longer
    /// exists are dropped: its counts went with it, and must not come back with a later push of the same name.
    /// </summary>
    Task AddAsync(RepositoryKey repository, IReadOnlyList<PullCountDelta> deltas, CancellationToken cancellationToken);
}
