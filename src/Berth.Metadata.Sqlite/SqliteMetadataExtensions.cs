using Berth.Core.Content;
using Berth.Core.Identity;
using Berth.Core.Management;
using Berth.Core.Registries;
using Berth.Core.Storage;
using Berth.Metadata.Sql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Berth.Metadata.Sqlite;

public static class SqliteMetadataExtensions
{
    /// <summary>Keeps metadata in the SQLite database file at <paramref name="path"/> (created and migrated on start).</summary>
    public static IServiceCollection AddSqliteMetadataStore(this IServiceCollection services, string path)
    {
        var database = new SqliteDatabase(path);
        services.AddSingleton(database);
        services.AddSingleton<SqlDatabase>(database);
        services.AddSingleton<IMetadataStore, SqlMetadataStore>();
        services.AddSingleton<IRegistryStore, SqlRegistryStore>();
        services.AddSingleton<IRepositoryDetailsStore, SqlRepositoryDetailsStore>();
        return services;
    }

    /// <summary>
    /// Keeps identities in the SQLite database registered by <see cref="AddSqliteMetadataStore"/> (call that first; the
    /// identity tables are part of the same schema).
    /// </summary>
    public static IServiceCollection AddSqliteIdentityStore(this IServiceCollection services)
    {
        services.TryAddSingleton<IIdentityStore, SqlIdentityStore>();
        return services;
    }

    /// <summary>Keeps management service principals in the SQLite database (register <see cref="AddSqliteMetadataStore"/> first).</summary>
    public static IServiceCollection AddSqliteServicePrincipalStore(this IServiceCollection services)
    {
        services.TryAddSingleton<IServicePrincipalStore, SqlServicePrincipalStore>();
        return services;
    }
}
