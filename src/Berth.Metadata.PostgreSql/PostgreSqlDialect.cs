using System.Data;
using System.Data.Common;
using Berth.Core.Storage;
using Berth.Metadata.Sql;
using Npgsql;
using NpgsqlTypes;

namespace Berth.Metadata.PostgreSql;

/// <summary>PostgreSQL's SQL: writers of different repositories run side by side, and round trips cross the network.</summary>
internal sealed class PostgreSqlDialect : SqlDialect
{
    public override string InsertOrIgnore(string into) => $"INSERT INTO {into} ON CONFLICT DO NOTHING;";

    public override string Greatest(params string[] values) => $"greatest({string.Join(", ", values)})";

    public override string ByteLength(string column) => $"CAST(octet_length({column}) AS BIGINT)";

    public override string SortedLines(string column, string from) => $"(SELECT string_agg({column}, E'\\n' ORDER BY {column}) {from})";

    /// <summary>The schema keeps such names unique on <c>lower()</c>, which under COLLATE "C" folds ASCII only, as SQLite's NOCASE does.</summary>
    public override string CaseInsensitive(string name) => $"lower({name})";

    public override string ContainsIgnoringCase(string column, string parameter) => $"strpos(lower({column}), lower({parameter})) > 0";

    /// <summary>REPEATABLE READ: one snapshot across the reads, as SQLite's WAL read transaction gives.</summary>
    public override IsolationLevel SnapshotIsolation => IsolationLevel.RepeatableRead;

    /// <summary>
    /// A READ COMMITTED transaction that holds the repository's lock until it ends. SQLite serialises every writer;
    /// PostgreSQL does not, and the conditional deletes of garbage collection and the reference checks of a manifest PUT
    /// must not interleave. Every statement after the lock sees what the previous holder committed. A hash collision
    /// between two repositories costs only some waiting. A whole-registry change takes no lock.
    /// </summary>
    public override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, RepositoryKey? repository, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (repository is { } key)
            await SqlCommands.ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(hashtextextended(@key, 0));", cancellationToken,
                ("key", $"repository:{key.Registry}/{key.Name}"));
        return transaction;
    }

    /// <summary>One round trip for the whole set.</summary>
    public override async Task<IReadOnlySet<string>> FindDigestsAsync(DbConnection connection, string select, IReadOnlyList<string> digests,
        CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = SqlCommands.Prepare(connection, select + " = ANY(@digests);", parameters);
        command.Parameters.Add(new NpgsqlParameter("digests", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = digests.ToArray() });
        return (await SqlCommands.ReadAllAsync(command, reader => reader.GetString(0), cancellationToken)).ToHashSet(StringComparer.Ordinal);
    }
}
