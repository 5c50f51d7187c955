using System.Data;
using System.Data.Common;
using Berth.Core.Storage;
using Berth.Metadata.Sql;

namespace Berth.Metadata.Sqlite;

/// <summary>SQLite's SQL: one writer at a time for the whole file, and a database in this process, so round trips are cheap.</summary>
internal sealed class SqliteDialect : SqlDialect
{
    /// <remarks>OR IGNORE, as the schema has always been written to: it also skips rows that fail NOT NULL or CHECK.</remarks>
    public override string InsertOrIgnore(string into) => $"INSERT OR IGNORE INTO {into};";

    public override string Greatest(params string[] values) => $"max({string.Join(", ", values)})";

    public override string ByteLength(string column) => $"length({column})";

    public override string SortedLines(string column, string from) =>
        $"(SELECT group_concat({column}, char(10)) FROM (SELECT {column} {from} ORDER BY {column}))";

    /// <summary>The name columns are declared COLLATE NOCASE, which comparisons, ORDER BY and the primary key follow.</summary>
    public override string CaseInsensitive(string name) => name;

    public override string ContainsIgnoringCase(string column, string parameter) => $"instr(lower({column}), lower({parameter})) > 0";

    /// <summary>In WAL mode any transaction reads one snapshot.</summary>
    public override IsolationLevel SnapshotIsolation => IsolationLevel.ReadCommitted;

    /// <summary>
    /// Takes the database's write lock up front (BEGIN IMMEDIATE) so that two writers never both read and then deadlock
    /// upgrading; the busy timeout makes the second one wait. One lock for every repository: SQLite has no finer one.
    /// </summary>
    public override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, RepositoryKey? repository, CancellationToken cancellationToken) =>
        await connection.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken);

    /// <summary>One primary-key lookup a digest, with one prepared command.</summary>
    public override async Task<IReadOnlySet<string>> FindDigestsAsync(DbConnection connection, string select, IReadOnlyList<string> digests,
        CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = SqlCommands.Prepare(connection, select + "=@digest;", [.. parameters, ("digest", null)]);
        var digest = command.Parameters[command.Parameters.Count - 1];
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in digests)
        {
            digest.Value = value;
            if (await command.ExecuteScalarAsync(cancellationToken) is not null) found.Add(value);
        }
        return found;
    }

    /// <summary>The digest index leads with the registry: look a digest up once per registry that has links at all.</summary>
    public override async Task<IReadOnlySet<string>> FindLinkedBlobsAsync(DbConnection connection, IReadOnlyList<string> digests, CancellationToken cancellationToken)
    {
        var linked = new HashSet<string>(StringComparer.Ordinal);
        foreach (var registry in await SqlCommands.ListAsync(connection, "SELECT DISTINCT registry FROM blob_links;", SqlCommands.Text, cancellationToken))
            linked.UnionWith(await FindDigestsAsync(connection, "SELECT digest FROM blob_links WHERE registry=@r AND digest",
                digests.Where(d => !linked.Contains(d)).ToList(), cancellationToken, ("r", registry)));
        return linked;
    }
}
