namespace Berth.Metadata.Sql;

/// <summary>
/// A metadata database as the shared stores see it: pooled connections, the SQL <see cref="Dialect"/> they speak,
/// and the garbage-collection lease, whose reach (one process or every node) depends on who can share the database.
/// </summary>
public abstract class SqlDatabase(SqlDialect dialect)
{
    public SqlDialect Dialect { get; } = dialect;

    /// <summary>An open connection from the pool; the caller disposes it.</summary>
    public abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>See <see cref="Core.Storage.IMetadataStore.TryAcquireMaintenanceLeaseAsync"/>.</summary>
    public abstract Task<IAsyncDisposable?> TryAcquireMaintenanceLeaseAsync(CancellationToken cancellationToken);
}
