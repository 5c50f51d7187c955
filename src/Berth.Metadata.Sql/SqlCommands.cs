namespace Berth.Metadata.Sql;

/// <summary>Small helpers over ADO.NET commands with <c>@name</c> parameters (null binds as SQL NULL).</summary>
internal static class SqlCommands
{
    public static DbCommand Prepare(DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            // Statements built from shared fragments are handed every parameter of their operation; bind only those used.
            if (!UsesParameter(sql, name)) continue;
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    private static bool UsesParameter(string sql, string name)
    {
        for (var at = sql.IndexOf("@" + name, StringComparison.Ordinal); at >= 0; at = sql.IndexOf("@" + name, at + 1, StringComparison.Ordinal))
        {
            var end = at + 1 + name.Length;
            if (end == sql.Length || !(char.IsAsciiLetterOrDigit(sql[end]) || sql[end] == '_')) return true;
        }
        return false;
    }

    public static async Task<int> ExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Prepare(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task<object?> ScalarAsync(DbConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Prepare(connection, sql, parameters);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is DBNull ? null : value;
    }

    /// <summary>Every row of the query, each read by <paramref name="read"/>.</summary>
    public static async Task<List<T>> ListAsync<T>(DbConnection connection, string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken,
        params (string Name, object? Value)[] parameters)
    {
        await using var command = Prepare(connection, sql, parameters);
        return await ReadAllAsync(command, read, cancellationToken);
    }

    public static async Task<List<T>> ReadAllAsync<T>(DbCommand command, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<T>();
        while (await reader.ReadAsync(cancellationToken)) result.Add(read(reader));
        return result;
    }

    /// <summary>The first column, as text.</summary>
    public static string Text(DbDataReader reader) => reader.GetString(0);

    // The same on a connection of its own, for a statement that needs no transaction.

    public static async Task<int> ExecuteAsync(this SqlDatabase database, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await ExecuteAsync(connection, sql, cancellationToken, parameters);
    }

    public static async Task<object?> ScalarAsync(this SqlDatabase database, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await ScalarAsync(connection, sql, cancellationToken, parameters);
    }

    public static async Task<List<T>> ListAsync<T>(this SqlDatabase database, string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken,
        params (string Name, object? Value)[] parameters)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await ListAsync(connection, sql, read, cancellationToken, parameters);
    }

    public static DateTimeOffset Time(DbDataReader reader, int ordinal) => DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    public static string? StringOrNull(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
