using Berth.Metadata.PostgreSql;
using Berth.Metadata.Sqlite;
using Berth.Redis;
using Berth.Storage.AzureBlob;
using Berth.Storage.FileSystem;

namespace Berth.Server.Configuration;

/// <summary>
/// The one place that maps the provider names of the configuration to the providers' registration methods, so the rest
/// of the host never names a concrete provider. Each provider registers everything it implements with one call.
/// </summary>
public static class BerthProviders
{
    public const string Sqlite = "Sqlite";
    public const string PostgreSql = "PostgreSql";
    public const string FileSystem = "FileSystem";
    public const string AzureBlob = "AzureBlob";

    private static readonly Dictionary<string, Action<IServiceCollection, BerthOptions>> MetadataProviders = new(StringComparer.OrdinalIgnoreCase)
    {
        [Sqlite] = (services, options) => services
            .AddSqliteMetadataStore(Path.Combine(options.ResolvedDataPath, "metadata", "berth.db"))
            .AddSqliteIdentityStore()
            .AddSqliteServicePrincipalStore(),
        [PostgreSql] = (services, options) => services.AddPostgreSqlMetadata(options.Database.ConnectionString!),
    };

    private static readonly Dictionary<string, Action<IServiceCollection, BerthOptions>> StorageProviders = new(StringComparer.OrdinalIgnoreCase)
    {
        [FileSystem] = (services, options) => services.AddFileSystemBlobStore(Path.Combine(options.ResolvedDataPath, "storage")),
        [AzureBlob] = (services, options) => services.AddAzureBlobStore(options.Storage.AzureBlob),
    };

    /// <summary>Registers the configured blob and metadata providers (call <see cref="Validate"/> first; caching decorators go after).</summary>
    public static IServiceCollection AddBerthProviders(this IServiceCollection services, BerthOptions options)
    {
        StorageProviders[options.Storage.Type.Trim()](services, options);
        MetadataProviders[options.Database.Type.Trim()](services, options);
        // Optional: without it, throttling buckets and cache generations stay in this process (one node).
        if (options.Redis is { IsConfigured: true } redis) services.AddBerthRedis(redis);
        return services;
    }

    /// <summary>
    /// A warning for a node whose metadata or blobs are shared with other nodes (PostgreSQL, Azure Blob Storage) while
    /// Redis is not configured, or null. Such a node keeps its throttle buckets and cache generations to itself, so a
    /// change made through another node reaches it only when it restarts; one node alone is fine, hence not an error.
    /// </summary>
    public static string? SharedWithoutRedisWarning(BerthOptions options)
    {
        if (options.Redis is { IsConfigured: true }) return null;
        var shared = new List<string>();
        if (string.Equals(options.Database.Type.Trim(), PostgreSql, StringComparison.OrdinalIgnoreCase)) shared.Add("metadata in PostgreSQL");
        if (string.Equals(options.Storage.Type.Trim(), AzureBlob, StringComparison.OrdinalIgnoreCase)) shared.Add("blobs in Azure Blob Storage");
        if (shared.Count == 0) return null;
        return $"This node keeps {string.Join(" and ", shared)}, which other nodes can share, but Berth:Redis:Configuration is not set. " +
            "If several nodes serve these registries, set it on every node: without it each node throttles on its own and does not see " +
            "changes made through another node (anonymous pull switched off, a token disabled, a tag moved) until it restarts.";
    }

    /// <summary>Stops start-up with a message naming the setting and the values it takes.</summary>
    public static void Validate(BerthOptions options)
    {
        var database = options.Database ?? throw new InvalidOperationException("Berth:Database is missing.");
        var storage = options.Storage ?? throw new InvalidOperationException("Berth:Storage is missing.");
        if (!MetadataProviders.ContainsKey(database.Type?.Trim() ?? ""))
            throw new InvalidOperationException(
                $"Berth:Database:Type \"{database.Type}\" is not a metadata provider; use one of: {string.Join(", ", MetadataProviders.Keys)}.");
        if (!StorageProviders.ContainsKey(storage.Type?.Trim() ?? ""))
            throw new InvalidOperationException(
                $"Berth:Storage:Type \"{storage.Type}\" is not a blob storage provider; use one of: {string.Join(", ", StorageProviders.Keys)}.");
        if (string.Equals(storage.Type!.Trim(), AzureBlob, StringComparison.OrdinalIgnoreCase))
            AzureBlobStorageExtensions.Validate(storage.AzureBlob ?? new AzureBlobStorageOptions());
        if (options.Redis is { IsConfigured: true } redis)
            RedisConnection.Parse(redis);
        var usesConnectionString = string.Equals(database.Type!.Trim(), PostgreSql, StringComparison.OrdinalIgnoreCase);
        if (usesConnectionString && string.IsNullOrWhiteSpace(database.ConnectionString))
            throw new InvalidOperationException(
                "Berth:Database:ConnectionString is required when Berth:Database:Type is PostgreSql " +
                "(for example \"Host=db.example.com;Database=berth;Username=berth;Password=...\").");
        if (!usesConnectionString && !string.IsNullOrWhiteSpace(database.ConnectionString))
            throw new InvalidOperationException(
                $"Berth:Database:ConnectionString is set but Berth:Database:Type is {database.Type}, which keeps its database under Berth:DataPath; " +
                "set Berth:Database:Type=PostgreSql to use the connection string, or remove it.");
    }
}
