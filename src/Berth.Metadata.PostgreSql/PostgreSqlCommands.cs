using Npgsql;

namespace Berth.Metadata.PostgreSql;

/// <summary>Small helpers over Npgsql commands with <c>@name</c> parameters (null binds as SQL NULL).</summary>
internal static class PostgreSqlCommands
{
    public static NpgsqlCommand Prepare(NpgsqlConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    public static async Task<int> ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Prepare(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Prepare(connection, sql, parameters);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is DBNull ? null : value;
    }

    public static async Task<IReadOnlyList<string>> ListStringsAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Prepare(connection, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<string>();
        while (await reader.ReadAsync(cancellationToken)) result.Add(reader.GetString(0));
        return result;
    }

    /// <summary>
    /// Serialises the writers of one repository until the transaction ends. SQLite serialises every writer (BEGIN
    /// IMMEDIATE); PostgreSQL's READ COMMITTED does not, and the conditional deletes of garbage collection and the
    /// reference checks of a manifest PUT must not interleave. Every statement after the lock sees what the previous
    /// holder committed. A hash collision between two repositories costs only some waiting.
    /// </summary>
    public static Task LockRepositoryAsync(NpgsqlConnection connection, string registry, string repository, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(hashtextextended(@key, 0));", cancellationToken, ("key", $"repository:{registry}/{repository}"));

    public static DateTimeOffset Time(NpgsqlDataReader reader, int ordinal) => DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));
}
