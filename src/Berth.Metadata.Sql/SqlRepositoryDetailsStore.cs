using Berth.Core.Webhooks;
using static Berth.Metadata.Sql.SqlCommands;

namespace Berth.Metadata.Sql;

internal sealed class SqlRepositoryDetailsStore(SqlDatabase database, TimeProvider time) : IRepositoryDetailsStore
{
    private const string AttributeColumns = "a.delete_enabled, a.write_enabled, a.read_enabled, a.list_enabled";
    private const string PullColumns = "p.anonymous_pulls, p.authenticated_pulls, p.last_pulled_at";

    private readonly SqlDialect _dialect = database.Dialect;

    public async Task<RepositoryDetails?> GetRepositoryOrNullAsync(RepositoryKey repository, CancellationToken cancellationToken)
    {
        var lastUpdate = _dialect.Greatest("r.created_at",
            "coalesce((SELECT max(created_at) FROM manifests WHERE registry=@r AND repository=@n), 0)",
            "coalesce((SELECT max(updated_at) FROM tags WHERE registry=@r AND repository=@n), 0)");
        return (await QueryAsync(repository,
            $"""
            SELECT r.created_at, {lastUpdate},
                   (SELECT CAST(count(*) AS INTEGER) FROM manifests WHERE registry=@r AND repository=@n),
                   (SELECT CAST(count(*) AS INTEGER) FROM tags WHERE registry=@r AND repository=@n),
                   {AttributeColumns}, {PullColumns}
            FROM repositories r
            LEFT JOIN content_attributes a ON a.registry=r.registry AND a.repository=r.name AND a.kind='repository' AND a.key=''
            LEFT JOIN pull_counts p ON p.registry=r.registry AND p.repository=r.name AND p.tag=''
            WHERE r.registry=@r AND r.name=@n;
            """,
            reader => new RepositoryDetails(repository.Name, Time(reader, 0), Time(reader, 1), reader.GetInt32(2), reader.GetInt32(3), Attributes(reader, 4))
            {
                Pulls = Pulls(reader, 8),
            },
            cancellationToken)).FirstOrDefault();
    }

    public async Task<IReadOnlyList<TagDetails>> ListTagsAsync(RepositoryKey repository, int limit, string? last, ListOrder order, CancellationToken cancellationToken) =>
        await ReadTagsAsync(repository, Page("t", "tag", "updated_at", order), cancellationToken, [("last", last ?? ""), ("limit", limit)]);

    public async Task<IReadOnlyList<TagDetails>> SearchTagsAsync(RepositoryKey repository, string contains, TagPosition? from, bool before, int limit, CancellationToken cancellationToken)
    {
        // The page's keys first: a walk of tags_by_push from the cursor (forwards, or backwards for the page before it),
        // filtered by the search and by listEnabled along the walk and stopped at the limit. Only those rows are then
        // joined with their attributes and pull counts, so a deep page costs what the first one does.
        var search = contains.Length == 0 ? "" : "AND " + _dialect.ContainsIgnoringCase("s.tag", "@q");
        var (seek, walk) = (from, before) switch
        {
            (null, _) => ("", "s.updated_at DESC, s.tag"),
            (_, false) => ("AND s.updated_at <= @at AND (s.updated_at < @at OR s.tag > @tag)", "s.updated_at DESC, s.tag"),
            (_, true) => ("AND s.updated_at >= @at AND (s.updated_at > @at OR s.tag < @tag)", "s.updated_at ASC, s.tag DESC"),
        };
        var page =
            $"""
            (SELECT s.registry, s.repository, s.tag, s.digest, s.created_at, s.updated_at FROM tags s
             WHERE s.registry=@r AND s.repository=@n {seek} {search}
               AND NOT EXISTS (SELECT 1 FROM content_attributes h WHERE h.registry=s.registry AND h.repository=s.repository
                               AND h.kind='tag' AND h.key=s.tag AND h.list_enabled=FALSE)
             ORDER BY {walk} LIMIT @limit)
            """;
        return await ReadTagsAsync(repository, "ORDER BY t.updated_at DESC, t.tag", cancellationToken,
            [("q", contains), ("limit", limit), ("at", from?.Pushed.ToUnixTimeMilliseconds()), ("tag", from?.Tag)], page);
    }

    public async Task<IReadOnlyList<string>> SearchRepositoriesAsync(string registry, string contains, int limit, string? last, CancellationToken cancellationToken)
    {
        var search = contains.Length == 0 ? "" : "AND " + _dialect.ContainsIgnoringCase("name", "@q");
        return await database.ListAsync($"SELECT name FROM repositories WHERE registry=@r AND name > @last {search} ORDER BY name LIMIT @limit;", Text, cancellationToken,
            [("r", registry), ("last", last ?? ""), ("limit", limit), .. contains.Length == 0 ? Array.Empty<(string, object?)>() : [("q", contains)]]);
    }

    public async Task<TagDetails?> GetTagOrNullAsync(RepositoryKey repository, string tag, CancellationToken cancellationToken) =>
        (await ReadTagsAsync(repository, "WHERE t.registry=@r AND t.repository=@n AND t.tag=@t", cancellationToken, [("t", tag)])).FirstOrDefault();

    public async Task<IReadOnlyList<ManifestDetails>> ListManifestsAsync(RepositoryKey repository, int limit, string? last, ListOrder order, CancellationToken cancellationToken) =>
        await ReadManifestsAsync(repository, Page("m", "digest", "created_at", order), cancellationToken, ("last", last ?? ""), ("limit", limit));

    public async Task<ManifestDetails?> GetManifestOrNullAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken) =>
        (await ReadManifestsAsync(repository, "WHERE m.registry=@r AND m.repository=@n AND m.digest=@d", cancellationToken, ("d", digest.ToString()))).FirstOrDefault();

    public async Task<bool> SetAttributesAsync(RepositoryKey repository, AttributeTarget target, string key, ContentAttributes attributes, CancellationToken cancellationToken)
    {
        var (kind, existence) = target switch
        {
            AttributeTarget.Repository => ("repository", "SELECT 1 FROM repositories WHERE registry=@r AND name=@n"),
            AttributeTarget.Tag => ("tag", "SELECT 1 FROM tags WHERE registry=@r AND repository=@n AND tag=@k"),
            _ => ("manifest", "SELECT 1 FROM manifests WHERE registry=@r AND repository=@n AND digest=@k"),
        };
        await using var connection = await database.OpenAsync(cancellationToken);
        // Under the repository's write lock, which deletes take too, so the target cannot vanish between the existence
        // check and the write, and a delete's lock check sees this change or runs after it.
        await using var transaction = await _dialect.BeginWriteAsync(connection, repository, cancellationToken);
        await using var command = Command(connection, repository,
            $"""
            INSERT INTO content_attributes (registry, repository, kind, key, delete_enabled, write_enabled, read_enabled, list_enabled)
            SELECT @r, @n, @kind, @k, @de, @we, @re, @le WHERE EXISTS ({existence})
            ON CONFLICT (registry, repository, kind, key) DO UPDATE SET delete_enabled=excluded.delete_enabled,
                write_enabled=excluded.write_enabled, read_enabled=excluded.read_enabled, list_enabled=excluded.list_enabled;
            """,
            ("kind", kind), ("k", target == AttributeTarget.Repository ? "" : key),
            ("de", attributes.DeleteEnabled), ("we", attributes.WriteEnabled), ("re", attributes.ReadEnabled), ("le", attributes.ListEnabled));
        var written = await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        await transaction.CommitAsync(cancellationToken);
        return written;
    }

    public async Task<EffectiveAttributes> GetEffectiveAttributesAsync(RepositoryKey repository, string? tag, Digest? manifest, CancellationToken cancellationToken)
    {
        // A missing tag or manifest binds NULL, which matches no key; the casts give the NULL a type PostgreSQL can compare.
        var rows = await QueryAsync(repository,
            """
            SELECT kind, delete_enabled, write_enabled, read_enabled, list_enabled FROM content_attributes
            WHERE registry=@r AND repository=@n AND ((kind='repository' AND key='') OR (kind='tag' AND key=CAST(@t AS TEXT)) OR (kind='manifest' AND key=CAST(@d AS TEXT)));
            """,
            reader => (Kind: reader.GetString(0), Attributes: Attributes(reader, 1)), cancellationToken, ("t", tag), ("d", manifest?.ToString()));
        ContentAttributes Of(string kind) => rows.LastOrDefault(row => row.Kind == kind).Attributes ?? ContentAttributes.Default;
        return new EffectiveAttributes(Of("repository"), tag is null ? null : Of("tag"), manifest is null ? null : Of("manifest"));
    }

    public async Task<RepositoryDeletion?> DeleteRepositoryAsync(RepositoryKey repository, bool softDelete, EventRequest? request, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await _dialect.BeginWriteAsync(connection, repository, cancellationToken);
        // ACR refuses to delete a repository that holds a locked image; checked under the transaction's write lock, so nothing
        // locked meanwhile is lost, and nothing at all is deleted when something is locked.
        var locked = await SqlContentLocks.FindAsync(connection, repository, "1=1", cancellationToken);
        if (locked.Count > 0) return new RepositoryDeletion([], [], locked);
        (string, object?)[] parameters = [("r", repository.Registry), ("n", repository.Name), ("now", time.GetUtcNow().ToUnixTimeMilliseconds())];
        // A delete event for every manifest, its tags being what a webhook's scope is matched against, as ACR fires them for a repository delete.
        var events = await ListAsync(connection,
            $"SELECT digest, media_type, {_dialect.SortedLines("tag", "FROM tags t WHERE t.registry=m.registry AND t.repository=m.repository AND t.digest=m.digest")} " +
            "FROM manifests m WHERE registry=@r AND repository=@n ORDER BY digest;",
            reader => new ContentEvent(WebhookActions.Delete, repository, null, Digest.Parse(reader.GetString(0)), reader.GetString(1), null,
                reader.IsDBNull(2) ? [] : reader.GetString(2).Split('\n'), request),
            cancellationToken, parameters);
        var manifests = events.Select(e => e.Digest.ToString()).ToList();
        var tags = await ListAsync(connection, "SELECT tag FROM tags WHERE registry=@r AND repository=@n ORDER BY tag;", Text, cancellationToken, parameters);
        if (softDelete)
        {
            await ExecuteAsync(connection, SqlLifecycle.KeepManifests(""), cancellationToken, parameters);
            await ExecuteAsync(connection, SqlLifecycle.KeepTags(""), cancellationToken, parameters);
        }
        // Soft-deleted manifests keep their references and blob links for a restore; a purge removes them.
        var tables = softDelete ? new[] { "tags", "manifests", "content_attributes", "pull_counts" }
            : ["tags", "manifest_references", "manifests", "blob_links", "content_attributes", "pull_counts"];
        foreach (var table in tables)
            await ExecuteAsync(connection, $"DELETE FROM {table} WHERE registry=@r AND repository=@n;", cancellationToken, parameters);
        // The repository row goes last: zero rows means there was no such repository.
        var deleted = await ExecuteAsync(connection, "DELETE FROM repositories WHERE registry=@r AND name=@n;", cancellationToken, parameters);
        foreach (var change in deleted == 0 ? [] : events)
            await SqlWebhookOutbox.AddAsync(connection, change, time.GetUtcNow(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return deleted == 0 ? null : new RepositoryDeletion(manifests, tags, []);
    }

    /// <summary>Tags of <paramref name="rows"/> (the tags table, or a subquery of its columns), with their attributes and pull counts.</summary>
    private Task<List<TagDetails>> ReadTagsAsync(RepositoryKey repository, string where, CancellationToken cancellationToken, (string, object?)[] parameters, string rows = "tags") =>
        QueryAsync(repository,
            $"""
            SELECT t.tag, t.digest, coalesce(t.created_at, t.updated_at), t.updated_at, {AttributeColumns}, {PullColumns} FROM {rows} t
            LEFT JOIN content_attributes a ON a.registry=t.registry AND a.repository=t.repository AND a.kind='tag' AND a.key=t.tag
            LEFT JOIN pull_counts p ON p.registry=t.registry AND p.repository=t.repository AND p.tag=t.tag
            {where};
            """,
            reader => new TagDetails(reader.GetString(0), Digest.Parse(reader.GetString(1)), Time(reader, 2), Time(reader, 3), Attributes(reader, 4))
            {
                Pulls = Pulls(reader, 8),
            },
            cancellationToken, parameters);

    private Task<List<ManifestDetails>> ReadManifestsAsync(RepositoryKey repository, string where, CancellationToken cancellationToken, params (string, object?)[] parameters) =>
        QueryAsync(repository,
            $"""
            SELECT m.digest, {_dialect.ByteLength("m.content")}, m.created_at, m.media_type, m.artifact_type,
                   {_dialect.SortedLines("tag", "FROM tags WHERE registry=m.registry AND repository=m.repository AND digest=m.digest")},
                   {AttributeColumns}
            FROM manifests m
            LEFT JOIN content_attributes a ON a.registry=m.registry AND a.repository=m.repository AND a.kind='manifest' AND a.key=m.digest
            {where};
            """,
            reader => new ManifestDetails(Digest.Parse(reader.GetString(0)), reader.GetInt64(1), Time(reader, 2), Time(reader, 2), reader.GetString(3),
                StringOrNull(reader, 4), reader.IsDBNull(5) ? [] : reader.GetString(5).Split('\n'), Attributes(reader, 6)),
            cancellationToken, parameters);

    /// <summary>
    /// A page of the repository's rows of <paramref name="table"/> (an alias). Name order pages with <c>last</c> as the spec
    /// does; time orders ignore <c>last</c> and page by count only.
    /// </summary>
    private static string Page(string table, string name, string time, ListOrder order)
    {
        var (filter, orderBy) = order switch
        {
            ListOrder.TimeDescending => ("", $"{table}.{time} DESC, {table}.{name}"),
            ListOrder.TimeAscending => ("", $"{table}.{time} ASC, {table}.{name}"),
            _ => ($"AND {table}.{name} > @last", $"{table}.{name}"),
        };
        return $"WHERE {table}.registry=@r AND {table}.repository=@n {filter} ORDER BY {orderBy} LIMIT @limit";
    }

    private async Task<List<T>> QueryAsync<T>(RepositoryKey repository, string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken,
        params (string Name, object? Value)[] parameters)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Command(connection, repository, sql, parameters);
        return await ReadAllAsync(command, read, cancellationToken);
    }

    /// <summary>@r and @n bound to the repository, plus those of <paramref name="parameters"/> the statement uses.</summary>
    private static DbCommand Command(DbConnection connection, RepositoryKey repository, string sql, params (string Name, object? Value)[] parameters) =>
        Prepare(connection, sql,
            [("r", repository.Registry), ("n", repository.Name), .. parameters.Where(p => sql.Contains("@" + p.Name, StringComparison.Ordinal))]);

    /// <summary>Reads four attribute columns from a LEFT JOIN; no row means every attribute enabled.</summary>
    private static ContentAttributes Attributes(DbDataReader reader, int first) =>
        reader.IsDBNull(first)
            ? ContentAttributes.Default
            : new ContentAttributes(reader.GetBoolean(first), reader.GetBoolean(first + 1), reader.GetBoolean(first + 2), reader.GetBoolean(first + 3));

    /// <summary>Reads three pull count columns from a LEFT JOIN; no row means never pulled (or not flushed yet).</summary>
    private static PullCounts Pulls(DbDataReader reader, int first) =>
        reader.IsDBNull(first) ? PullCounts.None : new PullCounts(reader.GetInt64(first), reader.GetInt64(first + 1), Time(reader, first + 2));
}
