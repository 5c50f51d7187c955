using Berth.Core.Identity.Credentials;

namespace Berth.Core.Identity;

/// <summary>
/// Manages a registry's identities: the admin user, repository-scoped tokens and scope maps. These are the
/// operations the ARM management plane exposes (reference §4); they validate ACR's rules and tier limits and
/// throw <see cref="IdentityException"/> with a one-line reason when refusing. Registry names are the store's keys.
/// </summary>
public sealed class IdentityService(
    IIdentityStore store,
    SecretProtector secrets,
    TimeProvider time)
{
    // ---- admin user -------------------------------------------------------------------------------------

    public async Task<AdminUser> GetAdminUserAsync(string registry, CancellationToken cancellationToken)
    {
        var record = await store.GetAdminUserOrNullAsync(registry, cancellationToken);
        return new AdminUser(registry, record?.Enabled ?? false);
    }

    /// <summary>
    /// Turns the admin user on or off. Passwords are generated the first time it is enabled and kept while it is
    /// disabled, as ACR does (re-enabling brings back the same credentials).
    /// </summary>
    public async Task<AdminUser> SetAdminUserEnabledAsync(string registry, bool enabled, CancellationToken cancellationToken)
    {
        var record = await store.GetAdminUserOrNullAsync(registry, cancellationToken)
            ?? new AdminUserRecord(registry, false, null, null, 0);
        if (record.Enabled == enabled && (!enabled || record.Password is not null))
            return new AdminUser(registry, enabled);
        var now = time.GetUtcNow();
        record = record with
        {
            Enabled = enabled,
            Password = record.Password ?? NewAdminPassword(registry, AdminPasswordNames.Password, now, out _),
            Password2 = record.Password2 ?? NewAdminPassword(registry, AdminPasswordNames.Password2, now, out _),
        };
        await store.PutAdminUserAsync(record, cancellationToken);
        return new AdminUser(registry, enabled);
    }

    /// <summary><c>listCredentials</c>: the admin username and passwords, or null while the admin user is disabled.</summary>
    public async Task<AdminCredentials?> GetAdminCredentialsOrNullAsync(string registry, CancellationToken cancellationToken)
    {
        var record = await store.GetAdminUserOrNullAsync(registry, cancellationToken);
        return record is { Enabled: true } ? Reveal(record) : null;
    }

    /// <summary><c>regenerateCredential</c>: replaces <c>password</c> or <c>password2</c>; the other keeps working.</summary>
    public async Task<AdminCredentials> RegenerateAdminPasswordAsync(string registry, string passwordName, CancellationToken cancellationToken)
    {
        if (!AdminPasswordNames.IsValid(passwordName))
            throw new IdentityException(IdentityErrorCode.InvalidArgument,
                $"invalid password name \"{passwordName}\": use \"{AdminPasswordNames.Password}\" or \"{AdminPasswordNames.Password2}\"");
        var record = await store.GetAdminUserOrNullAsync(registry, cancellationToken);
        if (record is not { Enabled: true })
            throw new IdentityException(IdentityErrorCode.AdminUserDisabled, $"the admin user of registry \"{registry}\" is disabled; enable it first");
        var password = NewAdminPassword(registry, passwordName, time.GetUtcNow(), out _);
        record = passwordName == AdminPasswordNames.Password ? record with { Password = password } : record with { Password2 = password };
        record = await store.PutAdminUserAsync(record, cancellationToken);
        return Reveal(record);
    }

    // ---- scope maps -------------------------------------------------------------------------------------

    /// <summary>The system maps first (as <c>az acr scope-map list</c> shows them), then the user maps by name.</summary>
    public async Task<IReadOnlyList<ScopeMap>> ListScopeMapsAsync(string registry, CancellationToken cancellationToken)
    {
        var user = await store.ListScopeMapsAsync(registry, cancellationToken);
        return [.. SystemScopeMaps.All, .. user.Select(ToScopeMap)];
    }

    public async Task<ScopeMap?> GetScopeMapOrNullAsync(string registry, string name, CancellationToken cancellationToken)
    {
        if (SystemScopeMaps.GetOrNull(name) is { } system)
            return system;
        var record = await store.GetScopeMapOrNullAsync(registry, name, cancellationToken);
        return record is null ? null : ToScopeMap(record);
    }

    /// <summary>PUT: creates the map or replaces its description and actions (the creation date is kept).</summary>
    public async Task<ScopeMap> PutScopeMapAsync(string registry, RegistrySku tier, string name, string? description, IReadOnlyList<string> actions, CancellationToken cancellationToken)
    {
        IdentityNames.EnsureScopeMapName(name);
        var limits = IdentityLimits.For(tier);
        var canonical = CanonicalActions(actions, limits);
        var existing = await store.GetScopeMapOrNullAsync(registry, name, cancellationToken);
        if (existing is null && await store.CountScopeMapsAsync(registry, cancellationToken) >= limits.ScopeMaps)
            throw new IdentityException(IdentityErrorCode.LimitExceeded,
                $"registry \"{registry}\" already has the {tier} tier's maximum of {limits.ScopeMaps} scope maps");
        var record = new ScopeMapRecord(registry, existing?.Name ?? name, description, canonical, existing?.CreatedAt ?? time.GetUtcNow(), 0);
        return ToScopeMap(await store.PutScopeMapAsync(record, cancellationToken));
    }

    /// <summary>PATCH: null leaves a property unchanged; <paramref name="actions"/> replaces the whole list.</summary>
    public async Task<ScopeMap> UpdateScopeMapAsync(string registry, RegistrySku tier, string name, string? description, IReadOnlyList<string>? actions, CancellationToken cancellationToken)
    {
        if (SystemScopeMaps.IsSystemName(name))
            IdentityNames.EnsureScopeMapName(name);
        var existing = await store.GetScopeMapOrNullAsync(registry, name, cancellationToken)
            ?? throw new IdentityException(IdentityErrorCode.NotFound, $"scope map \"{name}\" not found in registry \"{registry}\"");
        var record = existing with
        {
            Description = description ?? existing.Description,
            Actions = actions is null ? existing.Actions : CanonicalActions(actions, IdentityLimits.For(tier)),
        };
        return ToScopeMap(await store.PutScopeMapAsync(record, cancellationToken));
    }

    /// <summary>False when the map does not exist. Refused for system maps and for maps tokens still use.</summary>
    public async Task<bool> DeleteScopeMapAsync(string registry, string name, CancellationToken cancellationToken)
    {
        if (SystemScopeMaps.IsSystemName(name))
            IdentityNames.EnsureScopeMapName(name);
        var users = await store.ListTokensUsingScopeMapAsync(registry, name, 5, cancellationToken);
        if (users.Count > 0)
            throw new IdentityException(IdentityErrorCode.ScopeMapInUse,
                $"scope map \"{name}\" is used by token(s) {string.Join(", ", users.Select(u => $"\"{u}\""))}; delete them or bind them to another scope map first");
        return await store.DeleteScopeMapAsync(registry, name, cancellationToken);
    }

    // ---- tokens -----------------------------------------------------------------------------------------

    public async Task<IReadOnlyList<Token>> ListTokensAsync(string registry, CancellationToken cancellationToken) =>
        (await store.ListTokensAsync(registry, cancellationToken)).Select(ToToken).ToList();

    public async Task<Token?> GetTokenOrNullAsync(string registry, string name, CancellationToken cancellationToken)
    {
        var record = await store.GetTokenOrNullAsync(registry, name, cancellationToken);
        return record is null ? null : ToToken(record);
    }

    /// <summary>
    /// PUT: creates the token (without passwords; see <see cref="GenerateTokenPasswordsAsync"/>) or replaces its
    /// scope map and status, keeping its passwords.
    /// </summary>
    public async Task<Token> PutTokenAsync(string registry, RegistrySku tier, string name, string scopeMapName, bool enabled, CancellationToken cancellationToken)
    {
        IdentityNames.EnsureTokenName(name);
        var scopeMap = await RequireScopeMapAsync(registry, scopeMapName, cancellationToken);
        var existing = await store.GetTokenOrNullAsync(registry, name, cancellationToken);
        if (existing is null)
        {
            var limits = IdentityLimits.For(tier);
            if (await store.CountTokensAsync(registry, cancellationToken) >= limits.Tokens)
                throw new IdentityException(IdentityErrorCode.LimitExceeded,
                    $"registry \"{registry}\" already has the {tier} tier's maximum of {limits.Tokens} tokens");
        }
        var record = existing is null
            ? new TokenRecord(registry, name, scopeMap.Name, enabled, time.GetUtcNow(), null, null, 0)
            : existing with { ScopeMapName = scopeMap.Name, Enabled = enabled };
        return ToToken(await store.PutTokenAsync(record, cancellationToken));
    }

    public async Task<Token> UpdateTokenAsync(string registry, string name, TokenUpdate update, CancellationToken cancellationToken)
    {
        var record = await RequireTokenAsync(registry, name, cancellationToken);
        if (update.ScopeMapName is not null)
            record = record with { ScopeMapName = (await RequireScopeMapAsync(registry, update.ScopeMapName, cancellationToken)).Name };
        if (update.Enabled is { } enabled)
            record = record with { Enabled = enabled };
        if (update.KeepPasswords is { } keep)
        {
            foreach (var passwordName in keep)
                EnsureTokenPasswordName(passwordName);
            record = record with
            {
                Password1 = keep.Contains(TokenPasswordNames.Password1) ? record.Password1 : null,
                Password2 = keep.Contains(TokenPasswordNames.Password2) ? record.Password2 : null,
            };
        }
        return ToToken(await store.PutTokenAsync(record, cancellationToken));
    }

    public Task<bool> DeleteTokenAsync(string registry, string name, CancellationToken cancellationToken) =>
        store.DeleteTokenAsync(registry, name, cancellationToken);

    /// <summary>
    /// <c>generateCredentials</c>: new random values for <paramref name="passwordName"/>, or for both passwords when
    /// it is null (reference §4.2). The values are returned here only; the store keeps salted hashes.
    /// </summary>
    public async Task<GeneratedCredentials> GenerateTokenPasswordsAsync(string registry, string name, string? passwordName, DateTimeOffset? expiry, CancellationToken cancellationToken)
    {
        if (passwordName is not null)
            EnsureTokenPasswordName(passwordName);
        var now = time.GetUtcNow();
        if (expiry is { } e && e <= now)
            throw new IdentityException(IdentityErrorCode.InvalidArgument, $"the expiry {e:O} is in the past");
        var record = await RequireTokenAsync(registry, name, cancellationToken);

        var generated = new List<GeneratedPassword>(2);
        foreach (var slot in new[] { TokenPasswordNames.Password1, TokenPasswordNames.Password2 })
        {
            if (passwordName is not null && passwordName != slot)
                continue;
            var value = PasswordGenerator.Generate();
            var stored = new StoredPassword(PasswordHasher.Hash(value), now, expiry);
            record = slot == TokenPasswordNames.Password1 ? record with { Password1 = stored } : record with { Password2 = stored };
            generated.Add(new GeneratedPassword(slot, value, now, expiry));
        }
        record = await store.PutTokenAsync(record, cancellationToken);
        return new GeneratedCredentials(record.Name, generated);
    }

    /// <summary>Removes every identity of a deleted registry.</summary>
    public Task DeleteRegistryAsync(string registry, CancellationToken cancellationToken) =>
        store.DeleteRegistryAsync(registry, cancellationToken);

    // ---- helpers ----------------------------------------------------------------------------------------

    internal static ScopeMap ToScopeMap(ScopeMapRecord record) =>
        new(record.Name, ScopeMapType.UserDefined, record.Description, record.Actions, record.CreatedAt, record.Version);

    private static Token ToToken(TokenRecord record)
    {
        var passwords = new List<TokenPasswordInfo>(2);
        if (record.Password1 is { } p1)
            passwords.Add(new TokenPasswordInfo(TokenPasswordNames.Password1, p1.CreatedAt, p1.Expiry));
        if (record.Password2 is { } p2)
            passwords.Add(new TokenPasswordInfo(TokenPasswordNames.Password2, p2.CreatedAt, p2.Expiry));
        return new Token(record.Name, record.ScopeMapName, record.Enabled, record.CreatedAt, passwords, record.Version);
    }

    /// <summary>Validates, lower-cases and de-duplicates actions, enforcing the per-map limits.</summary>
    private static List<string> CanonicalActions(IReadOnlyList<string> actions, IdentityLimits limits)
    {
        if (actions.Count == 0)
            throw new IdentityException(IdentityErrorCode.InvalidAction, "a scope map needs at least one action");
        var parsed = new List<ScopeMapAction>();
        foreach (var action in actions)
        {
            var p = ScopeMapAction.Parse(action);
            if (!parsed.Contains(p))
                parsed.Add(p);
        }
        if (parsed.Count > limits.ActionsPerScopeMap)
            throw new IdentityException(IdentityErrorCode.LimitExceeded,
                $"a scope map may hold at most {limits.ActionsPerScopeMap} actions; this one has {parsed.Count}");
        var repositories = parsed.Select(p => p.Repository.Value).Distinct(StringComparer.Ordinal).Count();
        if (repositories > limits.RepositoriesPerScopeMap)
            throw new IdentityException(IdentityErrorCode.LimitExceeded,
                $"a scope map may name at most {limits.RepositoriesPerScopeMap} repositories; this one names {repositories}");
        return parsed.Select(p => p.ToString()).ToList();
    }

    private async Task<ScopeMap> RequireScopeMapAsync(string registry, string name, CancellationToken cancellationToken) =>
        await GetScopeMapOrNullAsync(registry, name, cancellationToken)
        ?? throw new IdentityException(IdentityErrorCode.NotFound, $"scope map \"{name}\" not found in registry \"{registry}\"");

    private async Task<TokenRecord> RequireTokenAsync(string registry, string name, CancellationToken cancellationToken) =>
        await store.GetTokenOrNullAsync(registry, name, cancellationToken)
        ?? throw new IdentityException(IdentityErrorCode.NotFound, $"token \"{name}\" not found in registry \"{registry}\"");

    private static void EnsureTokenPasswordName(string name)
    {
        if (!TokenPasswordNames.IsValid(name))
            throw new IdentityException(IdentityErrorCode.InvalidArgument,
                $"invalid password name \"{name}\": use \"{TokenPasswordNames.Password1}\" or \"{TokenPasswordNames.Password2}\"");
    }

    private StoredPassword NewAdminPassword(string registry, string name, DateTimeOffset now, out string value)
    {
        value = PasswordGenerator.Generate();
        return new StoredPassword(secrets.Protect(value, AdminPasswordNames.Context(registry, name)), now, null);
    }

    private AdminCredentials Reveal(AdminUserRecord record)
    {
        string Open(StoredPassword? password, string name) =>
            password is not null && secrets.UnprotectOrNull(password.Secret, AdminPasswordNames.Context(record.Registry, name)) is { } value
                ? value
                : throw new InvalidOperationException(
                    $"the admin {name} of registry \"{record.Registry}\" cannot be decrypted; was the key directory replaced? Regenerate the password.");
        return new AdminCredentials(record.Registry, Open(record.Password, AdminPasswordNames.Password), Open(record.Password2, AdminPasswordNames.Password2));
    }
}
