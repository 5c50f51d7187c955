namespace Berth.Core.Identity;

/// <summary>
/// Computes a token's <c>access</c> claim: the intersection of what was asked and what is allowed
/// (reference §1.1). A missing permission shrinks the grant; it is never an error.
/// </summary>
public static class Grants
{
    /// <summary>
    /// Scopes on the same resource are merged. A repository <c>*</c> expands to the actions actually held
    /// (kept as <c>*</c> only when all are held). Registry resources take only <c>*</c>. Entries left with no
    /// action are omitted, so an empty request (docker login) or a request for nothing allowed yields an empty list.
    /// </summary>
    public static IReadOnlyList<AccessScope> Compute(Permissions allowed, IEnumerable<AccessScope> requested)
    {
        var merged = new List<(string Type, string Name, List<string> Actions)>();
        foreach (var scope in requested)
        {
            var index = merged.FindIndex(m => m.Type == scope.Type && m.Name == scope.Name);
            if (index < 0)
            {
                merged.Add((scope.Type, scope.Name, []));
                index = merged.Count - 1;
            }
            foreach (var action in scope.Actions)
            {
                if (!merged[index].Actions.Contains(action))
                    merged[index].Actions.Add(action);
            }
        }

        var granted = new List<AccessScope>(merged.Count);
        foreach (var (type, name, actions) in merged)
        {
            var grantedActions = type switch
            {
                ScopeNames.Repository => GrantRepository(allowed, name, actions),
                ScopeNames.Registry => actions.Contains(ScopeNames.Wildcard) && allowed.AllowsRegistry(name) ? [ScopeNames.Wildcard] : [],
                _ => [],
            };
            if (grantedActions.Count > 0)
                granted.Add(new AccessScope(type, name, grantedActions));
        }
        return granted;
    }

    private static List<string> GrantRepository(Permissions allowed, string name, List<string> requested)
    {
        // A signed grant names a repository that can exist, or the literal "*" (every repository). Anything else
        // (a "team/*" pattern, "team/../secret", a host:port prefix) is refused here rather than trusted to the /v2 router.
        if (name != ScopeNames.Wildcard && !Oci.Names.IsValidRepository(name))
            return [];
        var held = allowed.GetRepositoryActions(name);
        var result = new List<string>();
        if (held == RepositoryActions.None)
            return result;
        if (requested.Contains(ScopeNames.Wildcard))
        {
            // Keep the order a client would expect from a plain request for the same actions.
            result.AddRange(ScopeNames.Format(held));
            return result;
        }
        foreach (var action in requested)
        {
            var flag = ScopeNames.ParseRepositoryAction(action);
            if (flag != RepositoryActions.None && (held & flag) == flag)
                result.Add(action);
        }
        return result;
    }
}
