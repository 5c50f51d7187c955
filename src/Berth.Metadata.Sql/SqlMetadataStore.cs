using System.Globalization;
using Berth.Core.Webhooks;
using static Berth.Metadata.Sql.SqlCommands;

namespace Berth.Metadata.Sql;

internal sealed class SqlMetadataStore(SqlDatabase database, TimeProvider time) : IMetadataStore
{
    private readonly SqlDialect _dialect = database.Dialect;

    public Task<IAsyncDisposable?> TryAcquireMaintenanceLeaseAsync(CancellationToken cancellationToken) =>
        database.TryAcquireMaintenanceLeaseAsync(cancellationToken);

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await database.ScalarAsync("SELECT 1;", cancellationToken) is not null;
        }
        catch (Exception e) when (e is DbException or TimeoutException)
        {
            return false;
        }
    }

    public async Task<long?> GetLinkedBlobSizeOrNullAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken) =>
        (long?)await database.ScalarAsync("SELECT size FROM blob_links WHERE registry=@r AND repository=@n AND digest=@d;", cancellationToken, Bind(repository, digest));

    public async Task<long> GetRegistrySizeAsync(string registry, CancellationToken cancellationToken) =>
        // Soft-deleted content is not counted (ACR's show-usage): blobs only soft-deleted manifests hold are left out.
        Convert.ToInt64(await database.ScalarAsync(
            $"""
            SELECT (SELECT COALESCE(SUM(size), 0) FROM (SELECT MAX(size) AS size FROM blob_links l WHERE registry=@r AND NOT {SqlLifecycle.HeldOnlyBySoftDeleted} GROUP BY digest) AS blobs)
                 + (SELECT COALESCE(SUM(size), 0) FROM (SELECT MAX({_dialect.ByteLength("content")}) AS size FROM manifests WHERE registry=@r GROUP BY digest) AS manifests);
            """, cancellationToken, ("r", registry)), CultureInfo.InvariantCulture);

    public async Task<IReadOnlyList<string>> ListRepositoriesLinkingBlobAsync(string registry, Digest digest, int limit, CancellationToken cancellationToken) =>
        await database.ListAsync("SELECT repository FROM blob_links WHERE registry=@r AND digest=@d ORDER BY repository LIMIT @limit;", Text, cancellationToken,
            ("r", registry), ("d", digest.ToString()), ("limit", limit));

    public async Task LinkBlobAsync(RepositoryKey repository, Digest digest, long size, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await _dialect.BeginWriteAsync(connection, repository, cancellationToken);
        await EnsureRepositoryAsync(connection, repository, cancellationToken);
        await ExecuteAsync(connection,
            $"""
            INSERT INTO blob_links (registry, repository, digest, size, created_at) VALUES (@r, @n, @d, @s, @t)
              ON CONFLICT (registry, repository, digest) DO UPDATE SET created_at = {_dialect.Greatest("blob_links.created_at", "excluded.created_at")};
            """,
            cancellationToken, [.. Bind(repository, digest), ("s", size), ("t", Now())]);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<bool> UnlinkBlobAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken) =>
        await database.ExecuteAsync("DELETE FROM blob_links WHERE registry=@r AND repository=@n AND digest=@d;", cancellationToken, Bind(repository, digest)) > 0;

    public Task<ContentDeletion> DeleteBlobLinkAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken) =>
        DeleteUnlessLockedAsync(repository, SqlContentLocks.RepositoryRow + " OR " + SqlContentLocks.HoldersOfBlob,
            "SELECT 1 FROM blob_links WHERE registry=@r AND repository=@n AND digest=@d;", [("d", digest.ToString())], cancellationToken,
            NoEvents, ["DELETE FROM blob_links WHERE registry=@r AND repository=@n AND digest=@d;"]);

    public Task<IReadOnlyList<Digest>> FindUnlinkedBlobsAsync(RepositoryKey repository, IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken) =>
        FindMissingAsync(repository, digests, "blob_links", cancellationToken);

    public Task<IReadOnlyList<Digest>> FindMissingManifestsAsync(RepositoryKey repository, IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken) =>
        FindMissingAsync(repository, digests, "manifests", cancellationToken);

    /// <summary>The digests not present in <paramref name="table"/>, in the order given.</summary>
    private async Task<IReadOnlyList<Digest>> FindMissingAsync(RepositoryKey repository, IReadOnlyCollection<Digest> digests, string table, CancellationToken cancellationToken)
    {
        if (digests.Count == 0) return [];
        var distinct = digests.Distinct().ToList();
        await using var connection = await database.OpenAsync(cancellationToken);
        var present = await _dialect.FindDigestsAsync(connection, $"SELECT digest FROM {table} WHERE registry=@r AND repository=@n AND digest",
            distinct.Select(d => d.ToString()).ToList(), cancellationToken, ("r", repository.Registry), ("n", repository.Name));
        return distinct.Where(d => !present.Contains(d.ToString())).ToList();
    }

    public async Task<StoredManifest?> GetManifestOrNullAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken) =>
        (await database.ListAsync(
            "SELECT media_type, content, artifact_type, subject, annotations, created_at FROM manifests WHERE registry=@r AND repository=@n AND digest=@d;",
            reader => new StoredManifest(digest, reader.GetString(0), (byte[])reader.GetValue(1), StringOrNull(reader, 2),
                reader.IsDBNull(3) ? null : Digest.Parse(reader.GetString(3)), StringOrNull(reader, 4), Time(reader, 5)),
            cancellationToken, Bind(repository, digest))).FirstOrDefault();

    public async Task<Digest?> GetTagOrNullAsync(RepositoryKey repository, string tag, CancellationToken cancellationToken) =>
        await database.ScalarAsync("SELECT digest FROM tags WHERE registry=@r AND repository=@n AND tag=@t;", cancellationToken,
            ("r", repository.Registry), ("n", repository.Name), ("t", tag)) is string digest ? Digest.Parse(digest) : null;

    public async Task PutManifestAsync(RepositoryKey repository, ManifestWrite write, CancellationToken cancellationToken)
    {
        var manifest = write.Manifest;
        var digest = manifest.Digest.ToString();
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await _dialect.BeginWriteAsync(connection, repository, cancellationToken);
        await EnsureRepositoryAsync(connection, repository, cancellationToken);
        if (!write.ReferencesMayBeAbsent) await EnsureReferencesPresentAsync(connection, repository, write, cancellationToken);
        var inserted = await ExecuteAsync(connection,
            _dialect.InsertOrIgnore(
                """
                manifests (registry, repository, digest, media_type, artifact_type, subject, annotations, content, created_at)
                VALUES (@r, @n, @d, @m, @a, @s, @ann, @c, @t)
                """), cancellationToken,
            ("r", repository.Registry), ("n", repository.Name), ("d", digest), ("m", manifest.MediaType),
            ("a", manifest.ArtifactType), ("s", manifest.Subject?.ToString()), ("ann", manifest.AnnotationsJson),
            ("c", manifest.Content), ("t", manifest.CreatedAt.ToUnixTimeMilliseconds()));
        // The references of a manifest that was there already were recorded with it.
        var references = inserted == 0 ? [] : write.BlobReferences.Select(d => (d, "blob")).Concat(write.ManifestReferences.Select(d => (d, "manifest")));
        foreach (var (referenced, kind) in references)
        {
            await ExecuteAsync(connection,
                _dialect.InsertOrIgnore("manifest_references (registry, repository, manifest, referenced, kind) VALUES (@r, @n, @m, @ref, @k)"),
                cancellationToken, ("r", repository.Registry), ("n", repository.Name), ("m", digest), ("ref", referenced.ToString()), ("k", kind));
        }
        // A push of a soft-deleted manifest brings it back as a new push: the deleted copy is superseded.
        await ExecuteAsync(connection, "DELETE FROM deleted_manifests WHERE registry=@r AND repository=@n AND digest=@d;", cancellationToken,
            ("r", repository.Registry), ("n", repository.Name), ("d", digest));
        if (write.Tag is not null)
            await SqlLifecycle.SetTagAsync(connection, repository, write.Tag, digest, Now(), cancellationToken);
        await SqlWebhookOutbox.AddAsync(connection,
            new ContentEvent(WebhookActions.Push, repository, write.Tag, manifest.Digest, manifest.MediaType, manifest.Content.Length, [], write.Request),
            time.GetUtcNow(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public Task<ContentDeletion> DeleteManifestAsync(RepositoryKey repository, Digest digest, bool softDelete, EventRequest? request, CancellationToken cancellationToken) =>
        // Deleting the manifest deletes its tags too, so a lock on any of them keeps it.
        DeleteUnlessLockedAsync(repository,
            $"{SqlContentLocks.RepositoryRow} OR (a.kind='manifest' AND a.key=@d) OR " +
            "(a.kind='tag' AND a.key IN (SELECT tag FROM tags WHERE registry=@r AND repository=@n AND digest=@d))",
            "SELECT 1 FROM manifests WHERE registry=@r AND repository=@n AND digest=@d;",
            [("d", digest.ToString()), ("now", Now())], cancellationToken,
            // The event names the manifest; its tags, read before they go, are what a webhook's scope is matched against.
            async connection => await ListAsync(connection, $"SELECT media_type, {SqlTags} FROM manifests WHERE registry=@r AND repository=@n AND digest=@d;",
                reader => new ContentEvent(WebhookActions.Delete, repository, null, digest, reader.GetString(0), null, Lines(reader, 1), request),
                cancellationToken, Bind(repository, digest)),
            [
                .. softDelete ? [SqlLifecycle.KeepManifests("AND digest=@d"), SqlLifecycle.KeepTags("AND digest=@d")] : Array.Empty<string>(),
                "DELETE FROM manifests WHERE registry=@r AND repository=@n AND digest=@d;",
            // Unlocked attributes belong to the manifest and its tags; they go with them, so a later push of the same name starts afresh.
            """
            DELETE FROM content_attributes WHERE registry=@r AND repository=@n AND (
                (kind='manifest' AND key=@d) OR
                (kind='tag' AND key IN (SELECT tag FROM tags WHERE registry=@r AND repository=@n AND digest=@d)));
            """,
            // Pull counts of its tags go with them (the repository's stay: its pulls happened).
            "DELETE FROM pull_counts WHERE registry=@r AND repository=@n AND tag IN (SELECT tag FROM tags WHERE registry=@r AND repository=@n AND digest=@d);",
            "DELETE FROM tags WHERE registry=@r AND repository=@n AND digest=@d;",
            // A soft-deleted manifest keeps its references: they hold its blobs and children for a restore.
            .. softDelete ? Array.Empty<string>() : ["DELETE FROM manifest_references WHERE registry=@r AND repository=@n AND manifest=@d;"],
            ]);

    public Task<ContentDeletion> DeleteTagAsync(RepositoryKey repository, string tag, bool softDelete, EventRequest? request, CancellationToken cancellationToken) =>
        DeleteUnlessLockedAsync(repository, $"{SqlContentLocks.RepositoryRow} OR (a.kind='tag' AND a.key=@t)",
            "SELECT 1 FROM tags WHERE registry=@r AND repository=@n AND tag=@t;", [("t", tag), ("now", Now())], cancellationToken,
            async connection => await ListAsync(connection,
                "SELECT t.digest, m.media_type FROM tags t JOIN manifests m ON m.registry=t.registry AND m.repository=t.repository AND m.digest=t.digest " +
                "WHERE t.registry=@r AND t.repository=@n AND t.tag=@t;",
                reader => new ContentEvent(WebhookActions.Delete, repository, tag, Digest.Parse(reader.GetString(0)), reader.GetString(1), null, [], request),
                cancellationToken, ("r", repository.Registry), ("n", repository.Name), ("t", tag)),
            [
                .. softDelete ? [SqlLifecycle.KeepTags("AND tag=@t")] : Array.Empty<string>(),
                SqlLifecycle.MarkUntaggedByTagDelete,
                "DELETE FROM tags WHERE registry=@r AND repository=@n AND tag=@t;",
                "DELETE FROM content_attributes WHERE registry=@r AND repository=@n AND kind='tag' AND key=@t;",
                "DELETE FROM pull_counts WHERE registry=@r AND repository=@n AND tag=@t;",
            ]);

    private static Task<List<ContentEvent>> NoEvents(DbConnection connection) => Task.FromResult(new List<ContentEvent>());

    private string SqlTags => _dialect.SortedLines("tag", "FROM tags WHERE registry=@r AND repository=@n AND digest=@d");

    private static IReadOnlyList<string> Lines(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? [] : reader.GetString(ordinal).Split('\n');

    /// <summary>
    /// Runs <paramref name="statements"/> under the repository's write lock, unless a locked row that <paramref name="which"/>
    /// selects forbids it or <paramref name="exists"/> finds nothing to delete.
    /// </summary>
    private async Task<ContentDeletion> DeleteUnlessLockedAsync(RepositoryKey repository, string which, string exists, (string Name, object? Value)[] parameters,
        CancellationToken cancellationToken, Func<DbConnection, Task<List<ContentEvent>>> describe, string[] statements)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await _dialect.BeginWriteAsync(connection, repository, cancellationToken);
        var locked = await SqlContentLocks.FindAsync(connection, repository, which, cancellationToken, parameters);
        if (locked.Count > 0) return new ContentDeletion(true, locked);
        (string, object?)[] bound = [("r", repository.Registry), ("n", repository.Name), .. parameters];
        if (await ScalarAsync(connection, exists, cancellationToken, bound) is null) return ContentDeletion.NotFound;
        // What is deleted is described before it goes: the events are written with the delete, in its transaction.
        var events = await describe(connection);
        foreach (var sql in statements)
            await ExecuteAsync(connection, sql, cancellationToken, bound);
        foreach (var change in events)
            await SqlWebhookOutbox.AddAsync(connection, change, time.GetUtcNow(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return ContentDeletion.Deleted;
    }

    public async Task<IReadOnlyList<string>> ListTagsAsync(RepositoryKey repository, int limit, string? last, CancellationToken cancellationToken) =>
        await database.ListAsync("SELECT tag FROM tags WHERE registry=@r AND repository=@n AND tag > @last ORDER BY tag LIMIT @limit;", Text, cancellationToken,
            ("r", repository.Registry), ("n", repository.Name), ("last", last ?? ""), ("limit", limit));

    public async Task<bool> RepositoryExistsAsync(RepositoryKey repository, CancellationToken cancellationToken) =>
        await database.ScalarAsync("SELECT 1 FROM repositories WHERE registry=@r AND name=@n;", cancellationToken,
            ("r", repository.Registry), ("n", repository.Name)) is not null;

    public async Task<IReadOnlyList<string>> ListRepositoriesAsync(string registry, int limit, string? last, CancellationToken cancellationToken) =>
        await database.ListAsync("SELECT name FROM repositories WHERE registry=@r AND name > @last ORDER BY name LIMIT @limit;", Text, cancellationToken,
            ("r", registry), ("last", last ?? ""), ("limit", limit));

    public async Task<IReadOnlyList<ReferrerRecord>> ListReferrersAsync(RepositoryKey repository, Digest subject, CancellationToken cancellationToken) =>
        await database.ListAsync(
            $"SELECT digest, media_type, {_dialect.ByteLength("content")}, artifact_type, annotations FROM manifests " +
            "WHERE registry=@r AND repository=@n AND subject=@s ORDER BY created_at, digest;",
            reader => new ReferrerRecord(Digest.Parse(reader.GetString(0)), reader.GetString(1), reader.GetInt64(2), StringOrNull(reader, 3), StringOrNull(reader, 4)),
            cancellationToken, ("r", repository.Registry), ("n", repository.Name), ("s", subject.ToString()));

    public Task CreateUploadAsync(UploadSession session, CancellationToken cancellationToken) =>
        database.ExecuteAsync("INSERT INTO uploads (id, registry, repository, started_at) VALUES (@id, @r, @n, @t);", cancellationToken,
            ("id", session.Id), ("r", session.Repository.Registry), ("n", session.Repository.Name), ("t", session.StartedAt.ToUnixTimeMilliseconds()));

    public async Task<UploadSession?> GetUploadOrNullAsync(string uploadId, CancellationToken cancellationToken) =>
        (await ListUploadsAsync("WHERE id=@id", cancellationToken, ("id", uploadId))).FirstOrDefault();

    public Task DeleteUploadAsync(string uploadId, CancellationToken cancellationToken) =>
        database.ExecuteAsync("DELETE FROM uploads WHERE id=@id;", cancellationToken, ("id", uploadId));

    public async Task DeleteRegistryContentAsync(string registry, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await _dialect.BeginWriteAsync(connection, null, cancellationToken);
        foreach (var table in new[] { "tags", "manifest_references", "manifests", "blob_links", "uploads", "repositories", "content_attributes", "pull_counts",
                     "deleted_manifests", "deleted_tags", "webhooks", "webhook_deliveries", "webhook_attempts",
                     "cache_rules", "credential_sets" })
            await ExecuteAsync(connection, $"DELETE FROM {table} WHERE registry=@r;", cancellationToken, ("r", registry));
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// ManifestService checked the references before this transaction; garbage collection may have removed a link or an
    /// untagged manifest since. Checking again under the write lock means a manifest never lands pointing at nothing.
    /// </summary>
    private static async Task EnsureReferencesPresentAsync(DbConnection connection, RepositoryKey repository, ManifestWrite write, CancellationToken cancellationToken)
    {
        foreach (var (referenced, sql) in write.BlobReferences.Select(d => (d, "SELECT 1 FROM blob_links WHERE registry=@r AND repository=@n AND digest=@d;"))
                     .Concat(write.ManifestReferences.Select(d => (d, "SELECT 1 FROM manifests WHERE registry=@r AND repository=@n AND digest=@d;"))))
        {
            if (await ScalarAsync(connection, sql, cancellationToken, Bind(repository, referenced)) is null)
                throw new OciException(OciErrorCode.ManifestBlobUnknown, $"{referenced} is no longer in repository {repository.Name}; push it again before the manifest",
                    new { digest = referenced.ToString() });
        }
    }

    public async Task<RepositoryContent> GetRepositoryContentAsync(RepositoryKey repository, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // One snapshot across the three queries (a WAL read transaction on SQLite, REPEATABLE READ on PostgreSQL).
        await using var transaction = await connection.BeginTransactionAsync(_dialect.SnapshotIsolation, cancellationToken);
        var parameters = new (string, object?)[] { ("r", repository.Registry), ("n", repository.Name) };

        var references = (await ListAsync(connection, "SELECT manifest, kind, referenced FROM manifest_references WHERE registry=@r AND repository=@n;",
            reader => (Key: (reader.GetString(0), reader.GetString(1)), Digest: Digest.Parse(reader.GetString(2))), cancellationToken, parameters))
            .ToLookup(reference => reference.Key, reference => reference.Digest);

        var manifests = await ListAsync(connection,
            $"""
            SELECT m.digest, m.created_at, m.subject, m.untagged_at,
                   EXISTS (SELECT 1 FROM tags t WHERE t.registry=m.registry AND t.repository=m.repository AND t.digest=m.digest),
                   EXISTS (SELECT 1 FROM content_attributes a WHERE a.registry=m.registry AND a.repository=m.repository
                           AND ({SqlContentLocks.RepositoryRow} OR (a.kind='manifest' AND a.key=m.digest)) AND {SqlContentLocks.Forbids})
            FROM manifests m WHERE m.registry=@r AND m.repository=@n;
            """,
            reader => new ManifestNode(Digest.Parse(reader.GetString(0)), Time(reader, 1), reader.GetBoolean(4),
                reader.IsDBNull(2) ? null : Digest.Parse(reader.GetString(2)),
                [.. references[(reader.GetString(0), "manifest")]], [.. references[(reader.GetString(0), "blob")]], reader.GetBoolean(5),
                reader.IsDBNull(3) ? null : Time(reader, 3)),
            cancellationToken, parameters);

        var links = await ListAsync(connection, $"SELECT digest, size, created_at FROM blob_links l WHERE registry=@r AND repository=@n AND NOT {SqlLifecycle.HeldOnlyBySoftDeleted};",
            reader => new BlobLinkInfo(Digest.Parse(reader.GetString(0)), reader.GetInt64(1), Time(reader, 2)), cancellationToken, parameters);
        await transaction.CommitAsync(cancellationToken);
        return new RepositoryContent(manifests, links);
    }

    public async Task<bool> DeleteManifestIfUnusedAsync(RepositoryKey repository, Digest digest, DateTimeOffset createdBefore, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await _dialect.BeginWriteAsync(connection, repository, cancellationToken);
        (string, object?)[] parameters = [.. Bind(repository, digest), ("before", createdBefore.ToUnixTimeMilliseconds())];
        var deleted = await ExecuteAsync(connection,
            $"""
            DELETE FROM manifests WHERE registry=@r AND repository=@n AND digest=@d AND created_at < @before
              AND NOT EXISTS (SELECT 1 FROM tags WHERE registry=@r AND repository=@n AND digest=@d)
              AND NOT EXISTS (SELECT 1 FROM manifest_references WHERE registry=@r AND repository=@n AND referenced=@d AND kind='manifest')
              AND (subject IS NULL OR NOT EXISTS (SELECT 1 FROM manifests s WHERE s.registry=@r AND s.repository=@n AND s.digest=manifests.subject))
              AND NOT EXISTS (SELECT 1 FROM content_attributes a WHERE a.registry=@r AND a.repository=@n
                              AND ({SqlContentLocks.RepositoryRow} OR (a.kind='manifest' AND a.key=@d)) AND {SqlContentLocks.Forbids});
            """, cancellationToken, parameters);
        if (deleted == 0) return false;
        await ExecuteAsync(connection, "DELETE FROM manifest_references WHERE registry=@r AND repository=@n AND manifest=@d;", cancellationToken, parameters);
        await ExecuteAsync(connection, "DELETE FROM content_attributes WHERE registry=@r AND repository=@n AND kind='manifest' AND key=@d;", cancellationToken, parameters);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<bool> DeleteExpiredUntaggedManifestAsync(RepositoryKey repository, Digest digest, DateTimeOffset untaggedFrom, DateTimeOffset untaggedBefore,
        CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await _dialect.BeginWriteAsync(connection, repository, cancellationToken);
        (string, object?)[] parameters = [.. Bind(repository, digest), ("from", untaggedFrom.ToUnixTimeMilliseconds()), ("before", untaggedBefore.ToUnixTimeMilliseconds())];
        var deleted = await ExecuteAsync(connection,
            $"""
            DELETE FROM manifests WHERE registry=@r AND repository=@n AND digest=@d AND untagged_at >= @from AND untagged_at < @before
              AND NOT EXISTS (SELECT 1 FROM tags WHERE registry=@r AND repository=@n AND digest=@d)
              AND NOT EXISTS (SELECT 1 FROM manifest_references WHERE registry=@r AND repository=@n AND referenced=@d AND kind='manifest')
              AND NOT EXISTS (SELECT 1 FROM manifests s WHERE s.registry=@r AND s.repository=@n AND s.subject=@d)
              AND NOT EXISTS (SELECT 1 FROM content_attributes a WHERE a.registry=@r AND a.repository=@n
                              AND ({SqlContentLocks.RepositoryRow} OR (a.kind='manifest' AND a.key=@d)) AND {SqlContentLocks.Forbids});
            """, cancellationToken, parameters);
        if (deleted == 0) return false;
        await ExecuteAsync(connection, "DELETE FROM manifest_references WHERE registry=@r AND repository=@n AND manifest=@d;", cancellationToken, parameters);
        await ExecuteAsync(connection, "DELETE FROM content_attributes WHERE registry=@r AND repository=@n AND kind='manifest' AND key=@d;", cancellationToken, parameters);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<bool> DeleteBlobLinkIfUnreferencedAsync(RepositoryKey repository, Digest digest, DateTimeOffset createdBefore, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // Under the repository's write lock, so a manifest PUT that has checked this link cannot commit its references after
        // the check below (on SQLite a lone DELETE takes the same database-wide write lock when it starts).
        await using var transaction = await _dialect.BeginWriteAsync(connection, repository, cancellationToken);
        var deleted = await ExecuteAsync(connection,
            """
            DELETE FROM blob_links WHERE registry=@r AND repository=@n AND digest=@d AND created_at < @before
              AND NOT EXISTS (SELECT 1 FROM manifest_references WHERE registry=@r AND repository=@n AND referenced=@d AND kind='blob');
            """, cancellationToken, [.. Bind(repository, digest), ("before", createdBefore.ToUnixTimeMilliseconds())]) > 0;
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }

    public async Task<IReadOnlyList<Digest>> FindLinkedBlobsAsync(IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken)
    {
        if (digests.Count == 0) return [];
        var distinct = digests.Distinct().ToList();
        await using var connection = await database.OpenAsync(cancellationToken);
        var linked = await _dialect.FindLinkedBlobsAsync(connection, distinct.Select(d => d.ToString()).ToList(), cancellationToken);
        return distinct.Where(d => linked.Contains(d.ToString())).ToList();
    }

    public async Task<IReadOnlyList<UploadSession>> ListUploadsStartedBeforeAsync(DateTimeOffset startedBefore, int limit, CancellationToken cancellationToken) =>
        await ListUploadsAsync("WHERE started_at < @before ORDER BY started_at LIMIT @limit", cancellationToken,
            ("before", startedBefore.ToUnixTimeMilliseconds()), ("limit", limit));

    private Task<List<UploadSession>> ListUploadsAsync(string where, CancellationToken cancellationToken, params (string, object?)[] parameters) =>
        database.ListAsync($"SELECT id, registry, repository, started_at FROM uploads {where};",
            reader => new UploadSession(reader.GetString(0), new RepositoryKey(reader.GetString(1), reader.GetString(2)), Time(reader, 3)),
            cancellationToken, parameters);

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    private static (string, object?)[] Bind(RepositoryKey repository, Digest digest) =>
        [("r", repository.Registry), ("n", repository.Name), ("d", digest.ToString())];

    private Task EnsureRepositoryAsync(DbConnection connection, RepositoryKey repository, CancellationToken cancellationToken) =>
        SqlLifecycle.EnsureRepositoryAsync(connection, _dialect, repository, Now(), cancellationToken);
}
