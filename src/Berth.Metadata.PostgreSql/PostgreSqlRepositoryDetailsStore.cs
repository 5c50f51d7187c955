using Berth.Core.Content;
using Berth.Core.Storage;
using Berth.Oci;
using Npgsql;
using static Berth.Metadata.PostgreSql.PostgreSqlCommands;

namespace Berth.Metadata.PostgreSql;

internal sealed class PostgreSqlRepositoryDetailsStore(PostgreSqlDatabase database) : IRepositoryDetailsStore
{
    private const string AttributeColumns = "a.delete_enabled, a.write_enabled, a.read_enabled, a.list_enabled";

    public async Task<RepositoryDetails?> GetRepositoryOrNullAsync(RepositoryKey repository, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Command(connection, repository,
            $"""
            SELECT r.created_at,
                   greatest(r.created_at, coalesce((SELECT max(created_at) FROM manifests WHERE registry=@r AND repository=@n), 0),
                                          coalesce((SELECT max(updated_at) FROM tags WHERE registry=@r AND repository=@n), 0)),
                   (SELECT count(*)::int FROM manifests WHERE registry=@r AND repository=@n),
                   (SELECT count(*)::int FROM tags WHERE registry=@r AND repository=@n),
                   {AttributeColumns}
            FROM repositories r
            LEFT JOIN content_attributes a ON a.registry=r.registry AND a.repository=r.name AND a.kind='repository' AND a.key=''
            WHERE r.registry=@r AND r.name=@n;
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new RepositoryDetails(repository.Name, Time(reader, 0), Time(reader, 1), reader.GetInt32(2), reader.GetInt32(3), Attributes(reader, 4));
    }

    public async Task<IReadOnlyList<TagDetails>> ListTagsAsync(RepositoryKey repository, int limit, string? last, ListOrder order, CancellationToken cancellationToken)
    {
        var (filter, orderBy) = Paging(order, "t.tag", "t.updated_at");
        return await ReadTagsAsync(repository, $"WHERE t.registry=@r AND t.repository=@n {filter} ORDER BY {orderBy} LIMIT @limit", cancellationToken,
            ("last", last ?? ""), ("limit", limit));
    }

    public async Task<TagDetails?> GetTagOrNullAsync(RepositoryKey repository, string tag, CancellationToken cancellationToken)
    {
        var found = await ReadTagsAsync(repository, "WHERE t.registry=@r AND t.repository=@n AND t.tag=@t", cancellationToken, ("t", tag));
        return found.Count == 0 ? null : found[0];
    }

    public async Task<IReadOnlyList<ManifestDetails>> ListManifestsAsync(RepositoryKey repository, int limit, string? last, ListOrder order, CancellationToken cancellationToken)
    {
        var (filter, orderBy) = Paging(order, "m.digest", "m.created_at");
        return await ReadManifestsAsync(repository, $"WHERE m.registry=@r AND m.repository=@n {filter} ORDER BY {orderBy} LIMIT @limit", cancellationToken,
            ("last", last ?? ""), ("limit", limit));
    }

    public async Task<ManifestDetails?> GetManifestOrNullAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken)
    {
        var found = await ReadManifestsAsync(repository, "WHERE m.registry=@r AND m.repository=@n AND m.digest=@d", cancellationToken, ("d", digest.ToString()));
        return found.Count == 0 ? null : found[0];
    }

    public async Task<bool> SetAttributesAsync(RepositoryKey repository, AttributeTarget target, string key, ContentAttributes attributes, CancellationToken cancellationToken)
    {
        var (kind, existence) = target switch
        {
            AttributeTarget.Repository => ("repository", "SELECT 1 FROM repositories WHERE registry=@r AND name=@n"),
            AttributeTarget.Tag => ("tag", "SELECT 1 FROM tags WHERE registry=@r AND repository=@n AND tag=@k"),
            _ => ("manifest", "SELECT 1 FROM manifests WHERE registry=@r AND repository=@n AND digest=@k"),
        };
        await using var connection = await database.OpenAsync(cancellationToken);
        // Under the repository's lock, so the target cannot vanish (a tag or manifest delete) between the existence check and the write.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockRepositoryAsync(connection, repository.Registry, repository.Name, cancellationToken);
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
        await using var connection = await database.OpenAsync(cancellationToken);
        // A missing tag or manifest binds NULL, which matches no key (SQLite's version uses "\0", which PostgreSQL text cannot hold).
        await using var command = Command(connection, repository,
            """
            SELECT kind, delete_enabled, write_enabled, read_enabled, list_enabled FROM content_attributes
            WHERE registry=@r AND repository=@n AND ((kind='repository' AND key='') OR (kind='tag' AND key=@t::text) OR (kind='manifest' AND key=@d::text));
            """, ("t", tag), ("d", manifest?.ToString()));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        ContentAttributes repositoryAttributes = ContentAttributes.Default, tagAttributes = ContentAttributes.Default, manifestAttributes = ContentAttributes.Default;
        while (await reader.ReadAsync(cancellationToken))
        {
            var attributes = new ContentAttributes(reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3), reader.GetBoolean(4));
            switch (reader.GetString(0))
            {
                case "repository": repositoryAttributes = attributes; break;
                case "tag": tagAttributes = attributes; break;
                default: manifestAttributes = attributes; break;
            }
        }
        return new EffectiveAttributes(repositoryAttributes, tag is null ? null : tagAttributes, manifest is null ? null : manifestAttributes);
    }

    public async Task<RepositoryDeletion?> DeleteRepositoryAsync(RepositoryKey repository, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockRepositoryAsync(connection, repository.Registry, repository.Name, cancellationToken);
        // ACR refuses to delete a repository that holds a locked image; checked under the transaction's write lock, so nothing
        // locked meanwhile is lost, and nothing at all is deleted when something is locked.
        var locked = await PostgreSqlContentLocks.FindAsync(connection, repository, "1=1", cancellationToken);
        if (locked.Count > 0) return new RepositoryDeletion([], [], locked);
        var manifests = await ListAsync(connection, repository, "SELECT digest FROM manifests WHERE registry=@r AND repository=@n ORDER BY digest;", cancellationToken);
        var tags = await ListAsync(connection, repository, "SELECT tag FROM tags WHERE registry=@r AND repository=@n ORDER BY tag;", cancellationToken);
        var deleted = 0;
        foreach (var sql in new[]
        {
            "DELETE FROM tags WHERE registry=@r AND repository=@n;",
            "DELETE FROM manifest_references WHERE registry=@r AND repository=@n;",
            "DELETE FROM manifests WHERE registry=@r AND repository=@n;",
            "DELETE FROM blob_links WHERE registry=@r AND repository=@n;",
            "DELETE FROM content_attributes WHERE registry=@r AND repository=@n;",
            "DELETE FROM repositories WHERE registry=@r AND name=@n;",
        })
        {
            await using var command = Command(connection, repository, sql);
            deleted = await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        // The last statement deletes the repository row itself: zero means there was no such repository.
        return deleted == 0 ? null : new RepositoryDeletion(manifests, tags, []);
    }

    private async Task<IReadOnlyList<TagDetails>> ReadTagsAsync(RepositoryKey repository, string where, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Command(connection, repository,
            $"""
            SELECT t.tag, t.digest, coalesce(t.created_at, t.updated_at), t.updated_at, {AttributeColumns} FROM tags t
            LEFT JOIN content_attributes a ON a.registry=t.registry AND a.repository=t.repository AND a.kind='tag' AND a.key=t.tag
            {where};
            """, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<TagDetails>();
        while (await reader.ReadAsync(cancellationToken))
            result.Add(new TagDetails(reader.GetString(0), Digest.Parse(reader.GetString(1)), Time(reader, 2), Time(reader, 3), Attributes(reader, 4)));
        return result;
    }

    private async Task<IReadOnlyList<ManifestDetails>> ReadManifestsAsync(RepositoryKey repository, string where, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Command(connection, repository,
            $"""
            SELECT m.digest, octet_length(m.content), m.created_at, m.media_type, m.artifact_type,
                   (SELECT string_agg(tag, E'\n' ORDER BY tag) FROM tags WHERE registry=m.registry AND repository=m.repository AND digest=m.digest),
                   {AttributeColumns}
            FROM manifests m
            LEFT JOIN content_attributes a ON a.registry=m.registry AND a.repository=m.repository AND a.kind='manifest' AND a.key=m.digest
            {where};
            """, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<ManifestDetails>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var tags = reader.IsDBNull(5) ? [] : reader.GetString(5).Split('\n');
            result.Add(new ManifestDetails(Digest.Parse(reader.GetString(0)), reader.GetInt32(1), Time(reader, 2), Time(reader, 2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), tags, Attributes(reader, 6)));
        }
        return result;
    }

    /// <summary>Name order pages with <c>last</c> as the spec does; time orders ignore <c>last</c> and page by count only.</summary>
    private static (string Filter, string OrderBy) Paging(ListOrder order, string nameColumn, string timeColumn) => order switch
    {
        ListOrder.TimeDescending => ("", $"{timeColumn} DESC, {nameColumn}"),
        ListOrder.TimeAscending => ("", $"{timeColumn} ASC, {nameColumn}"),
        _ => ($"AND {nameColumn} > @last", nameColumn),
    };

    private static async Task<IReadOnlyList<string>> ListAsync(NpgsqlConnection connection, RepositoryKey repository, string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, repository, sql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<string>();
        while (await reader.ReadAsync(cancellationToken)) result.Add(reader.GetString(0));
        return result;
    }

    /// <summary>@r and @n bound to the repository, plus those of <paramref name="parameters"/> the statement uses.</summary>
    private static NpgsqlCommand Command(NpgsqlConnection connection, RepositoryKey repository, string sql, params (string Name, object? Value)[] parameters) =>
        Prepare(connection, sql,
            [("r", repository.Registry), ("n", repository.Name), .. parameters.Where(p => sql.Contains("@" + p.Name, StringComparison.Ordinal))]);

    /// <summary>Reads four attribute columns from a LEFT JOIN; no row means every attribute enabled.</summary>
    private static ContentAttributes Attributes(NpgsqlDataReader reader, int first) =>
        reader.IsDBNull(first)
            ? ContentAttributes.Default
            : new ContentAttributes(reader.GetBoolean(first), reader.GetBoolean(first + 1), reader.GetBoolean(first + 2), reader.GetBoolean(first + 3));
}
