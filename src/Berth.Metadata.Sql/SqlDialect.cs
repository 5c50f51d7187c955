using System.Data;

namespace Berth.Metadata.Sql;

/// <summary>
/// What the SQL of the shared stores cannot say the same way on every database. Statements use <c>@name</c>
/// parameters, which both Microsoft.Data.Sqlite and Npgsql accept, and store times as Unix milliseconds and flags as
/// booleans (SQLite keeps them as 0/1 integers), so only the pieces below differ.
/// </summary>
public abstract class SqlDialect
{
    /// <summary>An INSERT of <paramref name="into"/> (<c>table (columns) VALUES (…)</c>) that leaves an existing row alone.</summary>
    public abstract string InsertOrIgnore(string into);

    /// <summary>The largest of the values (a scalar, not the aggregate).</summary>
    public abstract string Greatest(params string[] values);

    /// <summary>The length in bytes of a blob column, as a 64-bit integer.</summary>
    public abstract string ByteLength(string column);

    /// <summary>The <paramref name="column"/> values of the rows <paramref name="from"/> selects, sorted and joined with newlines.</summary>
    public abstract string SortedLines(string column, string from);

    /// <summary>
    /// A name (column or parameter) as compared, ordered and kept unique where names are case-insensitive: tokens, scope
    /// maps and service principals keep the spelling given at creation.
    /// </summary>
    public abstract string CaseInsensitive(string name);

    /// <summary>
    /// Whether the text in <paramref name="column"/> contains the text in <paramref name="parameter"/>, ignoring ASCII case
    /// (names and tags are ASCII). A plain position search, so that <c>%</c> and <c>_</c> in a search mean themselves.
    /// </summary>
    public abstract string ContainsIgnoringCase(string column, string parameter);

    /// <summary>The name in <paramref name="column"/> is the one in <paramref name="parameter"/>, compared as names are.</summary>
    public string SameName(string column, string parameter) => $"{CaseInsensitive(column)}={CaseInsensitive(parameter)}";

    /// <summary>The isolation that gives one snapshot across the reads of a transaction.</summary>
    public abstract IsolationLevel SnapshotIsolation { get; }

    /// <summary>
    /// A transaction for a change to <paramref name="repository"/> (or to a whole registry, when null) that must not
    /// interleave with other writers of it: garbage collection's conditional deletes, a manifest PUT's reference checks,
    /// the lock checks of deletes.
    /// </summary>
    public abstract Task<DbTransaction> BeginWriteAsync(DbConnection connection, RepositoryKey? repository, CancellationToken cancellationToken);

    /// <summary>
    /// Which of <paramref name="digests"/> the query <paramref name="select"/> finds; it selects a digest and ends with
    /// the digest column it compares, to which the dialect appends its condition.
    /// </summary>
    public abstract Task<IReadOnlySet<string>> FindDigestsAsync(DbConnection connection, string select, IReadOnlyList<string> digests,
        CancellationToken cancellationToken, params (string Name, object? Value)[] parameters);

    /// <summary>Which of <paramref name="digests"/> any repository of any registry links.</summary>
    public virtual Task<IReadOnlySet<string>> FindLinkedBlobsAsync(DbConnection connection, IReadOnlyList<string> digests, CancellationToken cancellationToken) =>
        // The digest index leads with the registry; the skip over it is a join with the registries that have links.
        FindDigestsAsync(connection, "SELECT DISTINCT l.digest FROM (SELECT DISTINCT registry FROM blob_links) r JOIN blob_links l ON l.registry = r.registry AND l.digest",
            digests, cancellationToken);
}
