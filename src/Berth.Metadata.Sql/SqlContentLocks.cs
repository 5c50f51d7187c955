namespace Berth.Metadata.Sql;

/// <summary>
/// The lock check of every delete (image locking), run inside the delete's own write transaction
/// (<see cref="SqlDialect.BeginWriteAsync"/>), which attribute changes take too, so that a lock set concurrently is
/// either seen here or set after the delete, never lost in between.
/// </summary>
internal static class SqlContentLocks
{
    /// <summary>An attribute row (aliased <c>a</c>) that forbids deleting its target, as ACR's <c>writeEnabled=false</c> does too.</summary>
    public const string Forbids = "(NOT a.delete_enabled OR NOT a.write_enabled)";

    /// <summary>The repository's own attribute row, which covers everything in it.</summary>
    public const string RepositoryRow = "(a.kind='repository' AND a.key='')";

    /// <summary>
    /// The manifests of the repository that need blob <c>@d</c>: those referencing it, and the indexes referencing those, at
    /// any depth. As a condition on <c>a</c>: such a manifest's own attribute row, or that of a tag pointing at one.
    /// </summary>
    public const string HoldersOfBlob =
        """
        (a.kind IN ('manifest', 'tag') AND EXISTS (
            WITH RECURSIVE holders(digest) AS (
                SELECT manifest FROM manifest_references WHERE registry=@r AND repository=@n AND referenced=@d
                UNION
                SELECT m.manifest FROM manifest_references m JOIN holders h ON m.referenced=h.digest
                WHERE m.registry=@r AND m.repository=@n)
            SELECT 1 FROM holders h WHERE (a.kind='manifest' AND a.key=h.digest)
                OR (a.kind='tag' AND EXISTS (SELECT 1 FROM tags t WHERE t.registry=@r AND t.repository=@n AND t.tag=a.key AND t.digest=h.digest))))
        """;

    /// <summary>
    /// The locked rows of the repository that <paramref name="which"/> selects (a condition on <c>a</c>), repository
    /// first, then tags and manifests by name. <c>@r</c> and <c>@n</c> are bound to the repository.
    /// </summary>
    public static Task<List<LockedContent>> FindAsync(DbConnection connection, RepositoryKey repository, string which,
        CancellationToken cancellationToken, params (string Name, object? Value)[] parameters) =>
        SqlCommands.ListAsync(connection,
            $"""
            SELECT a.kind, a.key, a.delete_enabled, a.write_enabled FROM content_attributes a
            WHERE a.registry=@r AND a.repository=@n AND {Forbids} AND ({which})
            ORDER BY CASE a.kind WHEN 'repository' THEN 0 WHEN 'tag' THEN 1 ELSE 2 END, a.key;
            """,
            reader => new LockedContent(Target(reader.GetString(0)), reader.GetString(1), reader.GetBoolean(2), reader.GetBoolean(3)),
            cancellationToken, [("r", repository.Registry), ("n", repository.Name), .. parameters]);

    private static AttributeTarget Target(string kind) => kind switch
    {
        "repository" => AttributeTarget.Repository,
        "tag" => AttributeTarget.Tag,
        _ => AttributeTarget.Manifest,
    };
}
