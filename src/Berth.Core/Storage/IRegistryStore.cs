namespace Berth.Core.Storage;

/// <summary>ACR's service tiers. They decide limits and which features a registry may turn on.</summary>
public enum RegistrySku { Basic, Standard, Premium }

/// <summary>
/// A registry hosted by this server. <see cref="Version"/> increases with every change so that caches and
/// concurrent updates can tell a stale copy from the current one. <see cref="AnonymousPullRepositories"/> limits
/// anonymous pull to repositories matching these patterns (scope-map wildcards); null means every repository, ACR's
/// meaning. The list is kept while anonymous pull is off, so switching it on again restores it.
/// </summary>
public sealed record Registry(
    string Name,
    string LoginServer,
    RegistrySku Sku,
    bool AnonymousPullEnabled,
    string SubscriptionId,
    string ResourceGroup,
    string Location,
    DateTimeOffset CreatedAt,
    long Version,
    string? ArmExtrasJson = null,
    IReadOnlyList<string>? AnonymousPullRepositories = null)
{
    /// <summary>ACR: 5-50 alphanumeric characters; names compare case-insensitively.</summary>
    public static bool IsValidName(string name) => name.Length is >= 5 and <= 50 && name.All(char.IsAsciiLetterOrDigit);

    public static bool SupportsAnonymousPull(RegistrySku sku) => sku is RegistrySku.Standard or RegistrySku.Premium;
}

/// <summary>Registries persisted by a metadata provider. Names are stored lower-case.</summary>
public interface IRegistryStore
{
    Task<Registry?> GetOrNullAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<Registry>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Inserts a registry; false if the name is taken.</summary>
    Task<bool> CreateAsync(Registry registry, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces a registry if its stored version is still <paramref name="expectedVersion"/> (optimistic concurrency)
    /// and appends <paramref name="activity"/> to its activity log, both in one transaction; the stored copy gets
    /// <c>expectedVersion + 1</c>. False if someone else changed it first (then nothing is written).
    /// </summary>
    Task<bool> UpdateAsync(Registry registry, long expectedVersion, IReadOnlyList<ActivityLogEntry> activity, CancellationToken cancellationToken);

    /// <summary>The registry's activity log, newest first.</summary>
    Task<IReadOnlyList<ActivityLogEntry>> ListActivityAsync(string name, int limit, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);
}
