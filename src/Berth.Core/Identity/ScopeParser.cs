namespace Berth.Core.Identity;

/// <summary>
/// Parses the <c>scope</c> parameters of token requests. Clients send them repeated (docker, containerd GET)
/// or space-joined in one field (OAuth2 POST, reference §1.3); both are accepted, and so is an empty scope.
/// </summary>
public static class ScopeParser
{
    /// <summary>Longest scope string considered; longer ones are ignored rather than parsed.</summary>
    public const int MaxScopeLength = 1024;

    /// <summary>Most scopes taken from one request; a token request never needs more.</summary>
    public const int MaxScopes = 100;

    /// <summary>
    /// Every well-formed scope of known type, in request order. Malformed scopes and unknown resource types
    /// (e.g. Helm 2's <c>artifact-repository</c>) are dropped: a grant is an intersection, so asking for
    /// something that cannot exist yields nothing for it rather than an error.
    /// </summary>
    public static IReadOnlyList<AccessScope> Parse(IEnumerable<string?> scopeParameters)
    {
        var scopes = new List<AccessScope>();
        foreach (var parameter in scopeParameters)
        {
            if (string.IsNullOrWhiteSpace(parameter))
                continue;
            foreach (var part in parameter.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (scopes.Count == MaxScopes)
                    return scopes;
                if (TryParse(part, out var scope))
                    scopes.Add(scope);
            }
        }
        return scopes;
    }

    public static IReadOnlyList<AccessScope> Parse(params string?[] scopeParameters) => Parse((IEnumerable<string?>)scopeParameters);

    /// <summary>
    /// Parses one <c>type[(class)]:name:action[,action...]</c>. As in distribution's token server, the type is
    /// everything before the first colon and the actions everything after the last, so a name may contain colons
    /// (a <c>host:port/</c> prefix some clients send).
    /// </summary>
    public static bool TryParse(string value, out AccessScope scope)
    {
        scope = null!;
        // Control characters are never part of a real scope; refusing them here keeps them out of every
        // token claim and challenge header built from a parsed scope.
        if (value.Length is 0 or > MaxScopeLength || value.Any(char.IsControl))
            return false;
        var first = value.IndexOf(':');
        var last = value.LastIndexOf(':');
        if (first <= 0 || last == first)
            return false;

        var type = value[..first];
        // docker sends "repository(plugin)" for plugin images; the class does not change permissions.
        var paren = type.IndexOf('(');
        if (paren >= 0)
        {
            if (!type.EndsWith(')'))
                return false;
            type = type[..paren];
        }
        if (type is not (ScopeNames.Repository or ScopeNames.Registry))
            return false;

        var name = value[(first + 1)..last];
        if (name.Length == 0)
            return false;

        var actions = new List<string>();
        foreach (var action in value[(last + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!actions.Contains(action))
                actions.Add(action);
        }
        if (actions.Count == 0)
            return false;

        scope = new AccessScope(type, name, actions);
        return true;
    }
}
