using System.Runtime.CompilerServices;
using Berth.Core.Content;
using Berth.Core.Identity;
using Berth.Core.Management;
using Berth.Core.Registries;
using Berth.Core.Storage;
using Berth.Metadata.Sql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

[assembly: InternalsVisibleTo("Berth.Metadata.PostgreSql.Tests")]

namespace Berth.Metadata.PostgreSql;

public static class PostgreSqlMetadataExtensions
{
    /// <summary>
    /// Keeps all metadata (content, registries, identities, management service principals) in the PostgreSQL database
    /// at <paramref name="connectionString"/>. The schema is created or migrated when the database is first used, at
    /// start-up; several nodes may share one database. Connections are pooled (Npgsql's pool options in the string apply).
    /// </summary>
    public static IServiceCollection AddPostgreSqlMetadata(this IServiceCollection services, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        PostgreSqlDatabase.Parse(connectionString); // checked here, at start-up, rather than on the first request
        services.AddSingleton(_ => new PostgreSqlDatabase(connectionString));
        services.TryAddSingleton(TimeProvider.System);
        AddGuarded<IMetadataStore, SqlMetadataStore>(services);
        AddGuarded<IRegistryStore, SqlRegistryStore>(services);
        AddGuarded<IRepositoryDetailsStore, SqlRepositoryDetailsStore>(services);
        AddGuarded<IDeletedContentStore, SqlDeletedContentStore>(services);
        AddGuarded<IPullCountStore, SqlPullCountStore>(services);
        AddGuarded<IWebhookStore, SqlWebhookStore>(services);
        AddGuarded<IArtifactCacheStore, SqlArtifactCacheStore>(services);
        AddGuarded<IIdentityStore, SqlIdentityStore>(services);
        AddGuarded<IServicePrincipalStore, SqlServicePrincipalStore>(services);
        return services;
    }

    /// <summary>Registers a store behind <see cref="PostgreSqlUnavailability"/>, so an unreachable database surfaces as one exception type.</summary>
    private static void AddGuarded<TService, TStore>(IServiceCollection services) where TService : class where TStore : class, TService =>
        services.AddSingleton(provider =>
        {
            var database = provider.GetRequiredService<PostgreSqlDatabase>();
            return PostgreSqlUnavailability.Guard<TService>(ActivatorUtilities.CreateInstance<TStore>(provider, database), database);
        });
}
