using static Berth.Metadata.Sql.SqlCommands;

namespace Berth.Metadata.Sql;

/// <summary>
/// Pull counts in <c>pull_counts</c>: one row per repository (tag <c>''</c>) and per pulled tag. Each flush adds its deltas
/// with an UPSERT (count = count + delta, last pull = the later one), so nodes sharing the database never overwrite each other.
/// </summary>
internal sealed class SqlPullCountStore(SqlDatabase database) : IPullCountStore
{
    private readonly SqlDialect _dialect = database.Dialect;

    public async Task AddAsync(RepositoryKey repository, IReadOnlyList<PullCountDelta> deltas, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // Under the repository's write lock, which deletes take too: a delta for a tag deleted meanwhile either lands before
        // the delete (and goes with it) or finds the tag gone; it never leaves a row behind for a later push of the name.
        await using var transaction = await _dialect.BeginWriteAsync(connection, repository, cancellationToken);
        foreach (var delta in deltas)
        {
            var existence = delta.Tag is null
                ? "SELECT 1 FROM repositories WHERE registry=@r AND name=@n"
                : "SELECT 1 FROM tags WHERE registry=@r AND repository=@n AND tag=@t";
            await ExecuteAsync(connection,
                $"""
                INSERT INTO pull_counts (registry, repository, tag, anonymous_pulls, authenticated_pulls, last_pulled_at)
                SELECT @r, @n, @t, @a, @u, @at WHERE EXISTS ({existence})
                ON CONFLICT (registry, repository, tag) DO UPDATE SET
                    anonymous_pulls = pull_counts.anonymous_pulls + excluded.anonymous_pulls,
                    authenticated_pulls = pull_counts.authenticated_pulls + excluded.authenticated_pulls,
                    last_pulled_at = {_dialect.Greatest("pull_counts.last_pulled_at", "excluded.last_pulled_at")};
                """, cancellationToken,
                ("r", repository.Registry), ("n", repository.Name), ("t", delta.Tag ?? ""), ("a", delta.Anonymous), ("u", delta.Authenticated),
                ("at", delta.LastPulled.ToUnixTimeMilliseconds()));
        }
        await transaction.CommitAsync(cancellationToken);
    }
}
