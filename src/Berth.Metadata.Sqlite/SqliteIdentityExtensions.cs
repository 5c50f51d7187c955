using Berth.Core.Identity;
using Berth.Core.Management;
using Berth.Metadata.Sql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Berth.Core.Storage;

namespace Berth.Metadata.Sqlite;

/// <summary>Identities in the SQLite database registered by <see cref="SqliteMetadataExtensions.AddSqliteMetadataStore"/> (call that first; their tables are part of the same schema).</summary>
public static class SqliteIdentityExtensions
{
    /// <summary>Registry identities: admin users, tokens and scope maps.</summary>
    public static IServiceCollection AddSqliteIdentityStore(this IServiceCollection services)
    {
        services.TryAddSingleton<IIdentityStore, SqlIdentityStore>();
        return services;
    }

    /// <summary>Management service principals.</summary>
    public static IServiceCollection AddSqliteServicePrincipalStore(this IServiceCollection services)
    {
        services.TryAddSingleton<IServicePrincipalStore, SqlServicePrincipalStore>();
        return services;
    }
}
