using Berth.Core.Storage;
using Berth.Oci;
using Microsoft.Data.Sqlite;

namespace Berth.Metadata.Sqlite;

internal sealed class SqliteMetadataStore(SqliteDatabase database, TimeProvider time) : IMetadataStore
{
    /// <summary>SQLite serves one node, so the maintenance lease only has to exclude this process's own collections.</summary>
    private readonly SemaphoreSlim _maintenance = new(1, 1);

    public async Task<IAsyncDisposable?> TryAcquireMaintenanceLeaseAsync(CancellationToken cancellationToken) =>
        await _maintenance.WaitAsync(TimeSpan.Zero, cancellationToken) ? new MaintenanceLease(_maintenance) : null;

    private sealed class MaintenanceLease(SemaphoreSlim held) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) held.Release();
            return ValueTask.CompletedTask;
        }
    }

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await ScalarAsync(connection, "SELECT 1;", cancellationToken);
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    public async Task<long?> GetLinkedBlobSizeOrNullAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var size = await ScalarAsync(connection,
            "SELECT size FROM blob_links WHERE registry=$r AND repository=$n AND digest=$d;", cancellationToken,
            ("$r", repository.Registry), ("$n", repository.Name), ("$d", digest.ToString()));
        return size is null ? null : (long)size;
    }

    public async Task<long> GetRegistrySizeAsync(string registry, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return (long)(await ScalarAsync(connection,
            """
            SELECT (SELECT COALESCE(SUM(size), 0) FROM (SELECT MAX(size) AS size FROM blob_links WHERE registry=$r GROUP BY digest))
                 + (SELECT COALESCE(SUM(size), 0) FROM (SELECT MAX(length(content)) AS size FROM manifests WHERE registry=$r GROUP BY digest));
            """, cancellationToken, ("$r", registry)))!;
    }

    public async Task<IReadOnlyList<string>> ListRepositoriesLinkingBlobAsync(string registry, Digest digest, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await ListStringsAsync(connection,
            "SELECT repository FROM blob_links WHERE registry=$r AND digest=$d ORDER BY repository LIMIT $limit;", cancellationToken,
            ("$r", registry), ("$d", digest.ToString()), ("$limit", limit));
    }

    public async Task LinkBlobAsync(RepositoryKey repository, Digest digest, long size, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        await EnsureRepositoryAsync(connection, repository, cancellationToken);
        await ExecuteAsync(connection,
            """
            INSERT INTO blob_links (registry, repository, digest, size, created_at) VALUES ($r, $n, $d, $s, $t)
              ON CONFLICT (registry, repository, digest) DO UPDATE SET created_at = MAX(created_at, excluded.created_at);
            """,
            cancellationToken, ("$r", repository.Registry), ("$n", repository.Name), ("$d", digest.ToString()), ("$s", size), ("$t", Now()));
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<bool> UnlinkBlobAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await ExecuteAsync(connection,
            "DELETE FROM blob_links WHERE registry=$r AND repository=$n AND digest=$d;", cancellationToken,
            ("$r", repository.Registry), ("$n", repository.Name), ("$d", digest.ToString())) > 0;
    }

    public async Task<ContentDeletion> DeleteBlobLinkAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        var locked = await SqliteContentLocks.FindAsync(connection, repository, SqliteContentLocks.RepositoryRow + " OR " + SqliteContentLocks.HoldersOfBlob, cancellationToken, ("$d", digest.ToString()));
        if (locked.Count > 0) return new ContentDeletion(true, locked);
        var deleted = await ExecuteAsync(connection,
            "DELETE FROM blob_links WHERE registry=$r AND repository=$n AND digest=$d;", cancellationToken,
            ("$r", repository.Registry), ("$n", repository.Name), ("$d", digest.ToString()));
        await transaction.CommitAsync(cancellationToken);
        return deleted > 0 ? ContentDeletion.Deleted : ContentDeletion.NotFound;
    }

    public Task<IReadOnlyList<Digest>> FindUnlinkedBlobsAsync(RepositoryKey repository, IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken) =>
        FindMissingAsync(repository, digests, "SELECT 1 FROM blob_links WHERE registry=$r AND repository=$n AND digest=$d;", cancellationToken);

    public Task<IReadOnlyList<Digest>> FindMissingManifestsAsync(RepositoryKey repository, IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken) =>
        FindMissingAsync(repository, digests, "SELECT 1 FROM manifests WHERE registry=$r AND repository=$n AND digest=$d;", cancellationToken);

    private async Task<IReadOnlyList<Digest>> FindMissingAsync(RepositoryKey repository, IReadOnlyCollection<Digest> digests, string sql, CancellationToken cancellationToken)
    {
        if (digests.Count == 0) return [];
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$r", repository.Registry);
        command.Parameters.AddWithValue("$n", repository.Name);
        var digestParameter = command.Parameters.Add("$d", SqliteType.Text);
        var missing = new List<Digest>();
        foreach (var digest in digests.Distinct())
        {
            digestParameter.Value = digest.ToString();
            if (await command.ExecuteScalarAsync(cancellationToken) is null) missing.Add(digest);
        }
        return missing;
    }

    public async Task<StoredManifest?> GetManifestOrNullAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT media_type, content, artifact_type, subject, annotations, created_at FROM manifests WHERE registry=$r AND repository=$n AND digest=$d;";
        command.Parameters.AddWithValue("$r", repository.Registry);
        command.Parameters.AddWithValue("$n", repository.Name);
        command.Parameters.AddWithValue("$d", digest.ToString());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new StoredManifest(
            digest,
            reader.GetString(0),
            (byte[])reader.GetValue(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : Digest.Parse(reader.GetString(3)),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)));
    }

    public async Task<Digest?> GetTagOrNullAsync(RepositoryKey repository, string tag, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var digest = await ScalarAsync(connection, "SELECT digest FROM tags WHERE registry=$r AND repository=$n AND tag=$t;", cancellationToken,
            ("$r", repository.Registry), ("$n", repository.Name), ("$t", tag));
        return digest is null ? null : Digest.Parse((string)digest);
    }

    public async Task PutManifestAsync(RepositoryKey repository, ManifestWrite write, CancellationToken cancellationToken)
    {
        var manifest = write.Manifest;
        var digest = manifest.Digest.ToString();
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        await EnsureRepositoryAsync(connection, repository, cancellationToken);
        await EnsureReferencesPresentAsync(connection, repository, write, cancellationToken);
        var inserted = await ExecuteAsync(connection,
            """
            INSERT OR IGNORE INTO manifests (registry, repository, digest, media_type, artifact_type, subject, annotations, content, created_at)
            VALUES ($r, $n, $d, $m, $a, $s, $ann, $c, $t);
            """, cancellationToken,
            ("$r", repository.Registry), ("$n", repository.Name), ("$d", digest), ("$m", manifest.MediaType),
            ("$a", manifest.ArtifactType), ("$s", manifest.Subject?.ToString()), ("$ann", manifest.AnnotationsJson),
            ("$c", manifest.Content), ("$t", manifest.CreatedAt.ToUnixTimeMilliseconds()));
        if (inserted > 0)
        {
            foreach (var (referenced, kind) in write.BlobReferences.Select(d => (d, "blob")).Concat(write.ManifestReferences.Select(d => (d, "manifest"))))
            {
                await ExecuteAsync(connection,
                    "INSERT OR IGNORE INTO manifest_references (registry, repository, manifest, referenced, kind) VALUES ($r, $n, $m, $ref, $k);",
                    cancellationToken, ("$r", repository.Registry), ("$n", repository.Name), ("$m", digest), ("$ref", referenced.ToString()), ("$k", kind));
            }
        }
        if (write.Tag is not null)
        {
            await ExecuteAsync(connection,
                """
                INSERT INTO tags (registry, repository, tag, digest, updated_at, created_at) VALUES ($r, $n, $tag, $d, $t, $t)
                ON CONFLICT (registry, repository, tag) DO UPDATE SET digest=excluded.digest, updated_at=excluded.updated_at;
                """, cancellationToken,
                ("$r", repository.Registry), ("$n", repository.Name), ("$tag", write.Tag), ("$d", digest), ("$t", Now()));
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<ContentDeletion> DeleteManifestAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        // Deleting the manifest deletes its tags too, so a lock on any of them keeps it.
        var locked = await SqliteContentLocks.FindAsync(connection, repository,
            $"{SqliteContentLocks.RepositoryRow} OR (a.kind='manifest' AND a.key=$d) OR " +
            "(a.kind='tag' AND a.key IN (SELECT tag FROM tags WHERE registry=$r AND repository=$n AND digest=$d))",
            cancellationToken, ("$d", digest.ToString()));
        if (locked.Count > 0) return new ContentDeletion(true, locked);
        var parameters = new (string, object?)[] { ("$r", repository.Registry), ("$n", repository.Name), ("$d", digest.ToString()) };
        var deleted = await ExecuteAsync(connection, "DELETE FROM manifests WHERE registry=$r AND repository=$n AND digest=$d;", cancellationToken, parameters);
        // Unlocked attributes belong to the manifest and its tags; they go with them, so a later push of the same name starts afresh.
        await ExecuteAsync(connection,
            """
            DELETE FROM content_attributes WHERE registry=$r AND repository=$n AND (
                (kind='manifest' AND key=$d) OR
                (kind='tag' AND key IN (SELECT tag FROM tags WHERE registry=$r AND repository=$n AND digest=$d)));
            """, cancellationToken, parameters);
        await ExecuteAsync(connection, "DELETE FROM tags WHERE registry=$r AND repository=$n AND digest=$d;", cancellationToken, parameters);
        await ExecuteAsync(connection, "DELETE FROM manifest_references WHERE registry=$r AND repository=$n AND manifest=$d;", cancellationToken, parameters);
        await transaction.CommitAsync(cancellationToken);
        return deleted > 0 ? ContentDeletion.Deleted : ContentDeletion.NotFound;
    }

    public async Task<ContentDeletion> DeleteTagAsync(RepositoryKey repository, string tag, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        var locked = await SqliteContentLocks.FindAsync(connection, repository, $"{SqliteContentLocks.RepositoryRow} OR (a.kind='tag' AND a.key=$t)",
            cancellationToken, ("$t", tag));
        if (locked.Count > 0) return new ContentDeletion(true, locked);
        var parameters = new (string, object?)[] { ("$r", repository.Registry), ("$n", repository.Name), ("$t", tag) };
        var deleted = await ExecuteAsync(connection, "DELETE FROM tags WHERE registry=$r AND repository=$n AND tag=$t;", cancellationToken, parameters);
        await ExecuteAsync(connection, "DELETE FROM content_attributes WHERE registry=$r AND repository=$n AND kind='tag' AND key=$t;", cancellationToken, parameters);
        await transaction.CommitAsync(cancellationToken);
        return deleted > 0 ? ContentDeletion.Deleted : ContentDeletion.NotFound;
    }

    public async Task<IReadOnlyList<string>> ListTagsAsync(RepositoryKey repository, int limit, string? last, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await ListStringsAsync(connection,
            "SELECT tag FROM tags WHERE registry=$r AND repository=$n AND tag > $last ORDER BY tag LIMIT $limit;", cancellationToken,
            ("$r", repository.Registry), ("$n", repository.Name), ("$last", last ?? ""), ("$limit", limit));
    }

    public async Task<bool> RepositoryExistsAsync(RepositoryKey repository, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await ScalarAsync(connection, "SELECT 1 FROM repositories WHERE registry=$r AND name=$n;", cancellationToken,
            ("$r", repository.Registry), ("$n", repository.Name)) is not null;
    }

    public async Task<IReadOnlyList<string>> ListRepositoriesAsync(string registry, int limit, string? last, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await ListStringsAsync(connection,
            "SELECT name FROM repositories WHERE registry=$r AND name > $last ORDER BY name LIMIT $limit;", cancellationToken,
            ("$r", registry), ("$last", last ?? ""), ("$limit", limit));
    }

    public async Task<IReadOnlyList<ReferrerRecord>> ListReferrersAsync(RepositoryKey repository, Digest subject, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT digest, media_type, length(content), artifact_type, annotations FROM manifests WHERE registry=$r AND repository=$n AND subject=$s ORDER BY created_at, digest;";
        command.Parameters.AddWithValue("$r", repository.Registry);
        command.Parameters.AddWithValue("$n", repository.Name);
        command.Parameters.AddWithValue("$s", subject.ToString());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<ReferrerRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new ReferrerRecord(Digest.Parse(reader.GetString(0)), reader.GetString(1), reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }
        return result;
    }

    public async Task CreateUploadAsync(UploadSession session, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await ExecuteAsync(connection, "INSERT INTO uploads (id, registry, repository, started_at) VALUES ($id, $r, $n, $t);", cancellationToken,
            ("$id", session.Id), ("$r", session.Repository.Registry), ("$n", session.Repository.Name), ("$t", session.StartedAt.ToUnixTimeMilliseconds()));
    }

    public async Task<UploadSession?> GetUploadOrNullAsync(string uploadId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT registry, repository, started_at FROM uploads WHERE id=$id;";
        command.Parameters.AddWithValue("$id", uploadId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new UploadSession(uploadId, new RepositoryKey(reader.GetString(0), reader.GetString(1)),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)));
    }

    public async Task DeleteUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await ExecuteAsync(connection, "DELETE FROM uploads WHERE id=$id;", cancellationToken, ("$id", uploadId));
    }

    public async Task DeleteRegistryContentAsync(string registry, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        foreach (var table in new[] { "tags", "manifest_references", "manifests", "blob_links", "uploads", "repositories", "content_attributes" })
            await ExecuteAsync(connection, $"DELETE FROM {table} WHERE registry=$r;", cancellationToken, ("$r", registry));
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// ManifestService checked the references before this transaction; garbage collection may have removed a link or an
    /// untagged manifest since. Checking again under the write lock means a manifest never lands pointing at nothing.
    /// </summary>
    private static async Task EnsureReferencesPresentAsync(SqliteConnection connection, RepositoryKey repository, ManifestWrite write, CancellationToken cancellationToken)
    {
        foreach (var (referenced, sql) in write.BlobReferences.Select(d => (d, "SELECT 1 FROM blob_links WHERE registry=$r AND repository=$n AND digest=$d;"))
                     .Concat(write.ManifestReferences.Select(d => (d, "SELECT 1 FROM manifests WHERE registry=$r AND repository=$n AND digest=$d;"))))
        {
            if (await ScalarAsync(connection, sql, cancellationToken, ("$r", repository.Registry), ("$n", repository.Name), ("$d", referenced.ToString())) is null)
                throw new OciException(OciErrorCode.ManifestBlobUnknown, $"{referenced} is no longer in repository {repository.Name}; push it again before the manifest",
                    new { digest = referenced.ToString() });
        }
    }

    public async Task<RepositoryContent> GetRepositoryContentAsync(RepositoryKey repository, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // A read transaction: WAL gives it one snapshot across the three queries.
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);
        var parameters = new (string, object?)[] { ("$r", repository.Registry), ("$n", repository.Name) };

        var references = new Dictionary<string, (List<Digest> Manifests, List<Digest> Blobs)>();
        await using (var command = Prepare(connection, "SELECT manifest, referenced, kind FROM manifest_references WHERE registry=$r AND repository=$n;", parameters))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var manifest = reader.GetString(0);
                if (!references.TryGetValue(manifest, out var lists)) references[manifest] = lists = ([], []);
                (reader.GetString(2) == "manifest" ? lists.Manifests : lists.Blobs).Add(Digest.Parse(reader.GetString(1)));
            }
        }

        var manifests = new List<ManifestNode>();
        await using (var command = Prepare(connection,
            $"""
            SELECT m.digest, m.created_at, m.subject,
                   EXISTS (SELECT 1 FROM tags t WHERE t.registry=m.registry AND t.repository=m.repository AND t.digest=m.digest),
                   EXISTS (SELECT 1 FROM content_attributes a WHERE a.registry=m.registry AND a.repository=m.repository
                           AND ({SqliteContentLocks.RepositoryRow} OR (a.kind='manifest' AND a.key=m.digest)) AND {SqliteContentLocks.Forbids})
            FROM manifests m WHERE m.registry=$r AND m.repository=$n;
            """, parameters))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var digest = reader.GetString(0);
                references.TryGetValue(digest, out var lists);
                manifests.Add(new ManifestNode(Digest.Parse(digest), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), reader.GetInt64(3) != 0,
                    reader.IsDBNull(2) ? null : Digest.Parse(reader.GetString(2)), lists.Manifests ?? [], lists.Blobs ?? [], reader.GetInt64(4) != 0));
            }
        }

        var links = new List<BlobLinkInfo>();
        await using (var command = Prepare(connection, "SELECT digest, size, created_at FROM blob_links WHERE registry=$r AND repository=$n;", parameters))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                links.Add(new BlobLinkInfo(Digest.Parse(reader.GetString(0)), reader.GetInt64(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))));
        }
        return new RepositoryContent(manifests, links);
    }

    public async Task<bool> DeleteManifestIfUnusedAsync(RepositoryKey repository, Digest digest, DateTimeOffset createdBefore, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        var parameters = new (string, object?)[] { ("$r", repository.Registry), ("$n", repository.Name), ("$d", digest.ToString()), ("$before", createdBefore.ToUnixTimeMilliseconds()) };
        var deleted = await ExecuteAsync(connection,
            $"""
            DELETE FROM manifests WHERE registry=$r AND repository=$n AND digest=$d AND created_at < $before
              AND NOT EXISTS (SELECT 1 FROM tags WHERE registry=$r AND repository=$n AND digest=$d)
              AND NOT EXISTS (SELECT 1 FROM manifest_references WHERE registry=$r AND repository=$n AND referenced=$d AND kind='manifest')
              AND (subject IS NULL OR NOT EXISTS (SELECT 1 FROM manifests s WHERE s.registry=$r AND s.repository=$n AND s.digest=manifests.subject))
              AND NOT EXISTS (SELECT 1 FROM content_attributes a WHERE a.registry=$r AND a.repository=$n
                              AND ({SqliteContentLocks.RepositoryRow} OR (a.kind='manifest' AND a.key=$d)) AND {SqliteContentLocks.Forbids});
            """, cancellationToken, parameters);
        if (deleted == 0) return false;
        await ExecuteAsync(connection, "DELETE FROM manifest_references WHERE registry=$r AND repository=$n AND manifest=$d;", cancellationToken, parameters);
        await ExecuteAsync(connection, "DELETE FROM content_attributes WHERE registry=$r AND repository=$n AND kind='manifest' AND key=$d;", cancellationToken, parameters);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<bool> DeleteBlobLinkIfUnreferencedAsync(RepositoryKey repository, Digest digest, DateTimeOffset createdBefore, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await ExecuteAsync(connection,
            """
            DELETE FROM blob_links WHERE registry=$r AND repository=$n AND digest=$d AND created_at < $before
              AND NOT EXISTS (SELECT 1 FROM manifest_references WHERE registry=$r AND repository=$n AND referenced=$d AND kind='blob');
            """, cancellationToken,
            ("$r", repository.Registry), ("$n", repository.Name), ("$d", digest.ToString()), ("$before", createdBefore.ToUnixTimeMilliseconds())) > 0;
    }

    public async Task<IReadOnlyList<Digest>> FindLinkedBlobsAsync(IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken)
    {
        if (digests.Count == 0) return [];
        await using var connection = await database.OpenAsync(cancellationToken);
        // The digest index leads with the registry: look a digest up once per registry that has links at all.
        var registries = await ListStringsAsync(connection, "SELECT DISTINCT registry FROM blob_links;", cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM blob_links WHERE registry=$r AND digest=$d;";
        var registryParameter = command.Parameters.Add("$r", SqliteType.Text);
        var digestParameter = command.Parameters.Add("$d", SqliteType.Text);
        var linked = new List<Digest>();
        foreach (var digest in digests.Distinct())
        {
            digestParameter.Value = digest.ToString();
            foreach (var registry in registries)
            {
                registryParameter.Value = registry;
                if (await command.ExecuteScalarAsync(cancellationToken) is null) continue;
                linked.Add(digest);
                break;
            }
        }
        return linked;
    }

    public async Task<IReadOnlyList<UploadSession>> ListUploadsStartedBeforeAsync(DateTimeOffset startedBefore, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Prepare(connection,
            "SELECT id, registry, repository, started_at FROM uploads WHERE started_at < $before ORDER BY started_at LIMIT $limit;",
            [("$before", startedBefore.ToUnixTimeMilliseconds()), ("$limit", limit)]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<UploadSession>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new UploadSession(reader.GetString(0), new RepositoryKey(reader.GetString(1), reader.GetString(2)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
        }
        return result;
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    private Task EnsureRepositoryAsync(SqliteConnection connection, RepositoryKey repository, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, "INSERT OR IGNORE INTO repositories (registry, name, created_at) VALUES ($r, $n, $t);", cancellationToken,
            ("$r", repository.Registry), ("$n", repository.Name), ("$t", Now()));

    /// <summary>
    /// Write transactions take the write lock up front (BEGIN IMMEDIATE) so that two writers never both read
    /// and then deadlock upgrading; the busy timeout makes the second one wait.
    /// </summary>
    private static async Task<SqliteTransaction> BeginWriteAsync(SqliteConnection connection, CancellationToken cancellationToken) =>
        (SqliteTransaction)await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken);

    private static async Task<int> ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Prepare(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Prepare(connection, sql, parameters);
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    private static async Task<IReadOnlyList<string>> ListStringsAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Prepare(connection, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<string>();
        while (await reader.ReadAsync(cancellationToken)) result.Add(reader.GetString(0));
        return result;
    }

    private static SqliteCommand Prepare(SqliteConnection connection, string sql, (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }
}
