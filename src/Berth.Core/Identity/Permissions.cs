namespace Berth.Core.Identity;

/// <summary>
/// One additive rule: these actions on every repository the pattern covers. <see cref="GrantedBy"/> says where the rule
/// comes from (a scope-map action, the admin user, an anonymous-pull pattern), for explanations only.
/// </summary>
public readonly record struct RepositoryRule(RepositoryPattern Pattern, RepositoryActions Actions, string? GrantedBy = null);

/// <summary>
/// What a principal may do right now: repository actions by additive pattern rules plus registry-level
/// resources (the catalog). The single thing every authorization decision asks (DESIGN: one decision point).
/// Immutable; safe to share.
/// </summary>
public sealed class Permissions
{
    private readonly RepositoryRule[] _rules;
    private readonly HashSet<string> _registryResources;
    private readonly Permissions? _restriction;
    private readonly Permissions? _union;

    private Permissions(IEnumerable<RepositoryRule> rules, IEnumerable<string> registryResources, Permissions? restriction = null, Permissions? union = null)
    {
        _rules = rules.Where(r => r.Actions != RepositoryActions.None).ToArray();
        _registryResources = new HashSet<string>(registryResources, StringComparer.Ordinal);
        _restriction = restriction;
        _union = union;
    }

    public static Permissions None { get; } = new([], []);

    /// <summary>The admin user: every action on every repository, the catalog and the deleted catalog.</summary>
    public static Permissions Admin { get; } = new(
        [new RepositoryRule(RepositoryPattern.EveryRepository, RepositoryActions.All, "the admin user")],
        [ScopeNames.Catalog, ScopeNames.DeletedCatalog]);

    /// <summary>
    /// Anonymous pull (reference §2.2, §7.6): pull and metadata_read on every repository plus the catalog;
    /// never push, delete or metadata writes.
    /// </summary>
    public static Permissions AnonymousPull { get; } = new(
        [new RepositoryRule(RepositoryPattern.EveryRepository, RepositoryActions.Pull | RepositoryActions.MetadataRead, "anonymous pull (every repository)")],
        [ScopeNames.Catalog]);

    /// <summary>
    /// Anonymous pull limited to <paramref name="patterns"/> (scope-map wildcards, on path segments): pull and
    /// metadata_read on the repositories they cover, and the catalog, which then lists only those. Patterns that do not
    /// parse grant nothing (they are validated when set).
    /// </summary>
    public static Permissions AnonymousPullOf(IEnumerable<string> patterns) => new(
        patterns.Select(p => RepositoryPattern.TryParse(p, out var pattern, out _)
                ? new RepositoryRule(pattern, RepositoryActions.Pull | RepositoryActions.MetadataRead, $"anonymous pull pattern \"{p}\"") : default)
            .Where(rule => rule.Actions != RepositoryActions.None),
        [ScopeNames.Catalog]);

    /// <summary>A repository-scoped token's rights: its scope map's rules and never the catalog (reference §3.1).</summary>
    public static Permissions FromRules(IEnumerable<RepositoryRule> rules) => new(rules, []);

    /// <summary>The rights an issued token's <c>access</c> claim carries (names are literal; <c>*</c> is every repository).</summary>
    public static Permissions FromAccessList(IEnumerable<AccessScope> access)
    {
        var rules = new List<RepositoryRule>();
        var registry = new List<string>();
        foreach (var entry in access)
        {
            if (entry.Type == ScopeNames.Repository)
            {
                var actions = RepositoryActions.None;
                foreach (var action in entry.Actions)
                    actions |= ScopeNames.ParseRepositoryAction(action);
                rules.Add(new RepositoryRule(RepositoryPattern.Literal(entry.Name), actions));
            }
            else if (entry.Type == ScopeNames.Registry && entry.Actions.Contains(ScopeNames.Wildcard))
            {
                registry.Add(entry.Name);
            }
        }
        return new Permissions(rules, registry);
    }

    public IReadOnlyList<RepositoryRule> Rules => _rules;

    /// <summary>Only what both this and <paramref name="other"/> allow (a bearer token is capped by its issuer's current rights).</summary>
    public Permissions Intersect(Permissions other) =>
        new(_rules, _registryResources, _restriction is null ? other : _restriction.Intersect(other), _union?.Intersect(other));

    /// <summary>What either this or <paramref name="other"/> allows (an identity's own rights and the registry's public ones).</summary>
    public Permissions Union(Permissions other) =>
        new(_rules, _registryResources, _restriction, _union is null ? other : _union.Union(other));

    /// <summary>The union of every rule covering the repository, capped by any restriction, plus what a union adds.</summary>
    public RepositoryActions GetRepositoryActions(string repository)
    {
        var actions = RepositoryActions.None;
        foreach (var rule in _rules)
        {
            if (rule.Pattern.Matches(repository))
                actions |= rule.Actions;
        }
        if (_restriction is not null && actions != RepositoryActions.None)
            actions &= _restriction.GetRepositoryActions(repository);
        if (_union is not null)
            actions |= _union.GetRepositoryActions(repository);
        return actions;
    }

    /// <summary>
    /// The rules that grant something on <paramref name="repository"/>, own and united ones alike: what answers "who can
    /// pull this, and why". A restriction (an access token's grant) is not an identity's rule and is not listed.
    /// </summary>
    public IEnumerable<RepositoryRule> RulesCovering(string repository) =>
        _rules.Where(rule => rule.Pattern.Matches(repository)).Concat(_union?.RulesCovering(repository) ?? []);

    public bool AllowsRepository(string repository, RepositoryActions required) =>
        required != RepositoryActions.None && (GetRepositoryActions(repository) & required) == required;

    /// <summary>Registry-level resources (<c>catalog</c>, <c>deleted_catalog</c>) take only the <c>*</c> action.</summary>
    public bool AllowsRegistry(string resource) =>
        (_registryResources.Contains(resource) && (_restriction?.AllowsRegistry(resource) ?? true)) || _union?.AllowsRegistry(resource) == true;

    /// <summary>Whether every action of <paramref name="required"/> is allowed; unknown types or actions never are.</summary>
    public bool Allows(AccessScope required)
    {
        if (required.Actions.Count == 0)
            return false;
        switch (required.Type)
        {
            case ScopeNames.Repository:
                var actions = RepositoryActions.None;
                foreach (var action in required.Actions)
                {
                    var flag = ScopeNames.ParseRepositoryAction(action);
                    if (flag == RepositoryActions.None)
                        return false;
                    actions |= flag;
                }
                return AllowsRepository(required.Name, actions);
            case ScopeNames.Registry:
                return required.Actions.All(a => a == ScopeNames.Wildcard) && AllowsRegistry(required.Name);
            default:
                return false;
        }
    }
}
