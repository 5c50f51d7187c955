using Berth.Core.Content;
using Berth.Core.Registries;
using Berth.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Metadata.Sqlite;

public static class SqliteMetadataExtensions
{
    /// <summary>Keeps metadata in the SQLite database file at <paramref name="path"/> (created and migrated on start).</summary>
    public static IServiceCollection AddSqliteMetadataStore(this IServiceCollection services, string path)
    {
        services.AddSingleton(new SqliteDatabase(path));
        services.AddSingleton<IMetadataStore, SqliteMetadataStore>();
        services.AddSingleton<IRegistryStore, SqliteRegistryStore>();
        services.AddSingleton<IRepositoryDetailsStore, SqliteRepositoryDetailsStore>();
        return services;
    }
}
