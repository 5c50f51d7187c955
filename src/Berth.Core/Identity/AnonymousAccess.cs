using System.Runtime.CompilerServices;

namespace Berth.Core.Identity;

/// <summary>
/// Anonymous pull's rights from a registry's stored pattern list (<see cref="Registry.AnonymousPullRepositories"/>):
/// parsed once per stored list, since the list is read on every anonymous request and changes only with the registry.
/// </summary>
public static class AnonymousAccess
{
    private static readonly ConditionalWeakTable<IReadOnlyList<string>, Permissions> Parsed = new();

    /// <summary>Every repository for no list (ACR's meaning), else the repositories the patterns cover.</summary>
    public static Permissions For(IReadOnlyList<string>? patterns) =>
        patterns is null ? Permissions.AnonymousPull : Parsed.GetValue(patterns, Permissions.AnonymousPullOf);

    /// <summary>
    /// The stored form of a requested list: null (every repository) for an empty list or one holding <c>*</c>, else the
    /// distinct patterns in the order given. Throws <see cref="ArgumentException"/> naming the first invalid pattern.
    /// </summary>
    public static IReadOnlyList<string>? Normalize(IReadOnlyList<string> patterns)
    {
        foreach (var pattern in patterns)
        {
            if (pattern != ScopeNames.Wildcard && !RepositoryPattern.TryParse(pattern, out _, out var error)) throw new ArgumentException(error);
        }
        if (patterns.Count == 0 || patterns.Contains(ScopeNames.Wildcard)) return null;
        return patterns.Distinct(StringComparer.Ordinal).ToArray();
    }
}
