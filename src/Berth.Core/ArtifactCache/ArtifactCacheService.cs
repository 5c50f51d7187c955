using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Berth.Core.Identity.Credentials;
using Berth.Core.Upstream;

namespace Berth.Core.ArtifactCache;

/// <summary>A credential set as written by the management plane: the secrets in plain text, null to keep the stored ones.</summary>
public sealed record CredentialSetWrite(string LoginServer, string? Username, string? Password);

/// <summary>A repository of the registry that a cache rule fills: the rule, and where upstream its content lives.</summary>
public sealed record CachedRepository(string Registry, CacheRule Rule, UpstreamEndpoint Upstream, string UpstreamRepository, UpstreamCredentials? Credentials);

/// <summary>
/// Cache rules and credential sets, with ACR's rules for them: names of 5-50 letters, digits and dashes; a source
/// <c>host/path</c> (or <c>host/path/*</c>) and a target repository (or <c>prefix/*</c>, or <c>*</c>), wildcards on both
/// sides or neither; wildcard targets that never overlap each other; one rule per target; a new static rule's target
/// repository must not exist yet; at most <see cref="MaxRulesPerRegistry"/> rules. Credential set secrets are encrypted
/// at rest (<see cref="SecretProtector"/>, bound to the registry and set) and read back only to log in upstream. The
/// checks over the registry's rules and sets run inside the store's write, over what it reads under its lock, so that
/// concurrent requests (on one node or several) cannot both pass a check that only one of them may.
/// </summary>
public sealed partial class ArtifactCacheService(
    IArtifactCacheStore store,
    IMetadataStore metadata,
    SecretProtector secrets,
    RegistryClient upstreams,
    IOptions<ArtifactCacheOptions> options,
    TimeProvider time)
{
    /// <summary>ACR's limit in every tier.</summary>
    public const int MaxRulesPerRegistry = 1000;

    [GeneratedRegex("^[a-zA-Z0-9-]{5,50}$", RegexOptions.CultureInvariant)]
    private static partial Regex ResourceNamePattern();

    private readonly ConcurrentDictionary<string, (IReadOnlyList<CacheRule> Rules, DateTimeOffset ReadAt)> _rules = new();

    public Task<IReadOnlyList<CacheRule>> ListRulesAsync(string registry, CancellationToken cancellationToken) => store.ListRulesAsync(registry, cancellationToken);

    public Task<CacheRule?> GetRuleOrNullAsync(string registry, string name, CancellationToken cancellationToken) => store.GetRuleOrNullAsync(registry, name, cancellationToken);

    /// <summary>Creates or replaces a rule; <c>created</c> is false when one of that name existed.</summary>
    public async Task<(CacheRule Rule, bool Created)> PutRuleAsync(string registry, string name, string source, string target, string? credentialSet,
        CancellationToken cancellationToken)
    {
        EnsureName(name, "cache rule");
        var sourceWildcard = source.EndsWith("/*", StringComparison.Ordinal);
        EnsureSource(source);
        if (!RepositoryPattern.TryParse(target, out var targetPattern, out var targetError))
            throw BadRequest($"targetRepository: {targetError}");
        var targetWildcard = targetPattern.IsPrefix || targetPattern.IsEveryRepository;
        if (sourceWildcard != targetWildcard)
            throw BadRequest($"A wildcard rule needs a wildcard on both sides (source '{source}', target '{target}'): for example 'docker.io/library/*' to 'library/*'.");
        // Read before the write, whose lock is the rules' and not the repositories': a repository pushed meanwhile wins or loses as before.
        var targetRepositoryExists = !targetWildcard && await metadata.RepositoryExistsAsync(new RepositoryKey(registry, target), cancellationToken);

        CacheRule? existing = null, rule = null;
        var written = await store.PutRuleAsync(registry, state =>
        {
            EnsureCredentialSetExists(registry, credentialSet, state);
            existing = state.Rules.FirstOrDefault(r => SameName(r.Name, name));
            if (existing is null && state.Rules.Count >= MaxRulesPerRegistry)
                throw new RegistryException(RegistryErrorCode.Conflict, $"Registry '{registry}' already has {MaxRulesPerRegistry} cache rules, the most a registry may have.");
            foreach (var other in state.Rules.Where(r => !SameName(r.Name, name)))
            {
                if (other.TargetRepository == target)
                    throw new RegistryException(RegistryErrorCode.Conflict, $"The cache rule '{other.Name}' already has the target repository '{target}'.");
                if (targetWildcard && IsWildcard(other.TargetRepository) && Overlap(target, other.TargetRepository))
                    throw new RegistryException(RegistryErrorCode.Conflict,
                        $"The wildcard target '{target}' overlaps the target '{other.TargetRepository}' of cache rule '{other.Name}'; wildcard rules may not overlap.");
            }
            if (targetRepositoryExists && existing?.TargetRepository != target)
                throw new RegistryException(RegistryErrorCode.Conflict, $"The target repository '{target}' already exists in registry '{registry}'; a cache rule needs a new repository.");
            return rule = new CacheRule(name, source, target, credentialSet, existing?.CreatedAt ?? time.GetUtcNow());
        }, cancellationToken);
        if (!written)
            throw new RegistryException(RegistryErrorCode.Conflict, $"Another cache rule already has the target repository '{target}'.");
        _rules.TryRemove(registry, out _);
        return (rule!, existing is null);
    }

    /// <summary>ARM's PATCH of a rule: only its credential set changes (null removes it).</summary>
    public async Task<CacheRule> UpdateRuleCredentialSetAsync(string registry, string name, string? credentialSet, CancellationToken cancellationToken)
    {
        CacheRule? updated = null;
        await store.PutRuleAsync(registry, state =>
        {
            var rule = state.Rules.FirstOrDefault(r => SameName(r.Name, name))
                ?? throw new RegistryException(RegistryErrorCode.NotFound, $"The cache rule '{name}' does not exist in registry '{registry}'.");
            EnsureCredentialSetExists(registry, credentialSet, state);
            return updated = rule with { CredentialSet = credentialSet, LastError = null, LastErrorAt = null };
        }, cancellationToken);
        _rules.TryRemove(registry, out _);
        return updated!;
    }

    /// <summary>Deletes the rule; the content it cached stays, as an ordinary repository.</summary>
    public async Task<bool> DeleteRuleAsync(string registry, string name, CancellationToken cancellationToken)
    {
        var deleted = await store.DeleteRuleAsync(registry, name, cancellationToken);
        _rules.TryRemove(registry, out _);
        return deleted;
    }

    public Task<IReadOnlyList<CredentialSet>> ListCredentialSetsAsync(string registry, CancellationToken cancellationToken) =>
        store.ListCredentialSetsAsync(registry, cancellationToken);

    public Task<CredentialSet?> GetCredentialSetOrNullAsync(string registry, string name, CancellationToken cancellationToken) =>
        store.GetCredentialSetOrNullAsync(registry, name, cancellationToken);

    /// <summary>Creates or updates a credential set. A new set needs both secrets; an update keeps the ones not given.</summary>
    public async Task<(CredentialSet Set, bool Created)> PutCredentialSetAsync(string registry, string name, CredentialSetWrite write, CancellationToken cancellationToken)
    {
        EnsureName(name, "credential set");
        if (!UpstreamEndpoint.TryParseHostPort(write.LoginServer, out _, out _))
            throw BadRequest($"loginServer '{write.LoginServer}' must be a registry host such as docker.io or ghcr.io (host[:port], no scheme or path).");
        var existing = await store.GetCredentialSetOrNullAsync(registry, name, cancellationToken);
        if (existing is null && (string.IsNullOrEmpty(write.Username) || string.IsNullOrEmpty(write.Password)))
            throw BadRequest("A new credential set needs a username and a password (authCredentials[0].username and .password).");
        var setName = existing?.Name ?? name;
        var set = new CredentialSet(setName, write.LoginServer.ToLowerInvariant(),
            write.Username is { Length: > 0 } user ? secrets.Protect(user, SecretContext(registry, setName, "username")) : existing!.ProtectedUsername,
            write.Password is { Length: > 0 } password ? secrets.Protect(password, SecretContext(registry, setName, "password")) : existing!.ProtectedPassword,
            existing?.PrincipalId ?? Guid.NewGuid().ToString(),
            existing?.CreatedAt ?? time.GetUtcNow());
        await store.PutCredentialSetAsync(registry, set, cancellationToken);
        return (set, existing is null);
    }

    /// <summary>Deletes a credential set no rule uses; one in use is refused, as a rule without its login would fail every pull.</summary>
    public Task<bool> DeleteCredentialSetAsync(string registry, string name, CancellationToken cancellationToken) =>
        store.DeleteCredentialSetAsync(registry, name, state =>
        {
            var user = state.Rules.FirstOrDefault(r => r.CredentialSet is { } set && SameName(set, name));
            if (user is not null)
                throw new RegistryException(RegistryErrorCode.Conflict, $"The credential set '{name}' is used by cache rule '{user.Name}'; remove it from the rule first.");
        }, cancellationToken);

    /// <summary>
    /// The rule that fills <paramref name="repository"/>, or null when none does. A rule with exactly that target wins over
    /// a wildcard; wildcards never overlap, so at most one matches. Rules are read through a short per-node cache.
    /// </summary>
    public async Task<CachedRepository?> FindAsync(RepositoryKey repository, CancellationToken cancellationToken)
    {
        var rules = await RulesAsync(repository.Registry, cancellationToken);
        if (rules.Count == 0) return null;
        var rule = rules.FirstOrDefault(r => r.TargetRepository == repository.Name)
            ?? rules.Where(r => IsWildcard(r.TargetRepository))
                .FirstOrDefault(r => RepositoryPattern.TryParse(r.TargetRepository, out var pattern, out _) && pattern.Matches(repository.Name));
        if (rule is null) return null;
        var (host, path) = SplitSource(rule.SourceRepository);
        var upstreamRepository = IsWildcard(rule.TargetRepository)
            ? CombineWildcard(path, rule.TargetRepository, repository.Name)
            : path;
        return new CachedRepository(repository.Registry, rule, upstreams.EndpointFor(host), upstreamRepository,
            rule.CredentialSet is null ? null : await CredentialsAsync(repository.Registry, rule.CredentialSet, cancellationToken));
    }

    /// <summary>
    /// The rule mapping a repository of <paramref name="upstreamHost"/> into the registry, for containerd's mirror requests
    /// (<c>?ns=host</c>): the target repository whose rule's source is that host and path, or null when no rule covers it.
    /// </summary>
    public async Task<string?> FindTargetForUpstreamAsync(string registry, string upstreamHost, string upstreamRepository, CancellationToken cancellationToken)
    {
        var rules = await RulesAsync(registry, cancellationToken);
        var host = UpstreamEndpoint.ApiAuthority(upstreamHost);
        foreach (var rule in rules.OrderBy(r => IsWildcard(r.TargetRepository)))
        {
            var (ruleHost, path) = SplitSource(rule.SourceRepository);
            if (!string.Equals(UpstreamEndpoint.ApiAuthority(ruleHost), host, StringComparison.OrdinalIgnoreCase)) continue;
            if (!IsWildcard(rule.TargetRepository))
            {
                if (path == upstreamRepository || (path == $"library/{upstreamRepository}" && host == "registry-1.docker.io")) return rule.TargetRepository;
                continue;
            }
            var sourcePrefix = path.Length == 1 ? "" : path[..^1]; // "library/" of "library/*", "" of "*"
            if (upstreamRepository.Length > sourcePrefix.Length && upstreamRepository.StartsWith(sourcePrefix, StringComparison.Ordinal))
            {
                var targetPrefix = rule.TargetRepository.Length == 1 ? "" : rule.TargetRepository[..^1];
                var target = targetPrefix + upstreamRepository[sourcePrefix.Length..];
                if (Oci.Names.IsValidRepository(target)) return target;
            }
        }
        return null;
    }

    /// <summary>Records the outcome of a request upstream on the rule (and, for a login failure, its credential set), shown by <c>cache show</c>.</summary>
    public async Task RecordOutcomeAsync(CachedRepository cached, UpstreamException? error, CancellationToken cancellationToken)
    {
        var message = error?.Message;
        if (cached.Rule.LastError == message) return;
        await store.RecordRuleErrorAsync(cached.Registry, cached.Rule.Name, message, time.GetUtcNow(), cancellationToken);
        if (cached.Rule.CredentialSet is { } set && (error is null || error.Kind == UpstreamErrorKind.Unauthorized))
            await store.RecordCredentialErrorAsync(cached.Registry, set, message, cancellationToken);
        _rules.TryRemove(cached.Registry, out _);
    }

    private async Task<IReadOnlyList<CacheRule>> RulesAsync(string registry, CancellationToken cancellationToken)
    {
        if (_rules.TryGetValue(registry, out var entry) && time.GetUtcNow() - entry.ReadAt < options.Value.RuleCacheLifetime) return entry.Rules;
        var rules = await store.ListRulesAsync(registry, cancellationToken);
        _rules[registry] = (rules, time.GetUtcNow());
        return rules;
    }

    private async Task<UpstreamCredentials?> CredentialsAsync(string registry, string setName, CancellationToken cancellationToken)
    {
        var set = await store.GetCredentialSetOrNullAsync(registry, setName, cancellationToken);
        if (set?.ProtectedUsername is null || set.ProtectedPassword is null) return null;
        var user = secrets.UnprotectOrNull(set.ProtectedUsername, SecretContext(registry, set.Name, "username"));
        var password = secrets.UnprotectOrNull(set.ProtectedPassword, SecretContext(registry, set.Name, "password"));
        return user is null || password is null ? null : new UpstreamCredentials(user, password);
    }

    private static string SecretContext(string registry, string set, string part) => $"credential-set:{registry}/{set.ToLowerInvariant()}:{part}";

    private static void EnsureCredentialSetExists(string registry, string? credentialSet, ArtifactCacheState state)
    {
        if (credentialSet is not null && !state.CredentialSets.Any(s => SameName(s.Name, credentialSet)))
            throw new RegistryException(RegistryErrorCode.NotFound, $"The credential set '{credentialSet}' does not exist in registry '{registry}'.");
    }

    private static void EnsureName(string name, string kind)
    {
        if (!ResourceNamePattern().IsMatch(name))
            throw new RegistryException(RegistryErrorCode.InvalidName, $"The {kind} name '{name}' is invalid: use 5 to 50 letters, digits and dashes.");
    }

    /// <summary><c>host/path</c> or <c>host/path/*</c> (or <c>host/*</c>), the host a registry's (a dot, a port or localhost).</summary>
    private static void EnsureSource(string source)
    {
        var slash = source.IndexOf('/');
        if (slash <= 0 || slash == source.Length - 1)
            throw BadRequest($"sourceRepository '{source}' must be a registry host and a repository, such as docker.io/library/ubuntu or docker.io/library/*.");
        var host = source[..slash];
        if (!UpstreamEndpoint.TryParseHostPort(host, out var hostName, out var port) || (!hostName.Contains('.') && port is null && hostName != "localhost"))
            throw BadRequest($"sourceRepository '{source}' must start with a registry host (with a dot or a port), such as docker.io or ghcr.io.");
        var path = source[(slash + 1)..];
        if (!RepositoryPattern.TryParse(path, out _, out var error))
            throw BadRequest($"sourceRepository: {error}");
    }

    private static (string Host, string Path) SplitSource(string source)
    {
        var slash = source.IndexOf('/');
        return (source[..slash], source[(slash + 1)..]);
    }

    /// <summary>The upstream repository for a wildcard target: the source's prefix plus what the target's <c>*</c> matched.</summary>
    private static string CombineWildcard(string sourcePath, string targetPattern, string repository)
    {
        var targetPrefix = targetPattern.Length == 1 ? "" : targetPattern[..^1];
        var sourcePrefix = sourcePath.Length == 1 ? "" : sourcePath[..^1];
        return sourcePrefix + repository[targetPrefix.Length..];
    }

    private static bool IsWildcard(string pattern) => pattern.EndsWith('*');

    /// <summary>Two wildcard targets overlap when one's prefix contains the other's (<c>*</c> overlaps every wildcard).</summary>
    private static bool Overlap(string a, string b)
    {
        var pa = a[..^1];
        var pb = b[..^1];
        return pa.StartsWith(pb, StringComparison.Ordinal) || pb.StartsWith(pa, StringComparison.Ordinal);
    }

    private static bool SameName(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static RegistryException BadRequest(string message) => new(RegistryErrorCode.BadRequest, message);
}
