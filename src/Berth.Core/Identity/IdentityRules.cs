using System.Text.RegularExpressions;

namespace Berth.Core.Identity;

/// <summary>Per-tier identity limits (reference §6: tokens / scope maps 100, 500, 50,000; 500 actions and repositories per map).</summary>
public sealed record IdentityLimits(int Tokens, int ScopeMaps, int ActionsPerScopeMap, int RepositoriesPerScopeMap)
{
    public static IdentityLimits For(RegistrySku tier) => tier switch
    {
        RegistrySku.Basic => new(100, 100, 500, 500),
        RegistrySku.Standard => new(500, 500, 500, 500),
        RegistrySku.Premium => new(50_000, 50_000, 500, 500),
        _ => throw new ArgumentOutOfRangeException(nameof(tier)),
    };
}

/// <summary>ACR's ARM name rules for tokens and scope maps (reference §3.2, from the swagger).</summary>
public static partial class IdentityNames
{
    public const int MinLength = 5;
    public const int MaxLength = 50;

    [GeneratedRegex("^[a-zA-Z0-9-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex TokenPattern();

    [GeneratedRegex("^[a-zA-Z0-9-_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex ScopeMapPattern();

    public static bool IsValidTokenName(string? name) =>
        name is { Length: >= MinLength and <= MaxLength } && TokenPattern().IsMatch(name);

    /// <summary>User scope maps follow the swagger pattern and may not take a system map's name.</summary>
    public static bool IsValidScopeMapName(string? name) =>
        name is { Length: >= MinLength and <= MaxLength } && ScopeMapPattern().IsMatch(name) && !SystemScopeMaps.IsSystemName(name);

    public static void EnsureTokenName(string? name)
    {
        if (!IsValidTokenName(name))
            throw new IdentityException(IdentityErrorCode.InvalidName,
                $"invalid token name \"{name}\": use {MinLength} to {MaxLength} letters, digits or hyphens");
    }

    public static void EnsureScopeMapName(string? name)
    {
        if (name is not null && SystemScopeMaps.IsSystemName(name))
            throw new IdentityException(IdentityErrorCode.SystemScopeMapReadOnly,
                $"scope map \"{name}\" is a system scope map and cannot be created, changed or deleted");
        if (!IsValidScopeMapName(name))
            throw new IdentityException(IdentityErrorCode.InvalidName,
                $"invalid scope map name \"{name}\": use {MinLength} to {MaxLength} letters, digits, hyphens or underscores");
    }
}
