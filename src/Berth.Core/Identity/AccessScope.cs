namespace Berth.Core.Identity;

/// <summary>
/// One <c>type:name:actions</c> entry: a scope a client asks for, a scope a challenge names, or an entry of a
/// token's <c>access</c> claim (docker's <c>ResourceActions</c>).
/// </summary>
public sealed record AccessScope(string Type, string Name, IReadOnlyList<string> Actions)
{
    public static AccessScope Repository(string name, params string[] actions) => new(ScopeNames.Repository, name, actions);

    public static AccessScope Catalog { get; } = new(ScopeNames.Registry, ScopeNames.Catalog, [ScopeNames.Wildcard]);

    /// <summary><c>registry:deleted_catalog:*</c>: list repositories holding soft-deleted content.</summary>
    public static AccessScope DeletedCatalog { get; } = new(ScopeNames.Registry, ScopeNames.DeletedCatalog, [ScopeNames.Wildcard]);

    /// <summary>The wire form used in <c>scope=</c> parameters and challenges, e.g. <c>repository:foo:pull,push</c>.</summary>
    public override string ToString() => $"{Type}:{Name}:{string.Join(',', Actions)}";

    public bool Equals(AccessScope? other) =>
        other is not null && Type == other.Type && Name == other.Name && Actions.SequenceEqual(other.Actions);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Type);
        hash.Add(Name);
        foreach (var action in Actions)
            hash.Add(action);
        return hash.ToHashCode();
    }

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append(ToString());
        return true;
    }
}
