namespace Berth.Core.Identity;

public enum ScopeMapType
{
    UserDefined,
    SystemDefined,
}

/// <summary>A scope map as the management plane shows it. <see cref="Actions"/> are canonical action strings.</summary>
public sealed record ScopeMap(
    string Name,
    ScopeMapType Type,
    string? Description,
    IReadOnlyList<string> Actions,
    DateTimeOffset CreationDate,
    long Version)
{
    /// <summary>The token-service rights of a token bound to this map: the union of its rules, never the catalog.</summary>
    public Permissions ToPermissions() => Permissions.FromRules(Actions.Select(a =>
    {
        var action = ScopeMapAction.Parse(a);
        return new RepositoryRule(action.Repository, action.Grants, $"scope map {Name}: {a}");
    }));
}

/// <summary>The five scope maps every registry has (reference §3.2, exact names, descriptions and actions).</summary>
public static class SystemScopeMaps
{
    public const string Admin = "_repositories_admin";
    public const string Pull = "_repositories_pull";
    public const string PullMetadataRead = "_repositories_pull_metadata_read";
    public const string Push = "_repositories_push";
    public const string PushMetadataWrite = "_repositories_push_metadata_write";

    /// <summary>Never changes, so one shared creation date; a fixed date keeps listings stable.</summary>
    private static readonly DateTimeOffset Created = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static IReadOnlyList<ScopeMap> All { get; } =
    [
        Create(Admin, "Can perform all read, write and delete operations on the registry",
            "repositories/*/metadata/read", "repositories/*/metadata/write", "repositories/*/content/read",
            "repositories/*/content/write", "repositories/*/content/delete"),
        Create(Pull, "Can pull any repository of the registry", "repositories/*/content/read"),
        Create(PullMetadataRead, "Can perform all read operations on the registry",
            "repositories/*/content/read", "repositories/*/metadata/read"),
        Create(Push, "Can push to any repository of the registry",
            "repositories/*/content/read", "repositories/*/content/write"),
        Create(PushMetadataWrite, "Can perform all read and write operations on the registry",
            "repositories/*/metadata/read", "repositories/*/metadata/write", "repositories/*/content/read",
            "repositories/*/content/write"),
    ];

    /// <summary>ARM resource names are case-insensitive, so lookups are too.</summary>
    public static ScopeMap? GetOrNull(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));

    public static bool IsSystemName(string name) => GetOrNull(name) is not null;

    private static ScopeMap Create(string name, string description, params string[] actions) =>
        new(name, ScopeMapType.SystemDefined, description, actions, Created, 0);
}
