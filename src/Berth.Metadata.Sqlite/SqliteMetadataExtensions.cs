using Berth.Core.Content;
using Berth.Core.Registries;
using Berth.Core.Storage;
using Berth.Metadata.Sql;
using Microsoft.Extensions.DependencyInjection;

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
        services.AddSingleton<IDeletedContentStore, SqlDeletedContentStore>();
        services.AddSingleton<IPullCountStore, SqlPullCountStore>();
        services.AddSingleton<IWebhookStore, SqlWebhookStore>();
        services.AddSingleton<IArtifactCacheStore, SqlArtifactCacheStore>();
        return services;
    }
}
