namespace Berth.Core.Registries;

/// <summary>The changes a caller asks for; null leaves a setting as it is (ARM PATCH semantics).</summary>
/// <summary>
/// A registry update; null leaves a setting as it is. <see cref="AnonymousPullRepositories"/> replaces the pattern list:
/// an empty list or one holding <c>*</c> means every repository again.
/// </summary>
public sealed record RegistryPatch(RegistrySku? Sku = null, bool? AnonymousPullEnabled = null, string? ArmExtrasJson = null,
    IReadOnlyList<string>? AnonymousPullRepositories = null);

/// <summary>An update's result plus warnings the caller should show the user (not errors: the change was made).</summary>
public sealed record RegistryUpdateResult(Registry Registry, IReadOnlyList<string> Warnings);

public enum RegistryErrorCode { NotFound, AlreadyExists, InvalidName, BadRequest, Conflict }

/// <summary>A registry operation refused with a reason the management plane turns into ARM error JSON.</summary>
public sealed class RegistryException(RegistryErrorCode code, string message) : Exception(message)
{
    public RegistryErrorCode Code { get; } = code;
}

/// <summary>
/// Registry settings and their rules: which tier may enable anonymous pull, what a tier change requires, and the
/// activity log every change is written to.
/// </summary>
public sealed class RegistryService(RegistryDirectory directory, IIdentityStore identities, IMetadataStore metadata, TimeProvider time)
{
    public const string AnonymousPullSetting = "anonymousPullEnabled";
    public const string SkuSetting = "sku";
    public const string AnonymousPullRepositoriesSetting = "anonymousPullRepositories";
    public const string LoginServerSetting = "loginServer";

    public async Task<Registry> GetAsync(string name, CancellationToken cancellationToken) =>
        await directory.GetOrNullAsync(name, cancellationToken)
            ?? throw new RegistryException(RegistryErrorCode.NotFound, $"The Resource 'Microsoft.ContainerRegistry/registries/{name}' was not found.");

    public async Task<RegistryUpdateResult> UpdateAsync(string name, RegistryPatch patch, string actor, CancellationToken cancellationToken)
    {
        // Optimistic concurrency: re-read and retry if another writer got in between, so no change is lost.
        for (var attempt = 0; ; attempt++)
        {
            var current = await GetAsync(name, cancellationToken);
            var updated = current with
            {
                Sku = patch.Sku ?? current.Sku,
                AnonymousPullEnabled = patch.AnonymousPullEnabled ?? current.AnonymousPullEnabled,
                ArmExtrasJson = patch.ArmExtrasJson ?? current.ArmExtrasJson,
                AnonymousPullRepositories = patch.AnonymousPullRepositories is { } patterns ? NormalizePatterns(patterns) : current.AnonymousPullRepositories,
            };
            Validate(current, updated);

            var now = time.GetUtcNow();
            var activity = new List<ActivityLogEntry>();
            if (updated.Sku != current.Sku)
                activity.Add(new ActivityLogEntry(current.Name, now, actor, SkuSetting, current.Sku.ToString(), updated.Sku.ToString()));
            if (updated.AnonymousPullEnabled != current.AnonymousPullEnabled)
                activity.Add(new ActivityLogEntry(current.Name, now, actor, AnonymousPullSetting, Bool(current.AnonymousPullEnabled), Bool(updated.AnonymousPullEnabled)));
            if (Patterns(updated.AnonymousPullRepositories) != Patterns(current.AnonymousPullRepositories))
                activity.Add(new ActivityLogEntry(current.Name, now, actor, AnonymousPullRepositoriesSetting,
                    Patterns(current.AnonymousPullRepositories), Patterns(updated.AnonymousPullRepositories)));

            if (await directory.UpdateAsync(updated, current.Version, activity, cancellationToken))
            {
                var warnings = new List<string>();
                if (updated.AnonymousPullEnabled && !current.AnonymousPullEnabled && updated.AnonymousPullRepositories is null)
                {
                    var tokens = await identities.CountTokensAsync(current.Name, cancellationToken);
                    if (tokens > 0)
                    {
                        warnings.Add($"Anonymous pull now applies to every repository of registry '{current.Name}': the {tokens} repository-scoped " +
                            $"token{(tokens == 1 ? "" : "s")} on it no longer limit{(tokens == 1 ? "s" : "")} who can pull. Consider deleting tokens that only existed to restrict pulls.");
                    }
                }
                return new RegistryUpdateResult(await GetAsync(name, cancellationToken), warnings);
            }
            if (attempt >= 10)
                throw new RegistryException(RegistryErrorCode.Conflict, $"Registry '{name}' is being changed concurrently; try again.");
        }
    }

    /// <summary>
    /// Gives a registry a new login server (the server's suffix or its HTTPS port changed), recorded in the activity
    /// log. Returns the registry as stored, unchanged when it already had that login server.
    /// </summary>
    public async Task<Registry> MoveLoginServerAsync(string name, string loginServer, string actor, CancellationToken cancellationToken)
    {
        loginServer = loginServer.ToLowerInvariant();
        for (var attempt = 0; ; attempt++)
        {
            var current = await GetAsync(name, cancellationToken);
            if (current.LoginServer == loginServer) return current;
            var entry = new ActivityLogEntry(current.Name, time.GetUtcNow(), actor, LoginServerSetting, current.LoginServer, loginServer);
            if (await directory.UpdateAsync(current with { LoginServer = loginServer }, current.Version, [entry], cancellationToken))
                return await GetAsync(name, cancellationToken);
            if (attempt >= 10)
                throw new RegistryException(RegistryErrorCode.Conflict, $"Registry '{name}' is being changed concurrently; try again.");
        }
    }

    /// <summary>How the activity log and messages show a pattern list: the patterns space-separated, or <c>*</c> for every repository.</summary>
    public static string Patterns(IReadOnlyList<string>? patterns) => patterns is null ? "*" : string.Join(' ', patterns);

    private static IReadOnlyList<string>? NormalizePatterns(IReadOnlyList<string> patterns)
    {
        try
        {
            return AnonymousAccess.Normalize(patterns);
        }
        catch (ArgumentException error)
        {
            throw new RegistryException(RegistryErrorCode.BadRequest, $"anonymousPullRepositories: {error.Message}");
        }
    }

    public Task<IReadOnlyList<Registry>> ListAsync(CancellationToken cancellationToken) => directory.ListAsync(cancellationToken);

    /// <summary>
    /// Creates a registry; its data plane answers on its login server from the next request. Names are checked
    /// against ACR's rules and are unique server-wide, case-insensitively (so are login servers).
    /// </summary>
    public async Task<Registry> CreateAsync(Registry registry, CancellationToken cancellationToken)
    {
        if (!Registry.IsValidName(registry.Name))
            throw new RegistryException(RegistryErrorCode.InvalidName,
                $"Registry name '{registry.Name}' is invalid: use 5 to 50 alphanumeric characters (letters and digits).");
        if (registry.AnonymousPullEnabled && !Registry.SupportsAnonymousPull(registry.Sku))
            Validate(registry with { AnonymousPullEnabled = false }, registry);
        var created = registry with { Name = registry.Name.ToLowerInvariant(), LoginServer = registry.LoginServer.ToLowerInvariant(), Version = 1 };
        if (!await directory.CreateAsync(created, cancellationToken))
            throw new RegistryException(RegistryErrorCode.AlreadyExists,
                $"The registry DNS name {created.LoginServer} is already in use.");
        return await GetAsync(created.Name, cancellationToken);
    }

    /// <summary>
    /// Deletes a registry with everything it holds: the registry first (so its login server stops answering at
    /// once), then its repositories, tags, manifests and blob links, then its admin user, tokens and scope maps.
    /// </summary>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var registry = await GetAsync(name, cancellationToken);
        if (!await directory.DeleteAsync(registry.Name, cancellationToken))
            throw new RegistryException(RegistryErrorCode.NotFound, $"The Resource 'Microsoft.ContainerRegistry/registries/{name}' was not found.");
        await metadata.DeleteRegistryContentAsync(registry.Name, cancellationToken);
        await identities.DeleteRegistryAsync(registry.Name, cancellationToken);
    }

    public Task<IReadOnlyList<ActivityLogEntry>> ListActivityAsync(string name, int limit, CancellationToken cancellationToken) =>
        directory.ListActivityAsync(name, limit, cancellationToken);

    private static void Validate(Registry current, Registry updated)
    {
        if (updated.AnonymousPullEnabled && !Registry.SupportsAnonymousPull(updated.Sku))
        {
            if (current.AnonymousPullEnabled && updated.Sku != current.Sku)
            {
                throw new RegistryException(RegistryErrorCode.BadRequest,
                    $"Registry '{current.Name}' has anonymous pull enabled, which SKU {updated.Sku} does not support. " +
                    "Disable anonymous pull first (--anonymous-pull-enabled false), then change the SKU.");
            }
            // ACR's exact message (reference §2.1); "Managed_" is how ACR names the tier internally.
            throw new RegistryException(RegistryErrorCode.BadRequest,
                $"Anonymous pull is not supported for SKU Managed_{updated.Sku}. For more information on SKU tiers, please visit https://aka.ms/acr/tiers.");
        }
    }

    private static string Bool(bool value) => value ? "true" : "false";
}
