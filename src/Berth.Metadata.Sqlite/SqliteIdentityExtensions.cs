using System.Runtime.CompilerServices;
using Berth.Core.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

[assembly: InternalsVisibleTo("Berth.Core.Tests")]

namespace Berth.Metadata.Sqlite;

public static class SqliteIdentityExtensions
{
    /// <summary>
    /// Keeps identities in the SQLite database registered by <see cref="SqliteMetadataExtensions.AddSqliteMetadataStore"/>
    /// (call that first; the identity tables are part of the same schema).
    /// </summary>
    public static IServiceCollection AddSqliteIdentityStore(this IServiceCollection services)
    {
        services.TryAddSingleton<IIdentityStore, SqliteIdentityStore>();
        return services;
    }
}
