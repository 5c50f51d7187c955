namespace Berth.Core.Identity;

/// <summary>
/// The token-service actions on a repository (reference §1.2). A flags set so that permission checks on the
/// request path are a bit test, not a string search.
/// </summary>
[Flags]
public enum RepositoryActions
{
    None = 0,
    Pull = 1,
    Push = 2,
    Delete = 4,
    MetadataRead = 8,
    MetadataWrite = 16,
    DeletedRead = 32,
    DeletedRestore = 64,
    All = Pull | Push | Delete | MetadataRead | MetadataWrite | DeletedRead | DeletedRestore,
}

/// <summary>The wire strings of scopes: resource types, registry resources and actions.</summary>
public static class ScopeNames
{
    public const string Repository = "repository";
    public const string Registry = "registry";

    /// <summary><c>registry:catalog:*</c>: list repositories.</summary>
    public const string Catalog = "catalog";

    /// <summary><c>registry:deleted_catalog:*</c>: list soft-deleted repositories (admin only).</summary>
    public const string DeletedCatalog = "deleted_catalog";

    public const string Pull = "pull";
    public const string Push = "push";
    public const string Delete = "delete";
    public const string MetadataRead = "metadata_read";
    public const string MetadataWrite = "metadata_write";
    public const string DeletedRead = "deleted_read";
    public const string DeletedRestore = "deleted_restore";

    /// <summary>Every action on a repository; the only action registry-level resources know.</summary>
    public const string Wildcard = "*";

    /// <summary>The action's flag, or <see cref="RepositoryActions.None"/> for an unknown action.</summary>
    public static RepositoryActions ParseRepositoryAction(string action) => action switch
    {
        Pull => RepositoryActions.Pull,
        Push => RepositoryActions.Push,
        Delete => RepositoryActions.Delete,
        MetadataRead => RepositoryActions.MetadataRead,
        MetadataWrite => RepositoryActions.MetadataWrite,
        DeletedRead => RepositoryActions.DeletedRead,
        DeletedRestore => RepositoryActions.DeletedRestore,
        Wildcard => RepositoryActions.All,
        _ => RepositoryActions.None,
    };

    /// <summary>The wire names of the set's actions, in a stable order.</summary>
    public static IReadOnlyList<string> Format(RepositoryActions actions)
    {
        if (actions == RepositoryActions.All)
            return [Wildcard];
        var names = new List<string>(7);
        if (actions.HasFlag(RepositoryActions.Pull)) names.Add(Pull);
        if (actions.HasFlag(RepositoryActions.Push)) names.Add(Push);
        if (actions.HasFlag(RepositoryActions.Delete)) names.Add(Delete);
        if (actions.HasFlag(RepositoryActions.MetadataRead)) names.Add(MetadataRead);
        if (actions.HasFlag(RepositoryActions.MetadataWrite)) names.Add(MetadataWrite);
        if (actions.HasFlag(RepositoryActions.DeletedRead)) names.Add(DeletedRead);
        if (actions.HasFlag(RepositoryActions.DeletedRestore)) names.Add(DeletedRestore);
        return names;
    }
}
