using static Berth.Metadata.Sql.SqlCommands;

namespace Berth.Metadata.Sql;

/// <summary>
/// The SQL of the content lifecycle shared by the stores: tag moves that record when a manifest lost its last tag (what
/// the retention policy counts from) and the copies that keep soft-deleted manifests and tags. Statements bind
/// <c>@r</c>, <c>@n</c> (the repository) and <c>@now</c>.
/// </summary>
internal static class SqlLifecycle
{
    /// <summary>
    /// A blob link (aliased <c>l</c>) that only soft-deleted manifests reference: kept for a restore, but not content the
    /// registry shows or counts, and not garbage until those manifests are purged.
    /// </summary>
    public const string HeldOnlyBySoftDeleted =
        """
        (EXISTS (SELECT 1 FROM manifest_references mr JOIN deleted_manifests dm
                     ON dm.registry=mr.registry AND dm.repository=mr.repository AND dm.digest=mr.manifest
                 WHERE mr.registry=l.registry AND mr.repository=l.repository AND mr.referenced=l.digest AND mr.kind='blob')
         AND NOT EXISTS (SELECT 1 FROM manifest_references mr JOIN manifests m
                     ON m.registry=mr.registry AND m.repository=mr.repository AND m.digest=mr.manifest
                 WHERE mr.registry=l.registry AND mr.repository=l.repository AND mr.referenced=l.digest AND mr.kind='blob'))
        """;

    /// <summary>Copies the repository's manifests that <paramref name="where"/> selects into <c>deleted_manifests</c>, deleted now.</summary>
    public static string KeepManifests(string where) =>
        $"""
        INSERT INTO deleted_manifests (registry, repository, digest, media_type, artifact_type, subject, annotations, content, created_at, deleted_at)
        SELECT registry, repository, digest, media_type, artifact_type, subject, annotations, content, created_at, @now
        FROM manifests WHERE registry=@r AND repository=@n {where};
        """;

    /// <summary>Copies the repository's tags that <paramref name="where"/> selects into <c>deleted_tags</c>, deleted now.</summary>
    public static string KeepTags(string where) =>
        $"""
        INSERT INTO deleted_tags (registry, repository, tag, digest, created_at, deleted_at)
        SELECT registry, repository, tag, digest, coalesce(created_at, updated_at), @now
        FROM tags WHERE registry=@r AND repository=@n {where};
        """;

    /// <summary>Before tag <c>@t</c> is deleted: its manifest, if no other tag holds it, is untagged from now.</summary>
    public const string MarkUntaggedByTagDelete =
        """
        UPDATE manifests SET untagged_at=@now WHERE registry=@r AND repository=@n
          AND digest=(SELECT digest FROM tags WHERE registry=@r AND repository=@n AND tag=@t)
          AND NOT EXISTS (SELECT 1 FROM tags o WHERE o.registry=@r AND o.repository=@n AND o.digest=manifests.digest AND o.tag<>@t);
        """;

    /// <summary>
    /// Points <paramref name="tag"/> at <paramref name="digest"/> (creating it or moving it): the manifest is tagged again,
    /// and the one it pointed at before, if no other tag holds it, is untagged from now.
    /// </summary>
    public static async Task SetTagAsync(DbConnection connection, RepositoryKey repository, string tag, string digest, long now, CancellationToken cancellationToken)
    {
        (string, object?)[] parameters = [("r", repository.Registry), ("n", repository.Name), ("tag", tag), ("d", digest), ("now", now)];
        var previous = await ScalarAsync(connection, "SELECT digest FROM tags WHERE registry=@r AND repository=@n AND tag=@tag;", cancellationToken, parameters) as string;
        await ExecuteAsync(connection,
            """
            INSERT INTO tags (registry, repository, tag, digest, updated_at, created_at) VALUES (@r, @n, @tag, @d, @now, @now)
            ON CONFLICT (registry, repository, tag) DO UPDATE SET digest=excluded.digest, updated_at=excluded.updated_at;
            """, cancellationToken, parameters);
        await ExecuteAsync(connection, "UPDATE manifests SET untagged_at=NULL WHERE registry=@r AND repository=@n AND digest=@d;", cancellationToken, parameters);
        if (previous is not null && previous != digest)
            await ExecuteAsync(connection,
                """
                UPDATE manifests SET untagged_at=@now WHERE registry=@r AND repository=@n AND digest=@previous
                  AND NOT EXISTS (SELECT 1 FROM tags WHERE registry=@r AND repository=@n AND digest=@previous);
                """, cancellationToken, [.. parameters, ("previous", previous)]);
    }

    public static Task EnsureRepositoryAsync(DbConnection connection, SqlDialect dialect, RepositoryKey repository, long now, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, dialect.InsertOrIgnore("repositories (registry, name, created_at) VALUES (@r, @n, @t)"), cancellationToken,
            ("r", repository.Registry), ("n", repository.Name), ("t", now));
}
