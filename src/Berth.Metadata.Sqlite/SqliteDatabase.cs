using System.Data.Common;
using Berth.Core.Files;
using Berth.Metadata.Sql;
using Microsoft.Data.Sqlite;

namespace Berth.Metadata.Sqlite;

/// <summary>
/// The SQLite database file: opens pooled connections in WAL mode and applies <see cref="SqliteSchema"/>
/// migrations once at start-up.
/// </summary>
public sealed class SqliteDatabase : SqlDatabase
{
    private readonly string _connectionString;

    /// <summary>SQLite serves one node, so the maintenance lease only has to exclude this process's own collections.</summary>
    private readonly SemaphoreSlim _maintenance = new(1, 1);

    public SqliteDatabase(string path) : base(new SqliteDialect())
    {
        PrivateFiles.EnsureDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        CreatePrivate(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA journal_mode=WAL;");
        SqliteSchema.Migrate(connection);
    }

    /// <summary>
    /// SQLite creates a database file 0644 (less the umask) and its -wal and -shm files with the database file's mode,
    /// so an empty 0600 file created first (SQLite takes an empty file for an empty database) keeps all three private.
    /// Files of an earlier version, created with looser modes, are tightened.
    /// </summary>
    private static void CreatePrivate(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            using (new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = PrivateFiles.SecretMode })) { }
        }
        catch (IOException) when (File.Exists(path))
        {
        }
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            if (File.Exists(file) && (File.GetUnixFileMode(file) & ~PrivateFiles.SecretMode) != 0)
                File.SetUnixFileMode(file, PrivateFiles.SecretMode);
        }
    }

    /// <summary>
    /// Closes this file's idle pooled connections (those in use close when returned), so the file can be removed.
    /// Only this file's pool: clearing every pool in the process would close connections other databases are
    /// handing out at that moment.
    /// </summary>
    public void ClearPool()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        // Per-connection settings: wait for writers instead of failing, and fsync at WAL checkpoints only
        // (WAL + NORMAL is durable against process crashes, which is the guarantee a registry needs).
        Execute(connection, "PRAGMA busy_timeout=30000; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
        return connection;
    }

    public override async Task<IAsyncDisposable?> TryAcquireMaintenanceLeaseAsync(CancellationToken cancellationToken) =>
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

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
