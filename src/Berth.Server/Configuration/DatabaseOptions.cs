namespace Berth.Server.Configuration;

/// <summary>The <c>Berth:Database</c> section: which metadata provider keeps repositories, tags, identities and registries.</summary>
public sealed class DatabaseOptions
{
    /// <summary><c>Sqlite</c> (default: a file under the data folder, no service needed) or <c>PostgreSql</c> (shared by several nodes).</summary>
    public string Type { get; set; } = BerthProviders.Sqlite;

    /// <summary>The PostgreSQL connection string (Npgsql syntax); used with <c>PostgreSql</c> only.</summary>
    public string? ConnectionString { get; set; }
}
