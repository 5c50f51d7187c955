using static Berth.Metadata.Sql.SqlCommands;

namespace Berth.Metadata.Sql;

internal sealed class SqlDeletedContentStore(SqlDatabase database, TimeProvider time) : IDeletedContentStore
{
    private readonly SqlDialect _dialect = database.Dialect;

    public async Task<IReadOnlyList<string>> ListRepositoriesAsync(string registry, int limit, string? last, CancellationToken cancellationToken) =>
        await database.ListAsync(
            """
            SELECT repository FROM deleted_manifests WHERE registry=@r AND repository > @last
            UNION SELECT repository FROM deleted_tags WHERE registry=@r AND repository > @last
            ORDER BY 1 LIMIT @limit;
            """, Text, cancellationToken, ("r", registry), ("last", last ?? ""), ("limit", limit));

    public async Task<IReadOnlyList<DeletedManifest>> ListManifestsAsync(RepositoryKey repository, int limit, long after, CancellationToken cancellationToken) =>
        await database.ListAsync(
            "SELECT seq, digest, media_type, created_at, deleted_at FROM deleted_manifests WHERE registry=@r AND repository=@n AND seq > @after ORDER BY seq LIMIT @limit;",
            reader => new DeletedManifest(reader.GetInt64(0), Digest.Parse(reader.GetString(1)), reader.GetString(2), Time(reader, 3), Time(reader, 4)),
            cancellationToken, ("r", repository.Registry), ("n", repository.Name), ("after", after), ("limit", limit));

    public async Task<IReadOnlyList<DeletedTag>> ListTagsAsync(RepositoryKey repository, int limit, long after, CancellationToken cancellationToken) =>
        await database.ListAsync(
            "SELECT seq, tag, digest, created_at, deleted_at FROM deleted_tags WHERE registry=@r AND repository=@n AND seq > @after ORDER BY seq LIMIT @limit;",
            reader => new DeletedTag(reader.GetInt64(0), reader.GetString(1), Digest.Parse(reader.GetString(2)), Time(reader, 3), Time(reader, 4)),
            cancellationToken, ("r", repository.Registry), ("n", repository.Name), ("after", after), ("limit", limit));

    public async Task<RestoreOutcome> RestoreAsync(RepositoryKey repository, Digest digest, string? tag, bool force, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        (string, object?)[] parameters = [("r", repository.Registry), ("n", repository.Name), ("d", digest.ToString()), ("t", tag), ("now", now)];
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await _dialect.BeginWriteAsync(connection, repository, cancellationToken);
        var present = await ScalarAsync(connection, "SELECT 1 FROM manifests WHERE registry=@r AND repository=@n AND digest=@d;", cancellationToken, parameters) is not null;
        var deleted = (await ListAsync(connection, "SELECT subject FROM deleted_manifests WHERE registry=@r AND repository=@n AND digest=@d;",
            reader => StringOrNull(reader, 0), cancellationToken, parameters)).ToList();
        if (!present && deleted.Count == 0) return RestoreOutcome.NotFound;
        // A referrer comes back only after its subject (ACR: restore is not recursive, and a referrer needs its subject).
        if (!present && deleted[0] is { } subject
            && await ScalarAsync(connection, "SELECT 1 FROM deleted_manifests WHERE registry=@r AND repository=@n AND digest=@s;", cancellationToken,
                [.. parameters, ("s", subject)]) is not null)
            return RestoreOutcome.SubjectDeleted;
        if (tag is not null && !force
            && await ScalarAsync(connection, "SELECT digest FROM tags WHERE registry=@r AND repository=@n AND tag=@t;", cancellationToken, parameters) is string current
            && current != digest.ToString())
            return RestoreOutcome.TagInUse;
        if (!present)
        {
            await SqlLifecycle.EnsureRepositoryAsync(connection, _dialect, repository, now, cancellationToken);
            // Restored without a tag, the manifest is untagged from now: retention counts from its return.
            await ExecuteAsync(connection,
                """
                INSERT INTO manifests (registry, repository, digest, media_type, artifact_type, subject, annotations, content, created_at, untagged_at)
                SELECT registry, repository, digest, media_type, artifact_type, subject, annotations, content, created_at, @now
                FROM deleted_manifests WHERE registry=@r AND repository=@n AND digest=@d;
                DELETE FROM deleted_manifests WHERE registry=@r AND repository=@n AND digest=@d;
                """, cancellationToken, parameters);
        }
        if (tag is not null)
        {
            await SqlLifecycle.SetTagAsync(connection, repository, tag, digest.ToString(), now, cancellationToken);
            await ExecuteAsync(connection, "DELETE FROM deleted_tags WHERE registry=@r AND repository=@n AND tag=@t AND digest=@d;", cancellationToken, parameters);
        }
        await transaction.CommitAsync(cancellationToken);
        return RestoreOutcome.Restored;
    }

    public async Task<PurgedContent> PurgeAsync(string registry, DateTimeOffset deletedBefore, bool dryRun, CancellationToken cancellationToken)
    {
        (string, object?)[] parameters = [("r", registry), ("before", deletedBefore.ToUnixTimeMilliseconds())];
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await _dialect.BeginWriteAsync(connection, null, cancellationToken);
        var manifests = await ListAsync(connection, "SELECT repository, digest FROM deleted_manifests WHERE registry=@r AND deleted_at < @before ORDER BY seq;",
            reader => (reader.GetString(0), Digest.Parse(reader.GetString(1))), cancellationToken, parameters);
        var tags = Convert.ToInt32(await ScalarAsync(connection, "SELECT count(*) FROM deleted_tags WHERE registry=@r AND deleted_at < @before;", cancellationToken, parameters),
            System.Globalization.CultureInfo.InvariantCulture);
        if (dryRun || (manifests.Count == 0 && tags == 0)) return new PurgedContent(manifests, tags);
        foreach (var sql in new[]
        {
            """
            DELETE FROM manifest_references WHERE registry=@r AND EXISTS (SELECT 1 FROM deleted_manifests d
                WHERE d.registry=manifest_references.registry AND d.repository=manifest_references.repository
                  AND d.digest=manifest_references.manifest AND d.deleted_at < @before);
            """,
            "DELETE FROM deleted_manifests WHERE registry=@r AND deleted_at < @before;",
            "DELETE FROM deleted_tags WHERE registry=@r AND deleted_at < @before;",
            // A repository deleted whole kept its links only for a restore; with its last deleted manifest they go too.
            """
            DELETE FROM blob_links WHERE registry=@r
              AND NOT EXISTS (SELECT 1 FROM repositories WHERE registry=blob_links.registry AND name=blob_links.repository)
              AND NOT EXISTS (SELECT 1 FROM deleted_manifests d WHERE d.registry=blob_links.registry AND d.repository=blob_links.repository);
            """,
        })
            await ExecuteAsync(connection, sql, cancellationToken, parameters);
        await transaction.CommitAsync(cancellationToken);
        return new PurgedContent(manifests, tags);
    }
}
